"""Progressive delivery against moto + the fidelity layer, on an injected clock."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.aws import Services
from deployer.errors import Cancelled, DeployError
from deployer.github import ConsoleIO
from deployer.model import Result
from deployer.pipeline import deploy
from deployer.sandbox import REGION, Sandbox
from deployer.settings import load_settings
from tests.conftest import alias_of, create_alarm
from tests.fakes import FakeClock

ALARM = "orders-errors"


def run(workspace: Path, clock: FakeClock | None = None, services: Services | None = None, **inputs: str) -> Result:
    env = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": REGION, "GITHUB_RUN_ID": "77"}
    settings = load_settings({"function-name": "orders", "source": "app", "alias": "live", **inputs}, env)
    return deploy(settings, services or Services.connect(REGION, 10, poll_delay=0.01), ConsoleIO(io.StringIO()), clock or FakeClock())


@pytest.fixture
def live_v1(sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> Path:
    """orders with alias live on version 1, and a code change waiting in the workspace."""
    first = run(workspace, role=role_arn, runtime="python3.12", handler="handler.handler")
    assert first.version == "1"
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v2'\n")
    return workspace


@pytest.fixture
def cloudwatch(sandbox: Sandbox) -> Any:
    client = boto3.client("cloudwatch", region_name=REGION)
    create_alarm(client, ALARM)
    return client


def events(result: Result) -> list[tuple[float, float, str]]:
    assert result.rollout is not None
    return [(e.at, e.weight, e.event) for e in result.rollout.timeline]


def test_a_healthy_30_minute_canary_completes_in_milliseconds(live_v1: Path, cloudwatch: Any, lambda_client: Any) -> None:
    clock = FakeClock()
    result = run(live_v1, clock, strategy="Canary10Percent30Minutes", alarms=ALARM, **{"health-interval": "60"})
    assert (result.status, result.version, result.rollout.stable, result.rollout.canary) == ("deployed", "2", "1", "2")  # type: ignore[union-attr]
    assert events(result) == [(0, 0.1, "shifted"), (1800, 0.1, "healthy"), (1800, 1.0, "completed")]
    assert clock.t == 1800 and max(clock.sleeps) == 60
    assert alias_of(lambda_client) == ("2", {})


def test_linear_preset_walks_every_step(live_v1: Path, lambda_client: Any) -> None:
    seen: list[dict[str, float]] = []
    clock = FakeClock()
    for minute in range(10):
        clock.at(minute * 60 + 30, lambda: seen.append(alias_of(lambda_client)[1]))
    result = run(live_v1, clock, strategy="Linear10PercentEvery1Minute", **{"health-interval": "30"})
    assert result.status == "deployed"
    assert [round(w["2"], 2) for w in seen[:9]] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert alias_of(lambda_client) == ("2", {})


def test_an_alarm_firing_mid_bake_rolls_back_within_one_interval(live_v1: Path, cloudwatch: Any, lambda_client: Any) -> None:
    clock = FakeClock()
    clock.at(125, lambda: cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="errors"))
    result = run(live_v1, clock, strategy="Canary10Percent30Minutes", alarms=ALARM, **{"health-interval": "10"})
    assert result.status == "rolled-back" and result.failed
    assert result.rollout is not None and f"alarm {ALARM} is in ALARM" in result.rollout.reason
    timeline = events(result)
    assert [e for _, _, e in timeline] == ["shifted", "unhealthy", "rolled back"]
    detected, restored = timeline[1][0], timeline[2][0]
    assert 125 <= detected <= 125 + 10 and restored == detected
    assert alias_of(lambda_client) == ("1", {})
    assert result.version == "1" and result.changed  # version 2 exists, but takes no traffic


def test_the_error_rate_gate_compares_canary_with_stable(live_v1: Path, lambda_client: Any) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)

    def traffic() -> None:
        for version, invocations, errors in (("2", 40, 6), ("1", 400, 2)):
            dims = [
                {"Name": "FunctionName", "Value": "orders"},
                {"Name": "Resource", "Value": "orders:live"},
                {"Name": "ExecutedVersion", "Value": version},
            ]
            cloudwatch.put_metric_data(
                Namespace="AWS/Lambda",
                MetricData=[
                    {"MetricName": "Invocations", "Dimensions": dims, "Value": invocations},
                    {"MetricName": "Errors", "Dimensions": dims, "Value": errors},
                ],
            )

    clock = FakeClock()
    clock.at(30, traffic)
    result = run(live_v1, clock, strategy="canary 10% 5m", **{"max-error-rate": "2%", "health-interval": "10"})
    assert result.status == "rolled-back"
    reason = result.rollout.reason  # type: ignore[union-attr]
    assert "error rate 15.00% is above max-error-rate 2.00%" in reason
    assert "canary 6/40 errors (15.00%) vs stable 2/400 errors (0.50%)" in reason
    assert alias_of(lambda_client) == ("1", {})


def test_too_few_invocations_are_not_judged(live_v1: Path, lambda_client: Any) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    dims = [
        {"Name": "FunctionName", "Value": "orders"},
        {"Name": "Resource", "Value": "orders:live"},
        {"Name": "ExecutedVersion", "Value": "2"},
    ]
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {"MetricName": "Invocations", "Dimensions": dims, "Value": 3},
            {"MetricName": "Errors", "Dimensions": dims, "Value": 3},
        ],
    )
    result = run(live_v1, FakeClock(), strategy="canary 10% 1m", **{"max-error-rate": "2%", "min-invocations": "20"})
    assert result.status == "deployed"
    assert alias_of(lambda_client) == ("2", {})


def test_a_failing_smoke_test_never_touches_the_alias(sandbox: Sandbox, live_v1: Path, lambda_client: Any) -> None:
    sandbox.fidelity.failing_versions.add("2")  # type: ignore[union-attr]
    before = lambda_client.get_alias(FunctionName="orders", Name="live")
    result = run(live_v1, FakeClock(), strategy="canary 10% 5m", **{"smoke-payload": '{"ping": true}'})
    assert result.status == "aborted"
    assert "smoke test failed, so no traffic moved" in result.rollout.reason and "Unhandled" in result.rollout.reason  # type: ignore[union-attr]
    after = lambda_client.get_alias(FunctionName="orders", Name="live")
    assert after["RevisionId"] == before["RevisionId"] and alias_of(lambda_client) == ("1", {})


def test_smoke_expect_must_be_contained_in_the_response(live_v1: Path, lambda_client: Any) -> None:
    # moto without Docker echoes the event, so the response is the payload itself.
    failing = run(live_v1, FakeClock(), **{"smoke-payload": '{"status": "ok", "n": 1}', "smoke-expect": '{"status": "degraded"}'})
    assert failing.status == "aborted" and alias_of(lambda_client) == ("1", {})
    passing = run(live_v1, FakeClock(), **{"smoke-payload": '{"status": "ok", "n": 1}', "smoke-expect": '{"status": "ok"}'})
    assert passing.status == "deployed" and alias_of(lambda_client) == ("2", {})


def test_one_shot_canary_then_promote(live_v1: Path, lambda_client: Any) -> None:
    opened = run(live_v1, FakeClock(), **{"canary-weight": "10%"})
    assert (opened.status, opened.version, opened.rollout.stable, opened.rollout.canary) == ("canary", "1", "1", "2")  # type: ignore[union-attr]
    assert alias_of(lambda_client) == ("1", {"2": 0.1})
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["Description"].startswith("lambda-deploy rollout in progress")
    promoted = run(live_v1, FakeClock(), command="promote")
    assert (promoted.status, promoted.version) == ("promoted", "2")
    assert alias_of(lambda_client) == ("2", {})
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["Description"] == ""


def test_one_shot_canary_then_rollback(live_v1: Path, lambda_client: Any) -> None:
    run(live_v1, FakeClock(), **{"canary-weight": "0.25"})
    rolled = run(live_v1, FakeClock(), command="rollback")
    assert (rolled.status, rolled.version, rolled.rollout.canary) == ("rolled-back", "1", "2")  # type: ignore[union-attr]
    assert alias_of(lambda_client) == ("1", {})


def test_rollback_to_an_explicit_version(live_v1: Path, lambda_client: Any) -> None:
    run(live_v1)
    assert alias_of(lambda_client) == ("2", {})
    rolled = run(live_v1, FakeClock(), command="rollback", **{"to-version": "1"})
    assert rolled.status == "rolled-back" and alias_of(lambda_client) == ("1", {})
    with pytest.raises(DeployError, match="version 9 of function 'orders' does not exist"):
        run(live_v1, FakeClock(), command="rollback", **{"to-version": "9"})


def test_promote_without_a_canary_is_refused(live_v1: Path) -> None:
    with pytest.raises(DeployError, match="cannot promote: no canary is in progress on alias 'live'"):
        run(live_v1, FakeClock(), command="promote")


def test_a_stale_canary_is_refused_with_the_way_out(live_v1: Path, lambda_client: Any) -> None:
    run(live_v1, FakeClock(), **{"canary-weight": "10%"})
    (live_v1 / "app" / "handler.py").write_text("v3 = True\n")
    with pytest.raises(DeployError) as caught:
        run(live_v1, FakeClock(), strategy="canary 10% 1m")
    message = str(caught.value)
    assert "already routes 10% of traffic to version 2 and the rest to version 1" in message
    assert "lambda-deploy rollout in progress: stable 1, canary 2, run 77" in message
    assert "'command: promote'" in message and "'command: rollback'" in message
    assert alias_of(lambda_client) == ("1", {"2": 0.1})
    assert len(lambda_client.list_versions_by_function(FunctionName="orders")["Versions"]) == 3  # $LATEST, 1, 2


def test_someone_else_moving_the_alias_mid_rollout_is_left_alone(live_v1: Path, lambda_client: Any) -> None:
    other = boto3.client("lambda", region_name=REGION)
    clock = FakeClock()
    clock.at(
        60,
        lambda: other.update_alias(FunctionName="orders", Name="live", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {}}),
    )
    result = run(live_v1, clock, strategy="linear 50% 2m", **{"health-interval": "30"})
    assert result.status == "aborted"
    assert "was changed by someone else during the rollout" in result.rollout.reason  # type: ignore[union-attr]
    assert alias_of(lambda_client) == ("1", {})


def test_cancellation_mid_bake_restores_stable(live_v1: Path, lambda_client: Any) -> None:
    def cancel() -> None:
        raise Cancelled("SIGTERM")

    clock = FakeClock()
    clock.at(45, cancel)
    result = run(live_v1, clock, strategy="Canary10Percent5Minutes", **{"health-interval": "10"})
    assert result.status == "rolled-back" and "cancelled" in result.rollout.reason  # type: ignore[union-attr]
    assert alias_of(lambda_client) == ("1", {})


def test_an_unknown_alarm_stops_everything_before_any_change(live_v1: Path, cloudwatch: Any, lambda_client: Any) -> None:
    with pytest.raises(DeployError, match="no CloudWatch alarm named 'orders-latency'"):
        run(live_v1, FakeClock(), strategy="canary 10% 1m", alarms=f"{ALARM}\norders-latency")
    assert len(lambda_client.list_versions_by_function(FunctionName="orders")["Versions"]) == 2
    assert (
        lambda_client.get_function(FunctionName="orders")["Configuration"]["CodeSha256"]
        == lambda_client.get_function_configuration(FunctionName="orders", Qualifier="1")["CodeSha256"]
    )


def test_promote_is_refused_while_an_alarm_fires(live_v1: Path, cloudwatch: Any, lambda_client: Any) -> None:
    run(live_v1, FakeClock(), **{"canary-weight": "10%"})
    cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="errors")
    with pytest.raises(DeployError, match=f"refusing to promote while alarm {ALARM} is in ALARM"):
        run(live_v1, FakeClock(), command="promote", alarms=ALARM)
    assert alias_of(lambda_client) == ("1", {"2": 0.1})


def test_a_dry_run_promote_changes_nothing(live_v1: Path, lambda_client: Any) -> None:
    run(live_v1, FakeClock(), **{"canary-weight": "10%"})
    planned = run(live_v1, FakeClock(), command="promote", **{"dry-run": "true"})
    assert planned.status == "planned"
    assert alias_of(lambda_client) == ("1", {"2": 0.1})


def test_a_deploy_does_not_start_while_an_alarm_already_fires(live_v1: Path, cloudwatch: Any, lambda_client: Any) -> None:
    cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="already bad")
    with pytest.raises(DeployError, match=f"alarm {ALARM} is already in ALARM before anything moved"):
        run(live_v1, FakeClock(), strategy="canary 10% 1m", alarms=ALARM)
    assert len(lambda_client.list_versions_by_function(FunctionName="orders")["Versions"]) == 2
    assert alias_of(lambda_client) == ("1", {})
