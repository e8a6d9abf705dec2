"""The real image, built with podman and run the way the runner runs a container action.

Skipped with the reason where podman is absent; ``.ci/run`` installs podman, so CI
always builds and exercises the image.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deployer.package import build_artifact
from deployer.sandbox import Sandbox
from tests.conftest import ROOT
from tests.container.image import IMAGE, build, container_command, podman, podman_env, podman_missing
from tests.e2e.runner import ActionRun, create_inputs, log_problems
from tests.unit.test_package import make_wheel
from tests.unit.test_report import parse_github_output

pytestmark = [pytest.mark.container, pytest.mark.skipif(bool(podman_missing()), reason=podman_missing() or "podman present")]

# Every distribution of pip the image's Python could run, by its metadata folder.
FIND_PIPS = "import importlib.metadata as m\nprint(*{str(d.locate_file('')) for d in m.distributions() if d.metadata['Name'] == 'pip'})"

# The services whose botocore data the Dockerfile keeps; each must still make a client.
KEPT_SERVICES = ("lambda", "sts", "s3", "cloudwatch", "codedeploy", "ecr", "logs", "iam")


@pytest.fixture(scope="module")
def image_env() -> Iterator[dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="lambda-deploy-podman-") as conf_dir:
        env = podman_env(Path(conf_dir))
        built = build(env, ROOT)
        assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
        yield env


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
    done = podman(image_env, "run", "--rm", "--workdir", "/app", "--entrypoint", "python3", IMAGE, "-c", script, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_the_image_has_exactly_one_pip_and_it_vendors_requirements(
    image_env: dict[str, str], sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    """The requirements input runs pip inside the image: the base's pip, the only one there
    (run from /app, where the action's own packages are, so a pip among them is counted too)."""
    pips = podman(image_env, "run", "--rm", "--workdir", "/app", "--entrypoint", "python3", IMAGE, "-c", FIND_PIPS, timeout=120)
    assert pips.returncode == 0 and len(pips.stdout.split()) == 1, pips.stdout + pips.stderr
    wheels = workspace / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "tinydep", "VALUE = 42\n")
    make_wheel(wheels, "fastdep", "FAST = True\n", tag="cp312-cp312-manylinux_2_28_x86_64")  # only AL2023 can run it
    # find-links is relative to the requirements file, so the same file works on the host and in the container.
    (workspace / "requirements.txt").write_text("--no-index\n--find-links wheels\ntinydep==1.0\nfastdep==1.0\n")
    run = run_container(image_env, workspace, sandbox, {**create_inputs(role_arn), "requirements": "requirements.txt"})
    assert run.returncode == 0, run.stdout + run.stderr
    expected = build_artifact(workspace / "app", requirements=workspace / "requirements.txt", runtime="python3.12")
    assert {"tinydep.py", "fastdep.py"} <= set(zipfile.ZipFile(io.BytesIO(expected.zip_bytes)).namelist())
    assert lambda_client.get_function(FunctionName="orders")["Configuration"]["CodeSha256"] == expected.sha256


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
