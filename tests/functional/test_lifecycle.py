"""Previews and their lifecycle against the sandbox: function URLs, cleanup, pruning."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.aws import Services
from deployer.errors import DeployError
from deployer.github import ConsoleIO
from deployer.model import Result
from deployer.pipeline import deploy
from deployer.sandbox import REGION, Sandbox
from deployer.settings import load_settings

PUBLIC_STATEMENTS = {"lambda-deploy-public-url", "lambda-deploy-public-url-invoke"}


def run(workspace: Path, out: io.StringIO | None = None, **inputs: str) -> Result:
    # The alias pr-7 is derived from the branch, so it is marked as that branch's preview.
    env = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": REGION, "GITHUB_RUN_ID": "5", "GITHUB_REF_NAME": "pr-7"}
    settings = load_settings({"function-name": "orders", "source": "app", **inputs}, {**env, "GITHUB_REPOSITORY": "octo/orders"})
    return deploy(settings, Services.connect(REGION, 10, poll_delay=0.01), ConsoleIO(out or io.StringIO()))


@pytest.fixture
def create(role_arn: str) -> dict[str, str]:
    return {"role": role_arn, "runtime": "python3.12", "handler": "handler.handler"}


def change(workspace: Path, value: object) -> None:
    (workspace / "app" / "handler.py").write_text(f"def handler(event, context):\n    return {value!r}\n")


def statements(lambda_client: Any, alias: str) -> set[str]:
    try:
        policy = lambda_client.get_policy(FunctionName="orders", Qualifier=alias)
    except lambda_client.exceptions.ResourceNotFoundException:
        return set()
    return {statement["Sid"] for statement in json.loads(policy["Policy"])["Statement"]}


def url_of(lambda_client: Any, alias: str) -> dict[str, Any] | None:
    try:
        return dict(lambda_client.get_function_url_config(FunctionName="orders", Qualifier=alias))
    except lambda_client.exceptions.ResourceNotFoundException:
        return None


def versions(lambda_client: Any) -> list[str]:
    pages = lambda_client.get_paginator("list_versions_by_function").paginate(FunctionName="orders")
    return [v["Version"] for page in pages for v in page["Versions"] if v["Version"] != "$LATEST"]


def test_a_preview_gets_a_url_that_changes_only_when_asked(
    sandbox: Sandbox, workspace: Path, create: dict[str, str], lambda_client: Any
) -> None:
    first = run(workspace, **create, **{"function-url": "aws-iam"})
    url = url_of(lambda_client, "pr-7")
    assert url is not None and url["AuthType"] == "AWS_IAM" and first.function_url == url["FunctionUrl"]
    assert url["FunctionArn"].endswith(":orders:pr-7")
    again = run(workspace, **{"function-url": "aws-iam"})
    assert again.status == "unchanged" and again.function_url == url["FunctionUrl"]
    assert not {"CreateFunctionUrlConfig", "UpdateFunctionUrlConfig", "AddPermission"} & set(again.calls)

    out = io.StringIO()
    public = run(workspace, out, **{"function-url": "public"})
    assert url_of(lambda_client, "pr-7")["AuthType"] == "NONE"  # type: ignore[index]
    assert statements(lambda_client, "pr-7") == PUBLIC_STATEMENTS
    policy = json.loads(lambda_client.get_policy(FunctionName="orders", Qualifier="pr-7")["Policy"])
    conditions = {s["Sid"]: s.get("Condition") for s in policy["Statement"]}
    assert conditions["lambda-deploy-public-url"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    assert conditions["lambda-deploy-public-url-invoke"] == {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}
    assert "is public: anyone on the internet can call it" in out.getvalue()
    assert public.calls["AddPermission"] == 2 and public.calls["UpdateFunctionUrlConfig"] == 1

    back = run(workspace, **{"function-url": "aws-iam"})
    assert statements(lambda_client, "pr-7") == set() and url_of(lambda_client, "pr-7")["AuthType"] == "AWS_IAM"  # type: ignore[index]
    assert back.calls["RemovePermission"] == 2


def test_a_public_url_on_a_new_alias_is_created_after_the_alias(
    sandbox: Sandbox, workspace: Path, create: dict[str, str], lambda_client: Any
) -> None:
    result = run(workspace, **create, **{"function-url": "public"})
    steps = [type(step).__name__ for step in result.plan.steps]
    assert steps[-3:] == ["PointAlias", "EnsureFunctionUrl", "GrantPublicUrl"]
    assert result.function_url.startswith("https://") and statements(lambda_client, "pr-7") == PUBLIC_STATEMENTS


def preview(workspace: Path, create: dict[str, str]) -> None:
    """Alias pr-7 with a public URL on version 1."""
    run(workspace, **create, **{"function-url": "public"})


@pytest.mark.parametrize(
    ("breakage", "notice"),
    [
        ("nothing", ""),
        ("alias", "alias pr-7 does not exist"),
        ("url", ""),
        ("one-statement", ""),
        ("everything", "alias pr-7 does not exist"),
    ],
)
def test_cleanup_removes_what_is_left_from_any_partial_state(
    sandbox: Sandbox, workspace: Path, create: dict[str, str], lambda_client: Any, breakage: str, notice: str
) -> None:
    preview(workspace, create)
    if breakage in ("alias", "everything"):
        lambda_client.delete_alias(FunctionName="orders", Name="pr-7")  # the URL stays behind
    if breakage in ("url", "everything"):
        lambda_client.delete_function_url_config(FunctionName="orders", Qualifier="pr-7")
    if breakage in ("one-statement", "everything"):
        lambda_client.remove_permission(FunctionName="orders", Qualifier="pr-7", StatementId="lambda-deploy-public-url")
    if breakage == "everything":
        lambda_client.remove_permission(FunctionName="orders", Qualifier="pr-7", StatementId="lambda-deploy-public-url-invoke")
    out = io.StringIO()
    result = run(workspace, out, command="cleanup")
    assert result.status == "cleaned-up"
    assert url_of(lambda_client, "pr-7") is None and statements(lambda_client, "pr-7") == set()
    assert "pr-7" not in [a["Name"] for a in lambda_client.list_aliases(FunctionName="orders")["Aliases"]]
    assert notice in out.getvalue()
    if breakage == "everything":
        assert not {"DeleteAlias", "DeleteFunctionUrlConfig", "RemovePermission"} & set(result.calls)


def test_cleanup_of_a_function_that_does_not_exist_is_a_notice(sandbox: Sandbox, workspace: Path) -> None:
    out = io.StringIO()
    assert run(workspace, out, command="cleanup").status == "cleaned-up"
    assert "does not exist: there is nothing to clean up" in out.getvalue()


def test_pruning_keeps_the_newest_and_every_version_an_alias_references(
    sandbox: Sandbox, workspace: Path, create: dict[str, str], lambda_client: Any
) -> None:
    run(workspace, **create)
    for value in range(2, 7):
        change(workspace, value)
        run(workspace)
    assert versions(lambda_client) == ["1", "2", "3", "4", "5", "6"]
    lambda_client.create_alias(
        FunctionName="orders", Name="live", FunctionVersion="2", RoutingConfig={"AdditionalVersionWeights": {"3": 0.2}}
    )
    lambda_client.create_alias(FunctionName="orders", Name="old", FunctionVersion="1")
    change(workspace, 7)
    sandbox.fidelity.age("orders", 7200)  # type: ignore[union-attr]  # past prune-grace (1h)
    planned = run(workspace, **{"keep-versions": "2", "dry-run": "true"})
    assert planned.pruned.deleted == ("4", "5") and versions(lambda_client) == ["1", "2", "3", "4", "5", "6"]
    result = run(workspace, **{"keep-versions": "2"})
    assert result.version == "7" and result.pruned.deleted == ("4", "5") and result.pruned.skipped == ()
    assert versions(lambda_client) == ["1", "2", "3", "6", "7"]


def test_a_version_an_alias_takes_during_pruning_survives(
    sandbox: Sandbox, workspace: Path, create: dict[str, str], lambda_client: Any
) -> None:
    run(workspace, **create)
    for value in range(2, 6):
        change(workspace, value)
        run(workspace)
    other = boto3.client("lambda", region_name=REGION)
    sandbox.fidelity.age("orders", 7200)  # type: ignore[union-attr]
    # Between the listing and the deletes: one alias takes version 2 (the pre-delete look
    # sees it), and one takes version 1 just as it is deleted (Lambda refuses with a 409).
    sandbox.fidelity.before(  # type: ignore[union-attr]
        "DeleteFunction",
        lambda: (
            other.create_alias(FunctionName="orders", Name="grab-1", FunctionVersion="1"),
            other.create_alias(FunctionName="orders", Name="grab-2", FunctionVersion="2"),
        ),
    )
    result = run(workspace, **{"keep-versions": "1"})
    skipped = dict(result.pruned.skipped)
    assert "because the following aliases reference it: [grab-1]" in skipped["1"]
    assert skipped["2"] == "an alias took it meanwhile"
    assert result.pruned.deleted == ("3", "4")
    assert versions(lambda_client) == ["1", "2", "5"]


def test_pruning_reads_every_page_of_a_long_history(sandbox: Sandbox, workspace: Path, create: dict[str, str], lambda_client: Any) -> None:
    run(workspace, **create)
    sandbox.fidelity.in_progress_reads = 0  # type: ignore[union-attr]
    try:
        for timeout in range(4, 124):
            lambda_client.update_function_configuration(FunctionName="orders", Timeout=timeout)
            lambda_client.publish_version(FunctionName="orders")
    finally:
        sandbox.fidelity.in_progress_reads = 2  # type: ignore[union-attr]
    assert len(versions(lambda_client)) == 121
    sandbox.fidelity.age("orders", 7200)  # type: ignore[union-attr]
    # Asked for the newest version's timeout, pr-7 reuses that version (nothing is published) and moves off version 1.
    result = run(workspace, **{"keep-versions": "100", "timeout": "123"})
    assert result.version == "121" and not result.plan.publishes
    assert result.pruned.deleted == tuple(str(v) for v in range(1, 22))
    assert result.calls["ListVersionsByFunction"] >= 6  # 3 pages, read before and at pruning
    assert len(versions(lambda_client)) == 100


def test_keep_versions_must_be_a_whole_number(sandbox: Sandbox, workspace: Path) -> None:
    with pytest.raises(DeployError, match="input 'keep-versions': 'some' is not a whole number"):
        run(workspace, **{"keep-versions": "some"})
