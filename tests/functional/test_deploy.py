"""The pipeline and executor against moto + the fidelity layer (see deployer/sandbox)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.aws import LambdaGateway, Services, client_config
from deployer.errors import ConflictError, DeployError
from deployer.github import ConsoleIO
from deployer.model import Result
from deployer.pipeline import deploy
from deployer.sandbox import REGION, Sandbox
from deployer.settings import load_settings

MUTATING = {
    "CreateFunction",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "PublishVersion",
    "CreateAlias",
    "UpdateAlias",
    "TagResource",
}


def gateway() -> LambdaGateway:
    client = boto3.client("lambda", region_name=REGION, config=client_config())
    return LambdaGateway(client, wait_timeout=10, poll_delay=0.01)


def services() -> Services:
    return Services.connect(REGION, wait_timeout=10, poll_delay=0.01)


def run(workspace: Path, **inputs: str) -> Result:
    env = {
        "GITHUB_WORKSPACE": str(workspace),
        "AWS_REGION": REGION,
        "GITHUB_SHA": "cafe" * 10,
        "GITHUB_REF_NAME": "main",
        "GITHUB_RUN_ID": "7",
        "GITHUB_ACTOR": "octo",
    }
    settings = load_settings({"function-name": "orders", "source": "app", "alias": "live", **inputs}, env)
    return deploy(settings, services(), ConsoleIO(io.StringIO()))


@pytest.fixture
def create_inputs(role_arn: str) -> dict[str, str]:
    return {"role": role_arn, "runtime": "python3.12", "handler": "handler.handler"}


def versions(lambda_client: Any) -> list[str]:
    return [v["Version"] for v in lambda_client.list_versions_by_function(FunctionName="orders")["Versions"] if v["Version"] != "$LATEST"]


def test_create_then_unchanged_then_changed(sandbox: Sandbox, workspace: Path, create_inputs: dict[str, str], lambda_client: Any) -> None:
    first = run(workspace, **create_inputs, environment="STAGE=prod", tags="team=payments")
    assert (first.status, first.version, first.previous_version, first.changed) == ("deployed", "1", "", True)
    assert first.function_arn.endswith(":function:orders") and first.alias_arn.endswith(":orders:live")
    # the waiters really waited: the fidelity layer reported Pending first
    assert first.calls["GetFunction"] >= 2

    second = run(workspace, **create_inputs)
    assert (second.status, second.version, second.previous_version, second.changed) == ("unchanged", "1", "1", False)
    assert not set(second.calls) & MUTATING
    assert versions(lambda_client) == ["1"]

    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 2\n")
    third = run(workspace, **create_inputs)
    assert (third.status, third.version, third.previous_version, third.changed) == ("deployed", "2", "1", True)
    assert third.calls["UpdateFunctionCode"] == 1 and third.calls["PublishVersion"] == 1 and third.calls["UpdateAlias"] == 1
    assert "UpdateFunctionConfiguration" not in third.calls
    assert versions(lambda_client) == ["1", "2"]
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "2"
    assert lambda_client.get_function(FunctionName="orders")["Configuration"]["CodeSha256"] == third.code_sha256


def test_audit_trail(sandbox: Sandbox, workspace: Path, create_inputs: dict[str, str], lambda_client: Any) -> None:
    run(workspace, **create_inputs, tags="team=payments")
    version = lambda_client.get_function_configuration(FunctionName="orders", Qualifier="1")
    assert version["Description"] == "lambda-deploy commit cafecafecafe ref main run 7 by octo"
    tags = lambda_client.get_function(FunctionName="orders")["Tags"]
    assert tags["team"] == "payments" and tags["lambda-deploy:commit"] == "cafe" * 10 and tags["lambda-deploy:actor"] == "octo"


def test_environment_merge_keeps_unlisted_keys_and_replace_drops_them(
    sandbox: Sandbox, workspace: Path, create_inputs: dict[str, str], lambda_client: Any
) -> None:
    run(workspace, **create_inputs, environment="KEEP=1\nCHANGE=old")
    merged = run(workspace, environment="CHANGE=new\nADDED=x")
    assert merged.version == "2"
    variables = lambda_client.get_function_configuration(FunctionName="orders")["Environment"]["Variables"]
    assert variables == {"KEEP": "1", "CHANGE": "new", "ADDED": "x"}
    run(workspace, environment="ONLY=1", **{"environment-mode": "replace"})
    assert lambda_client.get_function_configuration(FunctionName="orders")["Environment"]["Variables"] == {"ONLY": "1"}


def test_only_differing_configuration_is_sent(sandbox: Sandbox, workspace: Path, create_inputs: dict[str, str], lambda_client: Any) -> None:
    run(workspace, **create_inputs, memory="256")
    same = run(workspace, memory="256", timeout="3")
    assert same.status == "unchanged" and "UpdateFunctionConfiguration" not in same.calls
    changed = run(workspace, memory="512")
    assert changed.calls["UpdateFunctionConfiguration"] == 1 and "UpdateFunctionCode" not in changed.calls
    assert [c.describe() for c in changed.plan.changes] == ["memory: 256 → 512"]
    assert lambda_client.get_function_configuration(FunctionName="orders", Qualifier="2")["MemorySize"] == 512


def test_dry_run_makes_no_mutating_call(sandbox: Sandbox, workspace: Path, create_inputs: dict[str, str], lambda_client: Any) -> None:
    run(workspace, **create_inputs)
    (workspace / "app" / "handler.py").write_text("changed = True\n")
    planned = run(workspace, memory="1024", environment="NEW_KEY=1", **{"dry-run": "true"})
    assert planned.status == "planned" and not planned.changed and planned.version == "(new)"
    assert not set(planned.calls) & MUTATING
    assert [type(s).__name__ for s in planned.plan.steps] == ["UpdateCode", "UpdateConfiguration", "PublishVersion", "PointAlias"]
    assert versions(lambda_client) == ["1"]
    assert lambda_client.get_function_configuration(FunctionName="orders")["MemorySize"] == 128


def test_dry_run_of_a_new_function_touches_nothing(
    sandbox: Sandbox, workspace: Path, create_inputs: dict[str, str], lambda_client: Any
) -> None:
    planned = run(workspace, **create_inputs, **{"dry-run": "true"})
    assert [type(s).__name__ for s in planned.plan.steps] == ["CreateFunction", "PublishVersion", "PointAlias"]
    assert not set(planned.calls) & MUTATING
    assert lambda_client.list_functions()["Functions"] == []


def test_a_conflicting_update_is_waited_out_and_retried(
    sandbox: Sandbox, workspace: Path, create_inputs: dict[str, str], lambda_client: Any
) -> None:
    run(workspace, **create_inputs)
    lambda_client.update_function_configuration(FunctionName="orders", Timeout=20)  # now InProgress
    aws = gateway()
    aws.update_configuration("orders", {"MemorySize": 256}, revision_id="")
    assert ("UpdateFunctionConfiguration", "ResourceConflictException") in sandbox.fidelity.refusals  # type: ignore[union-attr]
    assert aws.calls.counts["UpdateFunctionConfiguration"] == 2
    assert lambda_client.get_function_configuration(FunctionName="orders")["MemorySize"] == 256


def test_a_concurrent_change_before_publish_publishes_nothing(
    sandbox: Sandbox, workspace: Path, create_inputs: dict[str, str], lambda_client: Any
) -> None:
    run(workspace, **create_inputs)
    (workspace / "app" / "handler.py").write_text("mine = True\n")
    other = boto3.client("lambda", region_name=REGION)

    def another_deploy() -> None:
        other.update_function_code(FunctionName="orders", ZipFile=b"PK\x05\x06" + b"\0" * 18)

    sandbox.fidelity.before("PublishVersion", another_deploy)  # type: ignore[union-attr]
    with pytest.raises(ConflictError) as caught:
        run(workspace)
    message = str(caught.value)
    assert "nothing of ours was published" in message and "alias 'live' was left as it was" in message
    # Lambda's answer was the CodeSha256 guard's plain 400, recognised by its message.
    assert ("PublishVersion", "InvalidParameterValueException") in sandbox.fidelity.refusals  # type: ignore[union-attr]
    assert versions(lambda_client) == ["1"]
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "1"


def test_a_published_version_that_does_not_hold_our_code_moves_no_alias(
    sandbox: Sandbox, workspace: Path, create_inputs: dict[str, str], lambda_client: Any
) -> None:
    """Trust, then verify: the CodeSha256 in PublishVersion's answer must be the artifact's."""
    run(workspace, **create_inputs)
    (workspace / "app" / "handler.py").write_text("mine = True\n")
    sandbox.fidelity.misreport_published_code = "c29tZW9uZSBlbHNlJ3MgY29kZQ=="  # type: ignore[union-attr]
    with pytest.raises(DeployError) as caught:
        run(workspace)
    message = str(caught.value)
    assert "version 2 that Lambda just published holds code c29tZW9uZSBlbHNlJ3MgY29kZQ==, not this deploy's" in message
    assert "alias 'live' was left as it was" in message
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "1"


def test_an_alias_moved_by_someone_else_is_left_alone(
    sandbox: Sandbox, workspace: Path, create_inputs: dict[str, str], lambda_client: Any
) -> None:
    run(workspace, **create_inputs)
    (workspace / "app" / "handler.py").write_text("v2 = True\n")
    run(workspace)
    (workspace / "app" / "handler.py").write_text("v3 = True\n")
    other = boto3.client("lambda", region_name=REGION)
    sandbox.fidelity.before("UpdateAlias", lambda: other.update_alias(FunctionName="orders", Name="live", FunctionVersion="1"))  # type: ignore[union-attr]
    with pytest.raises(ConflictError, match="alias 'live' was changed by someone else"):
        run(workspace)
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "1"


def test_missing_function_without_create_settings_changes_nothing(sandbox: Sandbox, workspace: Path, lambda_client: Any) -> None:
    with pytest.raises(DeployError, match="creating it needs role, runtime, handler"):
        run(workspace)
    assert lambda_client.list_functions()["Functions"] == []


def test_a_weighted_alias_stops_the_deploy_before_any_change(
    sandbox: Sandbox, workspace: Path, create_inputs: dict[str, str], lambda_client: Any
) -> None:
    run(workspace, **create_inputs)
    (workspace / "app" / "handler.py").write_text("v2 = True\n")
    run(workspace, alias="other")
    lambda_client.update_alias(
        FunctionName="orders", Name="live", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}}
    )
    (workspace / "app" / "handler.py").write_text("v3 = True\n")
    with pytest.raises(DeployError, match="routes 25% of traffic to version 2"):
        run(workspace)
    assert versions(lambda_client) == ["1", "2"]
    assert lambda_client.get_function_configuration(FunctionName="orders")["CodeSha256"] != ""


def test_timeout_waiting_is_bounded_and_explained(sandbox: Sandbox, workspace: Path, create_inputs: dict[str, str]) -> None:
    sandbox.fidelity.in_progress_reads = 1000  # type: ignore[union-attr]
    try:
        slow = Services.connect(REGION, wait_timeout=0.05, poll_delay=0.01)
        settings = load_settings(
            {"function-name": "orders", "source": "app", "alias": "live", **create_inputs},
            {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": REGION},
        )
        with pytest.raises(DeployError, match=r"timed out after 0\.05s waiting for the new function to become Active"):
            deploy(settings, slow, ConsoleIO(io.StringIO()))
    finally:
        sandbox.fidelity.in_progress_reads = 2  # type: ignore[union-attr]


def test_a_package_over_the_direct_upload_limit_is_refused_before_any_change(
    sandbox: Sandbox, workspace: Path, create_inputs: dict[str, str], lambda_client: Any
) -> None:
    (workspace / "app" / "blob.bin").write_bytes(os.urandom(51 * 1024 * 1024))
    with pytest.raises(DeployError, match=r"Lambda takes at most 50 MB uploaded directly.*set s3-bucket"):
        run(workspace, **create_inputs)
    assert lambda_client.list_functions()["Functions"] == []
