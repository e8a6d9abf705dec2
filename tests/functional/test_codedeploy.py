"""The CodeDeploy engine against the sandbox's CodeDeploy model (``deployer.sandbox.codedeploy``):
deployments that shift the alias on their schedule, run hooks, stop on alarms and roll back as
a second deployment that takes time and can fail. The model runs in real time, scaled:
a scheduled minute is ``seconds_per_minute`` real seconds."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.aws import CodeDeployGateway, Services
from deployer.errors import DeployError
from deployer.github import ConsoleIO
from deployer.model import HandOffToCodeDeploy, Result
from deployer.pipeline import deploy
from deployer.rollout import build_appspec
from deployer.sandbox import REGION, Sandbox
from deployer.sandbox.metrics import Profile
from deployer.settings import load_settings
from tests.conftest import CODEDEPLOY_APP, CODEDEPLOY_GROUP, POST_HOOK, PRE_HOOK, alias_of, create_alarm, create_codedeploy_group

ENGINE = {"engine": "codedeploy", "codedeploy-application": CODEDEPLOY_APP, "codedeploy-group": CODEDEPLOY_GROUP}


def run(workspace: Path, out: io.StringIO | None = None, **inputs: str) -> Result:
    env = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": REGION, "GITHUB_RUN_ID": "77"}
    settings = load_settings({"function-name": "orders", "source": "app", "alias": "live", "health-interval": "1", **inputs}, env)
    return deploy(settings, Services.connect(REGION, 10, poll_delay=0.01), ConsoleIO(out or io.StringIO()))


def events(result: Result) -> list[str]:
    assert result.rollout is not None
    return [e.event for e in result.rollout.timeline]


def test_a_canary_through_codedeploy_shifts_runs_its_hooks_and_succeeds(sandbox: Sandbox, live_v1: Path, lambda_client: Any) -> None:
    seen: list[tuple[str, dict[str, float]]] = []

    def before_each_move() -> None:  # what the alias held just before each of CodeDeploy's moves
        seen.append(alias_of(lambda_client))
        sandbox.fidelity.before("UpdateAlias", before_each_move)  # type: ignore[union-attr]

    sandbox.fidelity.before("UpdateAlias", before_each_move)  # type: ignore[union-attr]
    result = run(
        live_v1, strategy="Canary10Percent5Minutes", **ENGINE, **{"before-traffic-hook": PRE_HOOK, "after-traffic-hook": POST_HOOK}
    )
    assert result.status == "deployed" and result.version == "2"
    assert events(result)[:2] == ["Created", "InProgress"] and events(result)[-1] == "Succeeded"
    assert seen == [("1", {}), ("1", {"2": 0.1})]  # 10% first, then the rest
    assert alias_of(lambda_client) == ("2", {})


def test_an_alarm_stops_the_deployment_and_the_action_waits_for_the_rollback(sandbox: Sandbox, live_v1: Path, lambda_client: Any) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    create_alarm(cloudwatch, "orders-errors")
    sandbox.codedeploy.rollback_seconds = 2.0  # type: ignore[union-attr]
    # The alarm fires once the canary is open: the first weight change is CodeDeploy's.
    sandbox.fidelity.before(  # type: ignore[union-attr]
        "UpdateAlias", lambda: cloudwatch.set_alarm_state(AlarmName="orders-errors", StateValue="ALARM", StateReason="errors")
    )
    out = io.StringIO()
    result = run(live_v1, out, strategy="Canary10Percent30Minutes", alarms="orders-errors", **ENGINE)
    assert result.status == "rolled-back", out.getvalue()
    reason = result.rollout.reason  # type: ignore[union-attr]
    assert "stopped" in reason and "orders-errors" in reason and "wholly on version 1 again" in reason
    assert "rollback Succeeded" in events(result)
    assert alias_of(lambda_client) == ("1", {})
    assert "CodeDeploy rolls back with deployment d-RB" in out.getvalue()


@pytest.mark.parametrize(("answer", "said"), [("Failed", "reported Failed"), (None, "did not report a status in time")])
def test_a_hook_that_fails_or_never_answers_fails_the_deployment(
    sandbox: Sandbox, live_v1: Path, lambda_client: Any, answer: str | None, said: str
) -> None:
    sandbox.codedeploy.hook_answers[PRE_HOOK] = answer  # type: ignore[union-attr]
    sandbox.codedeploy.hook_timeout = 1.0  # type: ignore[union-attr]
    result = run(live_v1, strategy="Canary10Percent5Minutes", **ENGINE, **{"before-traffic-hook": PRE_HOOK})
    assert result.status == "rolled-back"
    assert f"BeforeAllowTraffic hook {PRE_HOOK} {said}" in result.rollout.reason  # type: ignore[union-attr]
    assert alias_of(lambda_client) == ("1", {})


def test_a_rollback_deployment_that_fails_is_not_reported_as_a_rollback_until_the_action_restores_the_alias(
    sandbox: Sandbox, live_v1: Path, lambda_client: Any
) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    create_alarm(cloudwatch, "orders-errors")
    sandbox.codedeploy.fail_rollbacks = True  # type: ignore[union-attr]
    sandbox.fidelity.before(  # type: ignore[union-attr]
        "UpdateAlias", lambda: cloudwatch.set_alarm_state(AlarmName="orders-errors", StateValue="ALARM", StateReason="errors")
    )
    out = io.StringIO()
    result = run(live_v1, out, strategy="Canary10Percent30Minutes", alarms="orders-errors", **ENGINE)
    assert result.status == "rolled-back"
    reason = result.rollout.reason  # type: ignore[union-attr]
    assert "ended Failed" in reason and "lambda-deploy put alias live wholly back on version 1 itself" in reason
    assert "routes 10% to version 2 and the rest to version 1: moving it back" in out.getvalue()
    assert alias_of(lambda_client) == ("1", {})


def test_without_automatic_rollback_the_action_moves_the_alias_back(sandbox: Sandbox, role_arn: str, workspace: Path) -> None:
    sandbox.fidelity.in_progress_reads = 0  # type: ignore[union-attr]
    run(workspace, role=role_arn, runtime="python3.12", handler="handler.handler")
    client = create_codedeploy_group(role_arn, rollback=False)
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v2'\n")
    sandbox.codedeploy.hook_answers[POST_HOOK] = "Failed"  # type: ignore[union-attr]
    out = io.StringIO()
    result = run(workspace, out, strategy="Canary10Percent5Minutes", **ENGINE, **{"after-traffic-hook": POST_HOOK})
    # lambda-deploy's own deployment asks for automatic rollback, so CodeDeploy does roll back.
    assert result.status == "rolled-back" and "does not roll back by itself" in out.getvalue()
    info = client.get_deployment_group(applicationName=CODEDEPLOY_APP, deploymentGroupName=CODEDEPLOY_GROUP)["deploymentGroupInfo"]
    assert info["autoRollbackConfiguration"]["enabled"] is False
    sandbox.fidelity.in_progress_reads = 2  # type: ignore[union-attr]


def test_a_group_on_another_compute_platform_is_refused_before_anything_changes(
    sandbox: Sandbox, role_arn: str, workspace: Path, lambda_client: Any
) -> None:
    sandbox.fidelity.in_progress_reads = 0  # type: ignore[union-attr]
    run(workspace, role=role_arn, runtime="python3.12", handler="handler.handler")
    create_codedeploy_group(role_arn, platform="Server")
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v2'\n")
    with pytest.raises(DeployError, match="is for the 'Server' compute platform, not Lambda; nothing was changed"):
        run(workspace, strategy="AllAtOnce", **ENGINE)
    assert len(lambda_client.list_versions_by_function(FunctionName="orders")["Versions"]) == 2  # $LATEST and 1
    sandbox.fidelity.in_progress_reads = 2  # type: ignore[union-attr]


def test_the_deployment_carries_the_alarms_automatic_rollback_and_the_plain_function_name(live_v1: Path, role_arn: str) -> None:
    client = boto3.client("codedeploy", region_name=REGION)
    gateway = CodeDeployGateway(client)
    arn = f"arn:aws:lambda:{REGION}:123456789012:function:orders"
    step = HandOffToCodeDeploy("live", "1", CODEDEPLOY_APP, CODEDEPLOY_GROUP, "CodeDeployDefault.LambdaAllAtOnce", 0, None, None)
    appspec = build_appspec(arn, step, "1")
    ((name, resource),) = json.loads(appspec)["Resources"][0].items()
    assert name == "orders" and resource["Properties"]["Name"] == "orders"
    captured: list[dict[str, Any]] = []
    client.meta.events.register("provide-client-params.codedeploy.CreateDeployment", lambda params, **_: captured.append(params))
    gateway.create_deployment(CODEDEPLOY_APP, CODEDEPLOY_GROUP, step.config_name, appspec, "note", ("a", "b"))
    (params,) = captured
    assert params["overrideAlarmConfiguration"] == {"enabled": True, "alarms": [{"name": "a"}, {"name": "b"}]}
    assert params["autoRollbackConfiguration"] == {
        "enabled": True,
        "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"],
    }
    with pytest.raises(DeployError, match="reading the CodeDeploy deployment group failed"):
        gateway.group(CODEDEPLOY_APP, "missing")


def test_more_than_10_alarms_is_an_input_error(workspace: Path) -> None:
    alarms = "\n".join(f"alarm-{n}" for n in range(11))
    with pytest.raises(DeployError, match="11 alarms given; a CodeDeploy deployment takes at most 10"):
        load_settings(
            {"function-name": "orders", "alias": "live", "strategy": "AllAtOnce", "alarms": alarms, **ENGINE},
            {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": REGION},
        )


def test_canary_analysis_watches_a_codedeploy_deployment_and_stops_a_slow_version(
    sandbox: Sandbox, live_v1: Path, lambda_client: Any
) -> None:
    sandbox.codedeploy.rollback_seconds = 1.0  # type: ignore[union-attr]
    simulator = sandbox.traffic("orders", "live", rate=200)
    simulator.default(Profile(latency=100.0))
    simulator.profile("2", Profile(latency=400.0))
    out = io.StringIO()
    with simulator:
        result = run(live_v1, out, strategy="Canary10Percent30Minutes", **ENGINE, **{"max-latency-increase": "25%"})
    assert result.status == "rolled-back", out.getvalue()
    rollout = result.rollout
    assert rollout is not None and "p99" in rollout.reason and "limit +25%" in rollout.reason
    measured = [check for check in rollout.analysis if check.canary.latency is not None]
    assert measured and measured[-1].weight == pytest.approx(0.1) and measured[-1].gates[-1].outcome == "fail"
    assert alias_of(lambda_client) == ("1", {})
