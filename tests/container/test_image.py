"""The real image, built with podman and run the way the runner runs a container action.

Skipped with the reason where podman is absent; ``.ci/run`` installs podman, so CI
always builds and exercises the image.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deployer.sandbox import Sandbox
from tests.conftest import ROOT
from tests.container.image import IMAGE, build, podman, podman_env, podman_missing
from tests.e2e.runner import ActionRun, create_inputs, github_env, input_env, log_problems
from tests.unit.test_report import parse_github_output

pytestmark = [pytest.mark.container, pytest.mark.skipif(bool(podman_missing()), reason=podman_missing() or "podman present")]

# The services whose botocore data the Dockerfile keeps; each must still make a client.
KEPT_SERVICES = ("lambda", "sts", "s3", "cloudwatch", "codedeploy", "iam")


@pytest.fixture(scope="module")
def image_env() -> Iterator[dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="lambda-deploy-podman-") as conf_dir:
        env = podman_env(Path(conf_dir))
        built = build(env, ROOT)
        assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
        yield env


def container_command(
    env: dict[str, str], workspace: Path, sandbox: Sandbox, inputs: dict[str, str], *extra: str
) -> tuple[list[str], dict[str, str], Path]:
    """The podman command the runner's equivalent would run, its environment, and the file-command folder."""
    files = workspace.parent / "file_commands"
    files.mkdir(exist_ok=True)
    (files / "output").write_text("")
    (files / "summary").write_text("")
    variables = {
        "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_OUTPUT": "/github/file_commands/output",
        "GITHUB_STEP_SUMMARY": "/github/file_commands/summary",
        "HOME": "/github/home",
        **sandbox.env(),
        **github_env(),
        **input_env(inputs),
    }
    # `-e NAME` copies NAME from podman's own environment, which keeps hyphenated
    # names such as INPUT_FUNCTION-NAME intact, as the runner does.
    flags = [arg for name in variables for arg in ("-e", name)]
    command = [
        "podman", "--runtime", "runc", "run", *extra, "--network", "host",
        "-v", f"{workspace}:/github/workspace", "-v", f"{files}:/github/file_commands",
        "-w", "/github/workspace", *flags, IMAGE,
    ]  # fmt: skip
    return command, {**env, **variables}, files


def finished(files: Path, returncode: int, stdout: str, stderr: str) -> ActionRun:
    outputs = parse_github_output((files / "output").read_text())
    run = ActionRun(returncode, stdout, stderr, outputs, (files / "summary").read_text())
    assert not log_problems(run), log_problems(run)
    return run


def run_container(env: dict[str, str], workspace: Path, sandbox: Sandbox, inputs: dict[str, str]) -> ActionRun:
    command, variables, files = container_command(env, workspace, sandbox, inputs, "--rm")
    done = subprocess.run(command, env=variables, capture_output=True, text=True, timeout=300, check=False)
    return finished(files, done.returncode, done.stdout, done.stderr)


def test_the_image_deploys_like_the_runner_would_run_it(
    image_env: dict[str, str], sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    inputs = create_inputs(role_arn)
    first = run_container(image_env, workspace, sandbox, inputs)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (first.outputs["status"], first.outputs["version"], first.outputs["alias"]) == ("deployed", "1", "live")
    assert "| Version | 1 (new) |" in first.summary
    again = run_container(image_env, workspace, sandbox, inputs)
    assert (again.outputs["status"], again.outputs["changed"]) == ("unchanged", "false")
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "1"


def test_the_image_reports_bad_input_without_a_traceback(image_env: dict[str, str], sandbox: Sandbox, workspace: Path) -> None:
    run = run_container(image_env, workspace, sandbox, {"function-name": "orders", "source": "app", "alias": "live", "memory": "huge"})
    assert run.returncode == 1
    assert any("input 'memory': 'huge' is not a whole number of MB" in line for line in run.errors)
    assert "Traceback" not in run.stdout + run.stderr


def test_the_trimmed_botocore_still_has_every_client_the_action_uses(image_env: dict[str, str]) -> None:
    script = f"import boto3\nfor name in {KEPT_SERVICES!r}:\n    boto3.client(name, region_name='us-east-1')\nprint('ok')"
    done = podman(image_env, "run", "--rm", "--entrypoint", "/opt/venv/bin/python", IMAGE, "-c", script, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    env_has_pip = podman(image_env, "run", "--rm", "--entrypoint", "/opt/venv/bin/python", IMAGE, "-m", "pip", "--version", timeout=120)
    assert env_has_pip.returncode == 0, "the requirements input needs pip inside the image"


def test_stopping_the_container_mid_canary_restores_stable(
    image_env: dict[str, str], sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    """Cancelling a run stops the container (SIGTERM to its PID 1, then SIGKILL)."""
    create = create_inputs(role_arn)
    assert run_container(image_env, workspace, sandbox, create).returncode == 0
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v2'\n")
    name = f"lambda-deploy-cancel-{os.getpid()}"
    canary = {"function-name": "orders", "source": "app", "alias": "live", "strategy": "canary 10% 5m", "health-interval": "1"}
    command, variables, files = container_command(image_env, workspace, sandbox, canary, "--name", name)
    process = subprocess.Popen(command, env=variables, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not lambda_client.get_alias(FunctionName="orders", Name="live").get("RoutingConfig", {}).get("AdditionalVersionWeights"):
            assert time.monotonic() < deadline and process.poll() is None, "the canary never started"
            time.sleep(0.1)
        stopped = time.monotonic()
        podman(image_env, "stop", "--time", "10", name, timeout=60)
        stdout, stderr = process.communicate(timeout=60)
        elapsed = time.monotonic() - stopped
    finally:
        podman(image_env, "rm", "--force", name, timeout=60)
    run = finished(files, process.returncode, stdout, stderr)
    assert run.returncode != 0 and elapsed < 10  # SIGTERM handled: no SIGKILL after the grace period
    assert run.outputs["status"] == "rolled-back"
    alias = lambda_client.get_alias(FunctionName="orders", Name="live")
    assert alias["FunctionVersion"] == "1" and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")


def test_podman_is_not_silently_missing_in_ci() -> None:
    if os.environ.get("CI") == "true":
        assert not podman_missing()
