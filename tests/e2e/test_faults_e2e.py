"""Faults as the runner sees them: entrypoint.py against a network that drops out.

botocore's real backoff runs here (seconds), so this file keeps to the two cases the
user meets first; ``tests/functional/test_faults.py`` covers every call index.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from typing import Any

from deployer.aws import RETRY_ATTEMPTS
from deployer.sandbox import Sandbox
from tests.e2e.runner import ENTRYPOINT, create_inputs, github_env, prepare, run_action

INPUTS = {"function-name": "orders", "source": "app", "alias": "live"}


def test_the_connection_dropping_while_waiting_on_lambda_is_exit_1_with_the_state_left(
    sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    assert run_action(workspace, sandbox, create_inputs(role_arn)).returncode == 0
    (workspace / "app" / "handler.py").write_text("v = 2\n")
    network = sandbox.network
    assert network is not None
    # Calls 1-3 read the state, 4 uploads the code, 5 is the waiter's first poll.
    network.outage("reset", 5, RETRY_ATTEMPTS)
    run = run_action(workspace, sandbox, INPUTS)
    assert run.returncode == 1, run.stdout
    text = "\n".join(run.errors)
    assert "the connection to AWS was lost while waiting for the update to finish" in text
    assert "stopped at step 1 of 3 (upload code" in text
    assert "$LATEST may hold the new code, uploaded but not published; alias 'live' still points at version 1" in text
    assert "Running the same deploy again compares again and does only what is missing" in text
    assert "Traceback" not in run.stdout + run.stderr
    network.arm({})
    again = run_action(workspace, sandbox, INPUTS)
    assert (again.returncode, again.outputs["status"], again.outputs["version"]) == (0, "deployed", "2"), again.stdout
    assert "UpdateFunctionCode" not in again.summary  # the upload had landed: not sent twice


def test_an_unreachable_endpoint_is_exit_1_before_anything_changes(workspace: Path, role_arn: str, sandbox: Sandbox) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    step = prepare(workspace, sandbox, create_inputs(role_arn), github_env())
    step.env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{closed_port}"
    done = subprocess.run(ENTRYPOINT, cwd=workspace, env=step.env, capture_output=True, text=True, timeout=120, check=False)
    run = step.result(done.returncode, done.stdout, done.stderr)
    assert run.returncode == 1, run.stdout
    assert any("the connection to AWS was lost while reading the function (EndpointConnectionError" in e for e in run.errors)
    assert "Traceback" not in run.stdout + run.stderr
