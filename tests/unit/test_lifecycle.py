"""Pure parts of previews and their lifecycle: pruning, session names, URL and cleanup plans, the comment."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from deployer.model import (
    AliasState,
    DeleteAlias,
    DeleteFunctionUrl,
    EnsureFunctionUrl,
    FunctionState,
    FunctionUrl,
    GrantPublicUrl,
    Lifecycle,
    Plan,
    Preview,
    Pruned,
    PruneVersions,
    Result,
    RevokeUrlPermissions,
)
from deployer.naming import session_name
from deployer.planner import make_cleanup_plan, make_plan, prune_candidates
from deployer.report import comment_markdown, comment_marker
from deployer.settings import load_settings
from tests.unit.test_planner import config


def alias(name: str, version: str, weights: dict[str, float] | None = None) -> AliasState:
    return AliasState(name, f"arn:{name}", version, weights or {}, "r")


VERSIONS = [str(v) for v in range(1, 11)]


@pytest.mark.parametrize(
    ("versions", "aliases", "keep", "pruned"),
    [
        (VERSIONS, [], 3, [str(v) for v in range(1, 8)]),  # the newest 3 stay
        (VERSIONS, [alias("live", "2")], 3, ["1", "3", "4", "5", "6", "7"]),  # main version
        (VERSIONS, [alias("live", "2", {"5": 0.1})], 3, ["1", "3", "4", "6", "7"]),  # weighted version too
        (VERSIONS, [alias("a", "1"), alias("b", "7")], 8, ["2"]),  # 1 and 2 are beyond the newest 8; a uses 1
        (["$LATEST", *VERSIONS], [], 9, ["1"]),  # $LATEST is never a candidate
        (VERSIONS, [], 0, []),  # 0 prunes nothing
        (VERSIONS, [], 50, []),
        (["3", "10", "2"], [], 1, ["2", "3"]),  # numeric order, oldest first
    ],
)
def test_prune_selection(versions: list[str], aliases: list[AliasState], keep: int, pruned: list[str]) -> None:
    assert list(prune_candidates(versions, aliases, keep)) == pruned


@pytest.mark.parametrize(
    ("repository", "run_id", "name"),
    [
        ("octo/orders", "4242", "lambda-deploy-octo-orders-4242"),
        ("octo/my repo!", "1", "lambda-deploy-octo-my-repo-1"),
        ("ünïcode/x", "7", "lambda-deploy-n-code-x-7"),
        ("", "", "lambda-deploy"),
        ("o/" + "r" * 80, "123456789", "lambda-deploy-o-" + "r" * 38 + "-123456789"),  # 64: the run id kept
    ],
)
def test_session_name_derivation(repository: str, run_id: str, name: str) -> None:

    derived = session_name(repository, run_id)
    assert derived == name
    assert 2 <= len(derived) <= 64 and re.fullmatch(r"[\w+=,.@-]+", derived, flags=re.ASCII)


def settings(workspace: Path, **inputs: str) -> object:
    env = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": "eu-west-1"}
    return load_settings({"function-name": "orders", "source": "app", "alias": "pr-7", **inputs}, env)


def state(url: FunctionUrl | None = None, statements: frozenset[str] = frozenset(), aliases: tuple[AliasState, ...] = ()) -> FunctionState:
    return FunctionState(config(), config("3"), alias("pr-7", "3"), {}, Lifecycle(("1", "2", "3"), aliases, url, statements))


PUBLIC = frozenset({"lambda-deploy-public-url", "lambda-deploy-public-url-invoke"})
PREVIEW = AliasState("pr-7", "arn:pr-7", "3", {}, "r", "lambda-deploy preview of octo/orders@pr-7")
BOTH = tuple(sorted(PUBLIC))


@pytest.mark.parametrize(
    ("wanted", "current", "held", "steps"),
    [
        ("none", None, frozenset(), []),
        ("aws-iam", None, frozenset(), [EnsureFunctionUrl("pr-7", "AWS_IAM", None)]),
        ("aws-iam", FunctionUrl("u", "AWS_IAM"), frozenset(), []),
        (
            "public",
            FunctionUrl("u", "AWS_IAM"),
            frozenset(),
            [EnsureFunctionUrl("pr-7", "NONE", "AWS_IAM"), GrantPublicUrl("pr-7", tuple(sorted(PUBLIC)))],
        ),
        (
            "public",
            FunctionUrl("u", "NONE"),
            frozenset({"lambda-deploy-public-url"}),
            [GrantPublicUrl("pr-7", ("lambda-deploy-public-url-invoke",))],
        ),
        ("public", FunctionUrl("u", "NONE"), PUBLIC, []),
        (
            "aws-iam",
            FunctionUrl("u", "NONE"),
            PUBLIC,
            [EnsureFunctionUrl("pr-7", "AWS_IAM", "NONE"), RevokeUrlPermissions("pr-7", tuple(sorted(PUBLIC)))],
        ),
    ],
)
def test_url_steps_are_only_what_differs(
    workspace: Path, wanted: str, current: FunctionUrl | None, held: frozenset[str], steps: list[object]
) -> None:
    latest = config()
    plan = make_plan(settings(workspace, **{"function-url": wanted}), latest.code_sha256, state(current, held))  # type: ignore[arg-type]
    url_steps = [s for s in plan.steps if isinstance(s, EnsureFunctionUrl | GrantPublicUrl | RevokeUrlPermissions)]
    normalise = lambda items: [type(i)(i.alias, tuple(sorted(i.statements))) if hasattr(i, "statements") else i for i in items]  # noqa: E731
    assert normalise(url_steps) == normalise(steps)


def test_cleanup_plans_only_what_exists(workspace: Path) -> None:
    chosen = settings(workspace, command="cleanup", **{"keep-versions": "1"})
    full_state = state(FunctionUrl("u", "NONE"), PUBLIC, (alias("pr-7", "3"), alias("live", "1")))
    old = replace(full_state.lifecycle, ages={"1": 7200.0, "2": 7200.0, "3": 7200.0})  # all past prune-grace
    marked = replace(full_state, alias=PREVIEW, lifecycle=old)
    preview = Preview("pr-7", PREVIEW, FunctionUrl("u", "NONE"), PUBLIC)
    full = make_cleanup_plan(chosen, marked, [preview])  # type: ignore[arg-type]
    assert [type(s) for s in full.steps] == [RevokeUrlPermissions, DeleteFunctionUrl, DeleteAlias, PruneVersions]
    assert full.steps[-1] == PruneVersions(1, ("2",), 3600.0)  # 3 is the newest, 1 is live's; pr-7 no longer counts
    empty = FunctionState(config(), config("1"), None, {}, Lifecycle(("1",), (alias("live", "1"),)))
    assert make_cleanup_plan(chosen, empty, [Preview("pr-7", None)]).steps == ()  # type: ignore[arg-type]
    # Two aliases of one pull request (its branch was renamed): both go, each with what hangs on it.
    renamed = Preview("old-name", replace(PREVIEW, name="old-name"), FunctionUrl("v", "NONE"), PUBLIC)
    both = make_cleanup_plan(chosen, marked, [preview, renamed])  # type: ignore[arg-type]
    deleted = [s.name for s in both.steps if isinstance(s, DeleteAlias)]
    assert deleted == ["pr-7", "old-name"] and [s.alias for s in both.steps if isinstance(s, DeleteFunctionUrl)] == ["pr-7", "old-name"]


def result(status: str, url: str = "https://x.lambda-url.eu-west-1.on.aws/") -> Result:
    plan = Plan("orders", "pr-7", (), "old=", "new=", (), "3", None)
    return Result(status, "arn", "4", "3", "pr-7", "arn:pr-7", "new=", True, plan, function_url=url, pruned=Pruned(("1", "2")))


def test_the_comment_shows_the_preview_and_carries_its_marker() -> None:
    body = comment_markdown(result("deployed"), "5ca1ab1e" * 5, "https://github.com/octo/orders/actions/runs/7")
    marker = comment_marker("orders", "pr-7")
    assert body.endswith(marker) and marker == "<!-- lambda-deploy preview: orders / pr-7 -->"
    for shown in (
        "`pr-7` → version 4",
        "https://x.lambda-url.eu-west-1.on.aws/",
        "`new=`",
        "`5ca1ab1e5ca1`",
        "[run](https://github.com/octo/orders/actions/runs/7)",
    ):
        assert shown in body
    assert "(none: set function-url to get one)" in comment_markdown(result("deployed", url=""), "", "")


def test_the_comment_after_cleanup_says_the_preview_was_removed() -> None:
    body = comment_markdown(result("cleaned-up", url=""), "abc", "")
    assert "removed" in body and "Versions deleted: 1, 2." in body and body.endswith(comment_marker("orders", "pr-7"))
