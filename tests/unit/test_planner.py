"""Tables of (state, settings) -> steps for the pure planner."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from deployer import surface
from deployer.errors import DeployError
from deployer.model import (
    AliasState,
    CreateFunction,
    FunctionConfig,
    FunctionState,
    PointAlias,
    PublishVersion,
    ReuseVersion,
    TagFunction,
    UpdateCode,
    UpdateConfiguration,
)
from deployer.planner import audit_note, deploy_tags, make_plan
from deployer.settings import FunctionSettings, GitContext, Settings

ROLE = "arn:aws:iam::123456789012:role/r"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders"
GIT = GitContext(sha="0123456789abcdef", ref="main", run_id="99", actor="octo")


def config(version: str = "$LATEST", sha: str = "OLD", **fields: Any) -> FunctionConfig:
    raw = {
        "FunctionName": "orders",
        "FunctionArn": ARN if version == "$LATEST" else f"{ARN}:{version}",
        "Version": version,
        "CodeSha256": sha,
        "RevisionId": f"rev-{version}",
        "Handler": "app.handler",
        "Runtime": "python3.12",
        "Role": ROLE,
        "MemorySize": 128,
        "Timeout": 3,
        "Environment": {"Variables": {"KEEP": "1", "CHANGE": "old"}},
        "Architectures": ["x86_64"],
        **fields,
    }
    return FunctionConfig.from_api(raw)


def function_settings(**function: Any) -> FunctionSettings:
    """Settings rows by input name (``memory=256``), the rest (environment, tags...) as they are."""
    rows = {name.replace("_", "-"): value for name, value in function.items() if name.replace("_", "-") in surface.BY_INPUT}
    others = {name: value for name, value in function.items() if name.replace("_", "-") not in surface.BY_INPUT}
    return FunctionSettings(configuration=rows, **others)


def settings(**function: Any) -> Settings:
    return Settings(
        function_name="orders",
        source=Path("."),
        exclude=(),
        requirements=None,
        function=function_settings(**function),
        alias="live",
        dry_run=False,
        region="us-east-1",
        wait_timeout=300,
        git=GIT,
    )


def alias(version: str = "1", weights: dict[str, float] | None = None) -> AliasState:
    return AliasState("live", f"{ARN}:live", version, weights or {}, "alias-rev")


EXISTING = FunctionState(latest=config(), published=config("1"), alias=alias("1"), tags=deploy_tags(replace(GIT, sha="0ld")))


def kinds(steps: tuple[object, ...]) -> list[str]:
    return [type(step).__name__ for step in steps]


@pytest.mark.parametrize(
    ("state", "wanted", "sha", "expected"),
    [
        # nothing changed: reuse, alias already there -> no mutating step at all
        (EXISTING, {}, "OLD", ["ReuseVersion"]),
        # same code, alias missing (a new preview branch): reuse and create the alias
        (replace(EXISTING, alias=None), {}, "OLD", ["ReuseVersion", "PointAlias"]),
        # code changed
        (EXISTING, {}, "NEW", ["UpdateCode", "TagFunction", "PublishVersion", "PointAlias"]),
        # given but equal settings are not sent
        (EXISTING, {"memory": 128, "handler": "app.handler", "runtime": "python3.12"}, "OLD", ["ReuseVersion"]),
        # a differing setting is sent
        (EXISTING, {"memory": 256}, "OLD", ["UpdateConfiguration", "TagFunction", "PublishVersion", "PointAlias"]),
        # an architecture change needs a code update even with the same zip
        (EXISTING, {"architecture": "arm64"}, "OLD", ["UpdateCode", "TagFunction", "PublishVersion", "PointAlias"]),
        # $LATEST drifted from the newest version (changed outside): publish it
        (replace(EXISTING, published=config("1", sha="OTHER")), {}, "OLD", ["PublishVersion", "PointAlias"]),
        # never published
        (replace(EXISTING, published=None, alias=None), {}, "OLD", ["PublishVersion", "PointAlias"]),
        # the alias points to an older version, $LATEST equals the newest version
        (replace(EXISTING, alias=alias("0")), {}, "OLD", ["ReuseVersion", "PointAlias"]),
        # user tags that differ are applied
        (EXISTING, {"tags": {"team": "a"}}, "OLD", ["TagFunction", "ReuseVersion"]),
    ],
)
def test_update_plans(state: FunctionState, wanted: dict[str, Any], sha: str, expected: list[str]) -> None:
    assert kinds(make_plan(settings(**wanted), sha, state).steps) == expected


def test_unchanged_plan_mutates_nothing_and_reuses_the_version() -> None:
    plan = make_plan(settings(), "OLD", EXISTING)
    assert not plan.mutates and not plan.publishes
    assert plan.reused_version == "1" and plan.previous_version == "1"


def test_create_plan_needs_role_runtime_handler() -> None:
    missing = FunctionState(latest=None, published=None, alias=None)
    with pytest.raises(DeployError) as caught:
        make_plan(settings(handler="app.handler"), "NEW", missing)
    assert "creating it needs role, runtime" in str(caught.value)
    assert "handler" not in str(caught.value).split("needs")[1].split(".")[0]


def test_create_plan() -> None:
    missing = FunctionState(latest=None, published=None, alias=None)
    wanted = {
        "role": ROLE,
        "runtime": "python3.12",
        "handler": "app.handler",
        "memory": 256,
        "environment": {"AA": "1"},
        "tags": {"team": "x"},
    }
    plan = make_plan(settings(**wanted), "NEW", missing)
    assert kinds(plan.steps) == ["CreateFunction", "PublishVersion", "PointAlias"]
    create = plan.steps[0]
    assert isinstance(create, CreateFunction)
    assert create.params["MemorySize"] == 256 and create.params["Architectures"] == ["x86_64"]
    assert create.params["Environment"] == {"Variables": {"AA": "1"}}
    assert create.params["Tags"]["team"] == "x" and create.params["Tags"]["lambda-deploy:commit"] == GIT.sha
    point = plan.steps[-1]
    assert isinstance(point, PointAlias) and point.version is None and point.revision_id is None
    assert plan.previous_version == ""


def test_environment_merge_keeps_other_keys() -> None:
    plan = make_plan(settings(environment={"CHANGE": "new", "ADD": "x"}), "OLD", EXISTING)
    update = next(s for s in plan.steps if isinstance(s, UpdateConfiguration))
    assert update.params["Environment"] == {"Variables": {"KEEP": "1", "CHANGE": "new", "ADD": "x"}}
    (change,) = update.changes
    assert change.after == "3 keys (+ADD ~CHANGE)"
    assert "new" not in change.describe() and "old" not in change.describe()


def test_environment_replace_sends_exactly_the_keys() -> None:
    plan = make_plan(settings(environment={"CHANGE": "old"}, environment_mode="replace"), "OLD", EXISTING)
    update = next(s for s in plan.steps if isinstance(s, UpdateConfiguration))
    assert update.params["Environment"] == {"Variables": {"CHANGE": "old"}}
    assert update.changes[0].after == "1 keys (-KEEP)"


def test_environment_equal_after_merge_is_not_sent() -> None:
    plan = make_plan(settings(environment={"KEEP": "1"}), "OLD", EXISTING)
    assert kinds(plan.steps) == ["ReuseVersion"]


def test_merged_environment_over_4kb_is_refused_before_anything_moves() -> None:
    # Production's version holds the big variables: they are what a merge keeps.
    big_variables = {"Environment": {"Variables": {"OLD": "x" * 4000}}}
    big = replace(EXISTING, latest=config(**big_variables), published=config("1", **big_variables))
    with pytest.raises(DeployError, match="Lambda allows 4,096 bytes"):
        make_plan(settings(environment={"NEW": "y" * 200}), "OLD", big)


def test_a_weighted_alias_is_refused_never_stacked() -> None:
    stale = replace(EXISTING, alias=alias("1", {"2": 0.1}))
    with pytest.raises(DeployError) as caught:
        make_plan(settings(), "NEW", stale)
    assert "routes 10% of traffic to version 2 and the rest to version 1" in str(caught.value)


def test_update_code_carries_hashes_and_publish_carries_the_audit_note() -> None:
    plan = make_plan(settings(), "NEW", EXISTING)
    update, tag, publish, point = plan.steps
    assert isinstance(tag, TagFunction) and tag.tags["lambda-deploy:commit"] == GIT.sha
    assert isinstance(update, UpdateCode) and (update.old_sha256, update.new_sha256, update.architecture) == ("OLD", "NEW", None)
    assert isinstance(publish, PublishVersion) and publish.description == audit_note(GIT)
    assert isinstance(point, PointAlias) and (point.from_version, point.revision_id) == ("1", "alias-rev")
    assert (plan.code_before, plan.code_after) == ("OLD", "NEW")


def test_audit_note_and_tags() -> None:
    assert audit_note(GIT) == "lambda-deploy commit 0123456789ab ref main run 99 by octo"
    assert len(audit_note(replace(GIT, ref="x" * 400))) == 256
    assert deploy_tags(replace(GIT, ref="feat/a#b"))["lambda-deploy:ref"] == "feat/a_b"
    tags = deploy_tags(GIT)
    assert tags == {
        "lambda-deploy:commit": GIT.sha,
        "lambda-deploy:ref": "main",
        "lambda-deploy:run-id": "99",
        "lambda-deploy:actor": "octo",
    }


def test_reused_steps_describe_themselves() -> None:
    assert "reuse version 1" in ReuseVersion("1").describe()
    assert TagFunction({"b": "1", "a": "2"}).describe() == "tag function: a, b"
