"""A property of previews and production sharing one function (hypothesis, against the sandbox).

For any sequence of preview deploys (some as canaries), promotes, rollbacks and cleanups, of
any pull requests from any branch names, production is as production left it: its alias and
version, its previous-alias and the function's tags; and an unchanged production deploy then
publishes nothing and writes nothing.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deployer.app import main
from deployer.github import ConsoleIO
from deployer.sandbox import REGION, Sandbox

WRITES = {"UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion", "UpdateAlias", "CreateAlias", "TagResource"}
BRANCHES = st.one_of(
    st.sampled_from(["live", "previous", "main", "feature/x", "feature-x", "feature-x-pr2", "17", "fëature/x", "x" * 140]),
    st.text(alphabet="ab/-_.0129", min_size=1, max_size=12),
)
OPERATION = st.tuples(
    st.sampled_from(["deploy", "canary", "promote", "rollback", "cleanup"]),
    st.integers(min_value=1, max_value=3),  # the pull request
    BRANCHES,
    st.sampled_from(["one", "two", "three"]),  # the code a preview deploys
)


class Run:
    """In-process runs of the action's engine, as the runner would start them."""

    def __init__(self, workspace: Path, role: str) -> None:
        self.workspace, self.role = workspace, role

    def __call__(
        self, inputs: dict[str, str], event: str = "push", pull_request: int = 0, branch: str = "main"
    ) -> tuple[int, dict[str, Any]]:
        env = {
            "GITHUB_WORKSPACE": str(self.workspace),
            "AWS_REGION": REGION,
            "GITHUB_SHA": "cafe" * 10,
            "GITHUB_RUN_ID": "7",
            "GITHUB_ACTOR": "octo",
            "GITHUB_REPOSITORY": "octo/orders",
            "GITHUB_EVENT_NAME": event,
            "GITHUB_REF_NAME": f"{pull_request}/merge" if pull_request else branch,
            "GITHUB_HEAD_REF": branch if pull_request else "",
        }
        if pull_request:
            path = self.workspace.parent / f"event-{pull_request}.json"
            path.write_text(json.dumps({"number": pull_request, "pull_request": {"number": pull_request, "head": {"ref": branch}}}))
            env["GITHUB_EVENT_PATH"] = str(path)
        shared = {"function-name": "orders", "source": "app", "previous-alias": "previous", "role": self.role}
        shared.update({"runtime": "python3.12", "handler": "handler.handler", "keep-versions": "0"})
        return main({**shared, **inputs}, env, ConsoleIO(io.StringIO()))

    def code(self, text: str) -> None:
        (self.workspace / "app" / "handler.py").write_text(f"def handler(event, context):\n    return {text!r}\n")


def production(lambda_client: Any) -> tuple[str, str, dict[str, str]]:
    live = lambda_client.get_alias(FunctionName="orders", Name="live")
    previous = lambda_client.get_alias(FunctionName="orders", Name="previous")
    arn = lambda_client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"]
    assert not (live.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    return live["FunctionVersion"], previous["FunctionVersion"], lambda_client.list_tags(Resource=arn)["Tags"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.lists(OPERATION, min_size=1, max_size=6))
def test_previews_never_change_what_production_reads(
    sandbox: Sandbox, workspace: Path, role_arn: str, operations: list[tuple[str, int, str, str]]
) -> None:
    sandbox.reset()
    sandbox.fidelity.in_progress_reads = 0  # type: ignore[union-attr]
    lambda_client = boto3.client("lambda", region_name=REGION)
    boto3.client("iam", region_name=REGION).create_role(RoleName="deploy-test", AssumeRolePolicyDocument="{}")
    run = Run(workspace, role_arn)
    run.code("production one")
    assert run({"alias": "live"})[0] == 0
    run.code("production two")
    assert run({"alias": "live"})[0] == 0
    before = production(lambda_client)
    assert before[:2] == ("2", "1")

    for operation, number, branch, code in operations:
        run.code(f"pull request {number}: {code}")
        inputs = {
            "deploy": {},
            "canary": {"canary-weight": "10"},
            "promote": {"command": "promote"},
            "rollback": {"command": "rollback"},
            "cleanup": {"command": "cleanup"},
        }[operation]
        code_, _ = run(inputs, event="pull_request", pull_request=number, branch=branch)
        assert code_ in (0, 1), (operation, number, branch)  # refusals are fine; a bug never is

    assert production(lambda_client) == before
    run.code("production two")
    code_, again = run({"alias": "live"})
    assert code_ == 0 and again["status"] == "unchanged" and again["changed"] is False
    assert not WRITES & set(again["calls"]), again["calls"]
    assert production(lambda_client) == before
