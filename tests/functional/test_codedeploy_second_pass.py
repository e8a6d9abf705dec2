"""CodeDeploy, second pass: the service's rules the sandbox now enforces, and the engine that lives by them.

One active deployment per group (checked before anything is published, and again when
CreateDeployment refuses), following that survives errors, an operator's alias change left
alone, a time budget that fits hooks, and what CodeDeploy refuses refused up front.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from deployer.errors import DeployError, GroupBusy
from deployer.sandbox import REGION, Sandbox
from tests.conftest import CODEDEPLOY_APP, CODEDEPLOY_GROUP, POST_HOOK, PRE_HOOK, alias_of, create_alarm
from tests.functional.test_codedeploy import ENGINE, run

APPSPEC = {"version": 0.0, "Resources": [{"orders": {"Type": "AWS::Lambda::Function", "Properties": {"Name": "orders", "Alias": "live"}}}]}


def codedeploy() -> Any:
    return boto3.client("codedeploy", region_name=REGION)


def create(current: str, target: str, config: str = "CodeDeployDefault.LambdaAllAtOnce", **extra: Any) -> str:
    spec = json.loads(json.dumps(APPSPEC))
    spec["Resources"][0]["orders"]["Properties"].update(CurrentVersion=current, TargetVersion=target)
    content = json.dumps(spec)
    revision = {"revisionType": "AppSpecContent", "appSpecContent": {"content": content}}
    return str(
        codedeploy().create_deployment(
            applicationName=CODEDEPLOY_APP, deploymentGroupName=CODEDEPLOY_GROUP, deploymentConfigName=config, revision=revision, **extra
        )["deploymentId"]
    )


def info(deployment: str) -> dict[str, Any]:
    return dict(codedeploy().get_deployment(deploymentId=deployment)["deploymentInfo"])


def wait_for(deployment: str, *statuses: str, seconds: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while (found := info(deployment))["status"] not in statuses:
        assert time.monotonic() < deadline, found
        time.sleep(0.05)
    return found


def versions(lambda_client: Any) -> list[str]:
    return [v["Version"] for v in lambda_client.list_versions_by_function(FunctionName="orders")["Versions"] if v["Version"] != "$LATEST"]


def publish_v2(lambda_client: Any) -> None:
    lambda_client.update_function_code(FunctionName="orders", ZipFile=b"PK\x05\x06" + b"\0" * 18)
    lambda_client.publish_version(FunctionName="orders")


# --- the sandbox refuses what CodeDeploy refuses ------------------------------------


def test_the_sandbox_allows_one_active_deployment_per_group(sandbox: Sandbox, live_v1: Path, lambda_client: Any) -> None:
    publish_v2(lambda_client)
    first = create("1", "2", "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes")
    assert info(first)["status"] in ("Created", "Queued", "InProgress")
    with pytest.raises(codedeploy().exceptions.DeploymentLimitExceededException) as refused:
        create("1", "2")
    assert f"The Deployment Group '{CODEDEPLOY_GROUP}' already has an active Deployment '{first}'" in str(refused.value)
    active = codedeploy().list_deployments(
        applicationName=CODEDEPLOY_APP, deploymentGroupName=CODEDEPLOY_GROUP, includeOnlyStatuses=["Created", "Queued", "InProgress"]
    )["deployments"]
    assert active == [first]
    codedeploy().stop_deployment(deploymentId=first, autoRollbackEnabled=False)
    stopped = wait_for(first, "Stopped")
    assert stopped["errorInformation"]["code"] == "MANUAL_STOP"


@pytest.mark.parametrize(
    ("current", "target", "said"),
    [
        ("2", "3", "The Lambda function alias version does not match the current version in AppSpec file"),
        ("1", "1", "are the same version"),
        ("$LATEST", "2", "cannot be $LATEST"),
    ],
)
def test_the_sandbox_fails_an_appspec_the_alias_contradicts(
    sandbox: Sandbox, live_v1: Path, lambda_client: Any, current: str, target: str, said: str
) -> None:
    publish_v2(lambda_client)
    failed = wait_for(create(current, target), "Failed", "Succeeded")
    assert failed["status"] == "Failed" and failed["errorInformation"]["code"] == "INVALID_LAMBDA_CONFIGURATION"
    assert said in failed["errorInformation"]["message"] and alias_of(lambda_client) == ("1", {})


def test_the_sandbox_goes_through_the_services_statuses_and_names_rollbacks_as_it_does(
    sandbox: Sandbox, live_v1: Path, lambda_client: Any
) -> None:
    publish_v2(lambda_client)
    sandbox.codedeploy.bake_seconds = 0.5  # type: ignore[union-attr]
    sandbox.codedeploy.queue_seconds = 0.3  # type: ignore[union-attr]
    deployment = create("1", "2", "CodeDeployDefault.LambdaCanary10Percent5Minutes")
    seen = []
    while (status := info(deployment)["status"]) != "Succeeded":
        if not seen or seen[-1] != status:
            seen.append(status)
        time.sleep(0.02)
    assert seen == ["Created", "Queued", "InProgress", "Baking"]


def test_an_alarm_override_that_is_off_polls_no_alarm(sandbox: Sandbox, live_v1: Path, lambda_client: Any) -> None:
    publish_v2(lambda_client)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    create_alarm(cloudwatch, "orders-errors")
    cloudwatch.set_alarm_state(AlarmName="orders-errors", StateValue="ALARM", StateReason="firing")
    off = {"enabled": False, "alarms": [{"name": "orders-errors"}]}
    done = wait_for(create("1", "2", overrideAlarmConfiguration=off), "Succeeded", "Stopped", "Failed")
    assert done["status"] == "Succeeded"
    missing = {"enabled": True, "alarms": [{"name": "no-such-alarm"}]}
    stopped = wait_for(
        create("2", "1", "CodeDeployDefault.LambdaCanary10Percent5Minutes", overrideAlarmConfiguration=missing), "Stopped", "Succeeded"
    )
    assert stopped["status"] == "Stopped" and "could not be retrieved" in stopped["errorInformation"]["message"]
    rollback = wait_for(stopped["rollbackInfo"]["rollbackDeploymentId"], "Succeeded", "Failed")
    assert rollback["creator"] == "codeDeployRollback"
    wait_for(create("2", "1", overrideAlarmConfiguration={**missing, "ignorePollAlarmFailure": True}), "Succeeded")


def test_the_sandbox_throttles_what_a_test_asks(sandbox: Sandbox, live_v1: Path) -> None:
    sandbox.codedeploy.throttled["ListDeploymentGroups"] = 1  # type: ignore[union-attr]
    client = boto3.client("codedeploy", region_name=REGION, config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError, match="ThrottlingException"):
        client.list_deployment_groups(applicationName=CODEDEPLOY_APP)
    assert client.list_deployment_groups(applicationName=CODEDEPLOY_APP)["deploymentGroups"] == [CODEDEPLOY_GROUP]


# --- the engine -------------------------------------------------------------------------


def test_a_push_during_an_active_deployment_publishes_nothing_and_names_it(sandbox: Sandbox, live_v1: Path, lambda_client: Any) -> None:
    publish_v2(lambda_client)
    active = create("1", "2", "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes")
    wait_for(active, "InProgress")
    (live_v1 / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v3'\n")
    with pytest.raises(GroupBusy) as refused:
        run(live_v1, strategy="Canary10Percent5Minutes", **ENGINE)
    text = str(refused.value)
    assert (
        f"CodeDeploy deployment {active} (InProgress, https://{REGION}.console.aws.amazon.com/codesuite/codedeploy/deployments/{active}"
        in text
    )
    assert "nothing was published" in text and f"aws deploy stop-deployment --deployment-id {active}" in text
    assert versions(lambda_client) == ["1", "2"]
    for command in ("promote", "rollback"):
        with pytest.raises(DeployError, match=f"refusing to {command} alias 'live' while CodeDeploy deployment {active}"):
            run(live_v1, command=command, strategy="AllAtOnce", **ENGINE)


def test_a_deployment_that_takes_the_group_after_the_preflight_is_said_plainly(sandbox: Sandbox, live_v1: Path, lambda_client: Any) -> None:
    publish_v2(lambda_client)
    taken: list[str] = []
    sandbox.codedeploy.before(
        "CreateDeployment", lambda: taken.append(create("1", "2", "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"))
    )  # type: ignore[union-attr]
    (live_v1 / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v3'\n")
    with pytest.raises(DeployError) as refused:
        run(live_v1, strategy="Canary10Percent5Minutes", **ENGINE)
    assert taken and f"CodeDeploy deployment {taken[0]}" in str(refused.value)
    assert "version 3 is published, and alias 'live' was not moved" in str(refused.value)


def test_following_survives_a_throttled_get_deployment(sandbox: Sandbox, live_v1: Path, lambda_client: Any) -> None:
    # Eleven refusals: more than botocore's five attempts, twice over.
    sandbox.codedeploy.throttled["GetDeployment"] = 11  # type: ignore[union-attr]
    out = io.StringIO()
    result = run(live_v1, out, strategy="Canary10Percent5Minutes", **ENGINE)
    assert result.status == "deployed", out.getvalue()
    assert "trying again in" in out.getvalue() and alias_of(lambda_client) == ("2", {})


def test_a_deployment_that_cannot_be_read_in_time_is_stopped_never_left_unsupervised(
    sandbox: Sandbox, live_v1: Path, lambda_client: Any
) -> None:
    sandbox.codedeploy.throttled["GetDeployment"] = 10**6  # type: ignore[union-attr]
    sandbox.codedeploy.queue_seconds = 15.0  # type: ignore[union-attr]  # still queued when the action gives up on it
    out = io.StringIO()
    result = run(live_v1, out, strategy="AllAtOnce", **ENGINE, **{"wait-timeout": "2"})
    assert result.status == "rolled-back", out.getvalue()
    reason = result.rollout.reason  # type: ignore[union-attr]
    assert "could not be read before time ran out" in reason and "was stopped with automatic rollback" in reason
    sandbox.codedeploy.throttled.clear()  # type: ignore[union-attr]
    deployment = next(line.split()[2] for line in out.getvalue().splitlines() if "CodeDeploy deployment" in line and "created" in line)
    assert wait_for(deployment, "Stopped", "Succeeded", seconds=40)["status"] == "Stopped"  # stopped by the action, as it said
    assert alias_of(lambda_client) == ("1", {})


def test_an_alias_an_operator_set_by_hand_is_left_alone(sandbox: Sandbox, live_v1: Path, lambda_client: Any) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    create_alarm(cloudwatch, "orders-errors")
    sandbox.codedeploy.fail_rollbacks = True  # type: ignore[union-attr]

    def operator_pins_the_alias() -> None:  # just before lambda-deploy's own restore: the last UpdateAlias
        lambda_client.update_alias(
            FunctionName="orders",
            Name="live",
            FunctionVersion="2",
            RoutingConfig={"AdditionalVersionWeights": {}},
            Description="ops: pinned",
        )

    def alarm_then_operator() -> None:  # CodeDeploy opens the canary; the alarm fires; the rollback fails
        cloudwatch.set_alarm_state(AlarmName="orders-errors", StateValue="ALARM", StateReason="errors")
        sandbox.fidelity.before("UpdateAlias", operator_pins_the_alias)  # type: ignore[union-attr]

    sandbox.fidelity.before("UpdateAlias", alarm_then_operator)  # type: ignore[union-attr]
    with pytest.raises(DeployError) as refused:
        run(live_v1, strategy="Canary10Percent30Minutes", alarms="orders-errors", **ENGINE)
    text = str(refused.value)
    assert "someone else changed alias 'live' (its description: 'ops: pinned')" in text and "left their change as it is" in text
    live = lambda_client.get_alias(FunctionName="orders", Name="live")
    assert (live["FunctionVersion"], live["Description"]) == ("2", "ops: pinned")


def test_hooks_that_take_longer_than_wait_timeout_do_not_roll_back_a_healthy_deployment(
    sandbox: Sandbox, live_v1: Path, lambda_client: Any
) -> None:
    sandbox.codedeploy.hook_delays[PRE_HOOK] = 2.5  # type: ignore[union-attr]
    sandbox.codedeploy.hook_delays[POST_HOOK] = 2.5  # type: ignore[union-attr]
    sandbox.codedeploy.hook_timeout = 4.0  # type: ignore[union-attr]  # CodeDeploy's hour per hook, scaled
    out = io.StringIO()
    hooks = {"before-traffic-hook": PRE_HOOK, "after-traffic-hook": POST_HOOK, "wait-timeout": "1"}
    result = run(live_v1, out, strategy="AllAtOnce", **ENGINE, **hooks)
    assert result.status == "deployed", out.getvalue()
    assert "2 hook(s) at up to 1h each" in out.getvalue() and alias_of(lambda_client) == ("2", {})


def test_nothing_to_shift_makes_no_deployment(sandbox: Sandbox, live_v1: Path, lambda_client: Any) -> None:
    (live_v1 / "app" / "handler.py").write_text("def handler(event, context):\n    return {'ok': True}\n")  # version 1's code again
    result = run(live_v1, strategy="Canary10Percent5Minutes", **ENGINE)
    assert result.status == "unchanged" and "CreateDeployment" not in result.calls
    assert codedeploy().list_deployments(applicationName=CODEDEPLOY_APP, deploymentGroupName=CODEDEPLOY_GROUP)["deployments"] == []


def test_an_alias_on_latest_is_refused_before_anything_is_published(sandbox: Sandbox, live_v1: Path, lambda_client: Any) -> None:
    lambda_client.update_alias(FunctionName="orders", Name="live", FunctionVersion="$LATEST")
    with pytest.raises(DeployError, match=r"points at \$LATEST, and CodeDeploy shifts an alias only from a published version"):
        run(live_v1, strategy="AllAtOnce", **ENGINE)
    assert versions(lambda_client) == ["1"]
