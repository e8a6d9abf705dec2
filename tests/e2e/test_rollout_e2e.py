"""A seconds-long canary run as the runner runs it: a gate failure and a SIGTERM mid-bake."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.sandbox import REGION, Sandbox
from tests.conftest import create_alarm
from tests.e2e.runner import create_inputs, run_action, start_action

ALARM = "orders-errors"


@pytest.fixture
def live_v1(sandbox: Sandbox, workspace: Path, role_arn: str) -> Path:
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]
    first = run_action(
        workspace,
        sandbox,
        create_inputs(role_arn),
    )
    assert first.returncode == 0, first.stdout
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v2'\n")
    yield workspace  # type: ignore[misc]
    sandbox.fidelity.in_progress_reads = 2  # type: ignore[union-attr]


@pytest.fixture
def cloudwatch(sandbox: Sandbox) -> Any:
    client = boto3.client("cloudwatch", region_name=REGION)
    create_alarm(client, ALARM)
    return client


def weights(lambda_client: Any) -> dict[str, float]:
    alias = lambda_client.get_alias(FunctionName="orders", Name="live")
    return dict((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights", {}))


def wait_until(condition: Any, seconds: float = 60) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "timed out"
        time.sleep(0.05)
    return time.monotonic()


CANARY = {
    "function-name": "orders",
    "source": "app",
    "alias": "live",
    "strategy": "canary 10% 60s",
    "alarms": ALARM,
    "health-interval": "1",
}


def test_an_alarm_mid_bake_rolls_the_canary_back(live_v1: Path, sandbox: Sandbox, cloudwatch: Any, lambda_client: Any) -> None:
    process, step = start_action(live_v1, sandbox, CANARY)
    wait_until(lambda: weights(lambda_client) == {"2": 0.1})
    flipped = time.monotonic()
    cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="errors spiked")
    restored = wait_until(lambda: not weights(lambda_client), seconds=30)
    stdout, stderr = process.communicate(timeout=60)
    run = step.result(process.returncode, stdout, stderr)
    assert run.returncode == 1
    assert (run.outputs["status"], run.outputs["version"], run.outputs["stable-version"], run.outputs["canary-version"]) == (
        "rolled-back",
        "1",
        "1",
        "2",
    )
    assert any(f"alarm {ALARM} is in ALARM" in line for line in run.errors)
    assert f"alarm {ALARM} is in ALARM" in run.summary and "```mermaid" in run.summary
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "1"
    assert restored - flipped < 1 + 2  # within one health-interval, plus the request time
    print(f"\ne2e: alarm flipped -> alias restored in {restored - flipped:.2f}s (health-interval 1s)")


def test_sigterm_mid_bake_restores_stable_and_writes_outputs(live_v1: Path, sandbox: Sandbox, lambda_client: Any) -> None:
    process, step = start_action(live_v1, sandbox, {**CANARY, "alarms": ""})
    wait_until(lambda: weights(lambda_client) == {"2": 0.1})
    time.sleep(0.5)  # well inside the bake
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    exited = time.monotonic()
    run = step.result(process.returncode, stdout, stderr)
    assert run.returncode != 0
    assert exited - sent < 5
    assert run.outputs["status"] == "rolled-back"
    assert "cancelled" in run.summary
    assert weights(lambda_client) == {}
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "1"
    assert "Traceback" not in stdout + stderr
    print(f"\ne2e: SIGTERM -> alias restored and process exited in {exited - sent:.2f}s")


def test_a_killed_runner_leaves_a_trace_the_next_run_explains(live_v1: Path, sandbox: Sandbox, lambda_client: Any) -> None:
    process, _step = start_action(live_v1, sandbox, {**CANARY, "alarms": ""})
    wait_until(lambda: weights(lambda_client) == {"2": 0.1})
    process.kill()  # SIGKILL: no chance to clean up
    process.communicate(timeout=30)
    (live_v1 / "app" / "handler.py").write_text("v3 = True\n")
    nxt = run_action(live_v1, sandbox, {**CANARY, "alarms": ""})
    assert nxt.returncode == 1
    text = " ".join(nxt.errors)
    assert "already routes 10% of traffic to version 2 and the rest to version 1" in text
    assert "lambda-deploy rollout in progress: stable 1, canary 2" in text
    assert "command: promote" in text and "command: rollback" in text
    rolled = run_action(live_v1, sandbox, {"function-name": "orders", "alias": "live", "command": "rollback"})
    assert rolled.returncode == 0 and rolled.outputs["status"] == "rolled-back"
    assert weights(lambda_client) == {}


BASE = {"function-name": "orders", "source": "app", "alias": "live"}


def test_one_shot_canary_then_promote_through_the_entrypoint(live_v1: Path, sandbox: Sandbox, lambda_client: Any) -> None:
    opened = run_action(live_v1, sandbox, {**BASE, "canary-weight": "10%", "smoke-payload": '{"ping": 1}', "smoke-expect": '{"ping": 1}'})
    assert opened.returncode == 0, opened.stdout
    assert (opened.outputs["status"], opened.outputs["stable-version"], opened.outputs["canary-version"]) == ("canary", "1", "2")
    assert weights(lambda_client) == {"2": 0.1}
    promoted = run_action(live_v1, sandbox, {**BASE, "command": "promote"})
    assert promoted.returncode == 0, promoted.stdout
    assert (promoted.outputs["status"], promoted.outputs["version"]) == ("promoted", "2")
    assert weights(lambda_client) == {}
    back = run_action(live_v1, sandbox, {**BASE, "command": "rollback", "to-version": "1"})
    assert (back.returncode, back.outputs["status"], back.outputs["version"]) == (0, "rolled-back", "1")


def test_error_rate_gate_inputs_through_the_entrypoint(live_v1: Path, sandbox: Sandbox, lambda_client: Any) -> None:
    # No traffic at all: below min-invocations nothing is judged, and the canary completes.
    run = run_action(
        live_v1, sandbox, {**BASE, "strategy": "canary 10% 2s", "health-interval": "1", "max-error-rate": "1%", "min-invocations": "5"}
    )
    assert run.returncode == 0, run.stdout
    assert run.outputs["status"] == "deployed" and "canary 0/0 errors (0.00%) vs stable 0/0 errors (0.00%)" in run.stdout
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "2"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"canary-weight": "150%"}, "input 'canary-weight': '150%' is 150% of the traffic, which is not a canary"),
        ({"strategy": "Canary99Percent1Minute"}, "is not a known strategy. Valid forms:"),
        ({"strategy": "canary 10% later"}, "'later' is not a duration"),
        ({"smoke-payload": "{oops"}, "input 'smoke-payload': is not valid JSON"),
        ({"engine": "codedeploy", "strategy": "AllAtOnce"}, "input 'codedeploy-application': is required with engine: codedeploy"),
        (
            {
                "engine": "codedeploy",
                "strategy": "AllAtOnce",
                "codedeploy-application": "app",
                "codedeploy-group": "nope",
                "before-traffic-hook": "pre",
                "after-traffic-hook": "post",
            },
            "reading the CodeDeploy deployment group failed",
        ),
        ({"alarms": "no-such-alarm"}, "no CloudWatch alarm named 'no-such-alarm'"),
        ({"command": "promote"}, "cannot promote: no canary is in progress on alias 'live'"),
        ({"command": "rollback", "to-version": "99"}, "version 99 of function 'orders' does not exist"),
    ],
)
def test_bad_rollout_input_changes_nothing(live_v1: Path, sandbox: Sandbox, lambda_client: Any, bad: dict[str, str], message: str) -> None:
    before = lambda_client.get_alias(FunctionName="orders", Name="live")
    run = run_action(live_v1, sandbox, {**BASE, **bad})
    assert run.returncode == 1
    assert any(message in line for line in run.errors), run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    after = lambda_client.get_alias(FunctionName="orders", Name="live")
    assert after["RevisionId"] == before["RevisionId"]
    assert len(lambda_client.list_versions_by_function(FunctionName="orders")["Versions"]) == 2  # $LATEST and 1
