"""Production traffic rules against the sandbox: weighted-routing rules checked up front,
provisioned concurrency waited for at every stage, reserved concurrency, SnapStart."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from deployer.aws import Services
from deployer.errors import DeployError
from deployer.github import ConsoleIO
from deployer.model import Result
from deployer.pipeline import deploy
from deployer.sandbox import REGION, Sandbox
from deployer.settings import load_settings
from tests.fakes import FakeClock

MUTATING = {"UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion", "UpdateAlias", "CreateAlias"}


def run(workspace: Path, clock: FakeClock | None = None, **inputs: str) -> Result:
    env = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": REGION}
    settings = load_settings({"function-name": "orders", "source": "app", "alias": "live", **inputs}, env)
    return deploy(settings, Services.connect(REGION, 10, poll_delay=0.01), ConsoleIO(io.StringIO()), clock or FakeClock())


@pytest.fixture
def live_v1(sandbox: Sandbox, workspace: Path, role_arn: str) -> Path:
    assert run(workspace, role=role_arn, runtime="python3.12", handler="handler.handler").version == "1"
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v2'\n")
    return workspace


def versions(lambda_client: Any) -> list[str]:
    return [v["Version"] for v in lambda_client.list_versions_by_function(FunctionName="orders")["Versions"] if v["Version"] != "$LATEST"]


@pytest.mark.parametrize("traffic", [{"strategy": "canary 10% 5m"}, {"strategy": "linear 50% 1m"}, {"canary-weight": "10%"}])
def test_a_weighted_rollout_that_changes_the_role_is_refused_before_anything_changes(
    live_v1: Path, role_arn: str, lambda_client: Any, traffic: dict[str, str]
) -> None:
    other = role_arn.replace("deploy-test", "orders-v2")
    with pytest.raises(DeployError) as caught:
        run(live_v1, role=other, **traffic)
    message = str(caught.value)
    assert f"the execution role changes ({role_arn} → {other})" in message
    assert "ship this change all at once first (strategy: all-at-once" in message and "nothing was changed" in message
    assert versions(lambda_client) == ["1"]
    assert lambda_client.get_function_configuration(FunctionName="orders")["Role"] == role_arn
    # The way forward the message names works: the role all at once, then a canary.
    assert run(live_v1, role=other).version == "2"
    (live_v1 / "app" / "handler.py").write_text("v = 3\n")
    assert run(live_v1, **traffic).rollout is not None


def test_a_dead_letter_queue_set_by_hand_on_latest_is_caught_too(live_v1: Path, lambda_client: Any) -> None:
    lambda_client.update_function_configuration(
        FunctionName="orders", DeadLetterConfig={"TargetArn": "arn:aws:sqs:us-east-1:123456789012:dlq"}
    )
    with pytest.raises(DeployError, match=r"the dead-letter queue changes \(none → arn:aws:sqs:us-east-1:123456789012:dlq\)"):
        run(live_v1, strategy="canary 10% 5m")
    assert versions(lambda_client) == ["1"]


def test_a_rollout_waits_for_warm_environments_at_every_stage(live_v1: Path, lambda_client: Any) -> None:
    result = run(live_v1, FakeClock(), strategy="linear 50% 1m", **{"provisioned-concurrency": "4", "health-interval": "30"})
    assert result.status == "deployed" and result.version == "2"
    events = [(e.weight, e.event) for e in result.rollout.timeline]  # type: ignore[union-attr]
    assert events == [(0.5, "shifted"), (0.5, "warm"), (0.5, "healthy"), (1.0, "completed")]
    steps = [type(s).__name__ for s in result.plan.steps]
    assert steps.index("SetProvisionedConcurrency") < steps.index("ShiftTraffic")
    config = lambda_client.get_provisioned_concurrency_config(FunctionName="orders", Qualifier="live")
    assert config["RequestedProvisionedConcurrentExecutions"] == 4
    # one wait for the new setting, one after the 50% shift; each polls until READY
    assert result.calls["GetProvisionedConcurrencyConfig"] >= 2 * 3


def test_provisioned_concurrency_failing_rolls_the_canary_back(sandbox: Sandbox, live_v1: Path, lambda_client: Any) -> None:
    run(live_v1.parent / live_v1.name, **{"provisioned-concurrency": "2"})  # warm already, on version 2
    (live_v1 / "app" / "handler.py").write_text("v = 3\n")
    sandbox.fidelity.before("UpdateAlias", lambda: setattr(sandbox.fidelity, "provisioned_failure", "not enough unreserved concurrency"))  # type: ignore[union-attr]
    result = run(live_v1, strategy="canary 10% 5m")
    assert result.status == "rolled-back"
    assert "provisioned concurrency could not be allocated" in result.rollout.reason  # type: ignore[union-attr]
    assert "not enough unreserved concurrency" in result.rollout.reason  # type: ignore[union-attr]
    alias = lambda_client.get_alias(FunctionName="orders", Name="live")
    assert alias["FunctionVersion"] == "2" and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")


def test_reserved_concurrency_is_set_changed_and_removed_only_when_it_differs(live_v1: Path, lambda_client: Any) -> None:
    def reserved() -> Any:
        return lambda_client.get_function(FunctionName="orders").get("Concurrency", {}).get("ReservedConcurrentExecutions")

    first = run(live_v1, **{"reserved-concurrency": "10"})
    assert reserved() == 10 and first.calls["PutFunctionConcurrency"] == 1
    same = run(live_v1, **{"reserved-concurrency": "10"})
    assert same.status == "unchanged" and "PutFunctionConcurrency" not in same.calls
    changed = run(live_v1, **{"reserved-concurrency": "25"})
    assert reserved() == 25 and [c.describe() for c in changed.plan.steps if "reserved" in c.describe()] == [
        "set the reserved concurrency: 10 → 25"
    ]
    assert changed.status == "deployed" and not {"PublishVersion", "UpdateAlias"} & set(changed.calls)  # it creates no version
    removed = run(live_v1, **{"reserved-concurrency": "none"})
    assert reserved() is None and removed.calls["DeleteFunctionConcurrency"] == 1
    assert "DeleteFunctionConcurrency" not in run(live_v1, **{"reserved-concurrency": "none"}).calls


def test_snapstart_is_refused_for_a_runtime_without_it(live_v1: Path, lambda_client: Any) -> None:
    assert run(live_v1, runtime="python3.11").version == "2"  # production now runs python3.11
    with pytest.raises(DeployError, match=r"SnapStart does not support runtime 'python3.11'; it supports .*python3.12"):
        run(live_v1, snapstart="true")
    assert versions(lambda_client) == ["1", "2"]


def test_snapstart_is_a_setting_and_the_version_waits_for_its_snapshot(live_v1: Path, lambda_client: Any) -> None:
    result = run(live_v1, snapstart="true")
    assert [c.describe() for c in result.plan.changes] == ["snapstart: off → on"]
    version = lambda_client.get_function_configuration(FunctionName="orders", Qualifier=result.version)
    assert version["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    assert result.calls["GetFunctionConfiguration"] >= 3  # the published-version waiter polled through Pending
    assert run(live_v1, snapstart="true").status == "unchanged"


def test_blue_green_keeps_the_version_being_left_one_alias_away(live_v1: Path, lambda_client: Any) -> None:
    result = run(live_v1, **{"previous-alias": "previous"})
    assert (result.version, result.previous_alias) == ("2", ("previous", "1"))
    assert lambda_client.get_alias(FunctionName="orders", Name="previous")["FunctionVersion"] == "1"
    steps = [type(s).__name__ for s in result.plan.steps]
    assert steps.index("PointPreviousAlias") < steps.index("PointAlias")
    (live_v1 / "app" / "handler.py").write_text("v = 3\n")
    moved = run(live_v1, **{"previous-alias": "previous"})
    assert (
        moved.previous_alias == ("previous", "2")
        and lambda_client.get_alias(FunctionName="orders", Name="previous")["FunctionVersion"] == "2"
    )
    back = run(live_v1, command="rollback", **{"to-version": "previous"})
    assert (back.status, back.version) == ("rolled-back", "2") and back.calls["UpdateAlias"] == 1
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "2"
