"""engine: codedeploy as the runner runs it, against the sandbox's CodeDeploy model.

The model shifts the alias on the deployment configuration's schedule (a scheduled minute is
0.2 s here), invokes the hooks and waits for their status, stops on an alarm, and rolls back
as a second deployment that takes time and can fail. The action must report only what the
alias really holds when it exits.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.sandbox import REGION, Sandbox
from tests.conftest import CODEDEPLOY_APP, CODEDEPLOY_GROUP, PRE_HOOK, alias_of, create_alarm, create_codedeploy_group
from tests.e2e.runner import ActionRun, create_inputs, run_action, start_action

ALARM = "orders-errors"
ENGINE = {
    "function-name": "orders",
    "source": "app",
    "alias": "live",
    "engine": "codedeploy",
    "codedeploy-application": CODEDEPLOY_APP,
    "codedeploy-group": CODEDEPLOY_GROUP,
    "health-interval": "1",
}


@pytest.fixture
def live_v1(sandbox: Sandbox, workspace: Path, role_arn: str) -> Path:
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]
    assert run_action(workspace, sandbox, create_inputs(role_arn)).returncode == 0
    create_codedeploy_group(role_arn)
    create_alarm(boto3.client("cloudwatch", region_name=REGION), ALARM)
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v2'\n")
    yield workspace  # type: ignore[misc]
    sandbox.fidelity.in_progress_reads = 2  # type: ignore[union-attr]


def wait_until(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def fire_on_canary(sandbox: Sandbox) -> None:
    """The alarm goes off as CodeDeploy opens the canary (its first move of the alias)."""
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    sandbox.fidelity.before(  # type: ignore[union-attr]
        "UpdateAlias", lambda: cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="errors")
    )


def reason(run: ActionRun) -> str:
    return "\n".join(run.errors)


def test_success(live_v1: Path, sandbox: Sandbox, lambda_client: Any) -> None:
    run = run_action(live_v1, sandbox, {**ENGINE, "strategy": "Canary10Percent5Minutes", "before-traffic-hook": PRE_HOOK})
    assert run.returncode == 0, run.stdout
    assert (run.outputs["status"], run.outputs["version"]) == ("deployed", "2")
    assert alias_of(lambda_client) == ("2", {})
    assert "CodeDeploy deployment " in run.stdout and "Succeeded" in run.summary


def test_an_alarm_then_the_rollback_deployment_the_action_waits_for(live_v1: Path, sandbox: Sandbox, lambda_client: Any) -> None:
    sandbox.codedeploy.rollback_seconds = 2.0  # type: ignore[union-attr]
    fire_on_canary(sandbox)
    run = run_action(live_v1, sandbox, {**ENGINE, "strategy": "Canary10Percent30Minutes", "alarms": ALARM})
    assert run.returncode == 1 and run.outputs["status"] == "rolled-back"
    assert "ALARM" in reason(run) or ALARM in reason(run)
    assert "CodeDeploy rolls back with deployment d-RB" in run.stdout
    assert "wholly on version 1 again" in reason(run)
    assert alias_of(lambda_client) == ("1", {})  # restored before the action exited, by CodeDeploy


@pytest.mark.parametrize(("answer", "said"), [("Failed", "reported Failed"), (None, "did not report a status in time")])
def test_a_hook_that_reports_failed_or_never_reports(
    live_v1: Path, sandbox: Sandbox, lambda_client: Any, answer: str | None, said: str
) -> None:
    sandbox.codedeploy.hook_answers[PRE_HOOK] = answer  # type: ignore[union-attr]
    sandbox.codedeploy.hook_timeout = 1.5  # type: ignore[union-attr]
    run = run_action(live_v1, sandbox, {**ENGINE, "strategy": "Canary10Percent5Minutes", "before-traffic-hook": PRE_HOOK})
    assert run.returncode == 1 and run.outputs["status"] == "rolled-back"
    assert f"hook {PRE_HOOK} {said}" in reason(run)
    assert alias_of(lambda_client) == ("1", {})


def test_sigterm_mid_shift_stops_the_deployment_and_reports_truthfully(live_v1: Path, sandbox: Sandbox, lambda_client: Any) -> None:
    sandbox.codedeploy.rollback_seconds = 1.0  # type: ignore[union-attr]
    process, step = start_action(live_v1, sandbox, {**ENGINE, "strategy": "Canary10Percent30Minutes"})
    wait_until(lambda: alias_of(lambda_client)[1] == {"2": 0.1})
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    run = step.result(process.returncode, stdout, stderr)
    assert run.returncode == 1 and run.outputs["status"] == "rolled-back", run.stdout
    assert "the run was cancelled; CodeDeploy deployment" in reason(run)
    assert alias_of(lambda_client) == ("1", {})


def test_a_rollback_deployment_that_fails(live_v1: Path, sandbox: Sandbox, lambda_client: Any) -> None:
    sandbox.codedeploy.fail_rollbacks = True  # type: ignore[union-attr]
    fire_on_canary(sandbox)
    run = run_action(live_v1, sandbox, {**ENGINE, "strategy": "Canary10Percent30Minutes", "alarms": ALARM})
    assert run.returncode == 1 and run.outputs["status"] == "rolled-back"
    assert "ended Failed" in reason(run) and "lambda-deploy put alias live wholly back on version 1 itself" in reason(run)
    assert alias_of(lambda_client) == ("1", {})


def test_a_group_on_another_compute_platform(sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]
    assert run_action(workspace, sandbox, create_inputs(role_arn)).returncode == 0
    create_codedeploy_group(role_arn, platform="Server")
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v2'\n")
    run = run_action(workspace, sandbox, {**ENGINE, "strategy": "AllAtOnce"})
    assert run.returncode == 1
    assert "is for the 'Server' compute platform, not Lambda; nothing was changed" in reason(run)
    assert [v["Version"] for v in lambda_client.list_versions_by_function(FunctionName="orders")["Versions"]] == ["$LATEST", "1"]


def test_a_hook_not_named_for_the_managed_role_and_a_group_without_rollback_are_warned_about(
    sandbox: Sandbox, workspace: Path, role_arn: str
) -> None:
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]
    assert run_action(workspace, sandbox, create_inputs(role_arn)).returncode == 0
    create_codedeploy_group(role_arn, rollback=False)
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="orders-pretraffic", Runtime="python3.12", Role=role_arn, Handler="h.h", Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18}
    )
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v2'\n")
    run = run_action(workspace, sandbox, {**ENGINE, "strategy": "AllAtOnce", "before-traffic-hook": "orders-pretraffic"})
    warnings = [c.data for c in run.commands if c.name == "warning"]
    assert any("does not start with CodeDeployHook_" in w for w in warnings), warnings
    assert any("does not roll back by itself" in w for w in warnings), warnings


def test_a_second_process_during_an_active_deployment_publishes_nothing_and_names_it(
    live_v1: Path, sandbox: Sandbox, lambda_client: Any
) -> None:
    first, step = start_action(live_v1, sandbox, {**ENGINE, "strategy": "Canary10Percent30Minutes"})
    wait_until(lambda: alias_of(lambda_client)[1] == {"2": 0.1})  # CodeDeploy has opened the first one's canary
    (live_v1 / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v3, pushed meanwhile'\n")
    second = run_action(live_v1, sandbox, {**ENGINE, "strategy": "Canary10Percent5Minutes"})
    assert second.returncode == 1
    (error,) = second.errors
    active = boto3.client("codedeploy", region_name=REGION).list_deployments(
        applicationName=CODEDEPLOY_APP, deploymentGroupName=CODEDEPLOY_GROUP, includeOnlyStatuses=["InProgress"]
    )["deployments"]
    assert len(active) == 1 and f"CodeDeploy deployment {active[0]} (InProgress" in error and "console.aws.amazon.com" in error
    assert "nothing was published" in error and "aws deploy stop-deployment" in error
    assert "PublishVersion" not in second.calls and "CreateDeployment" not in second.calls
    versions = [v["Version"] for v in lambda_client.list_versions_by_function(FunctionName="orders")["Versions"]]
    assert versions == ["$LATEST", "1", "2"]
    first.send_signal(signal.SIGTERM)  # the first one ends as a cancelled one does: stopped, rolled back
    stdout, stderr = first.communicate(timeout=60)
    assert step.result(first.returncode, stdout, stderr).outputs["status"] == "rolled-back"
