"""A pull request's preview, end to end through entrypoint.py, as examples/workflows/preview.yml runs it.

Each step gets the event payload GitHub writes for it (``GITHUB_EVENT_PATH``), keyless
credentials (``role-to-assume``: GitHub's OIDC token from a loopback token endpoint,
exchanged at the sandbox's STS) and the PR comment against a loopback GitHub API that
records every call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.sts.models import sts_backends

from deployer.sandbox import ACCOUNT, Sandbox
from tests.e2e.runner import GITHUB_TOKEN, ActionRun, github_env, run_action
from tests.github_fake import FakeGitHub

BRANCH = "feature/login-page"
ALIAS = "feature-login-page"
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/github-deploy"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        # Other bots were here first: the preview comment is found past the first page.
        for text in ("CI passed", "Coverage 91%", "Looks good"):
            fake.comments[len(fake.comments) + 1] = {"id": len(fake.comments) + 1, "body": text}
        yield fake


def event(tmp_path: Path, action: str) -> Path:
    """The pull_request payload GitHub writes to GITHUB_EVENT_PATH (the parts that matter)."""
    path = tmp_path / f"event-{action}.json"
    payload = {
        "action": action,
        "number": 17,
        "pull_request": {
            "number": 17,
            "state": "closed" if action == "closed" else "open",
            "head": {"ref": BRANCH},
            "base": {"ref": "main"},
        },
        "repository": {"full_name": "octo/orders"},
    }
    path.write_text(json.dumps(payload))
    return path


def step(workspace: Path, sandbox: Sandbox, github: FakeGitHub, tmp_path: Path, action: str, inputs: dict[str, str]) -> ActionRun:
    env = {
        **github_env(event="pull_request", ref_name="17/merge", head_ref=BRANCH),
        **github.env(),
        "GITHUB_EVENT_PATH": str(event(tmp_path, action)),
        "GITHUB_SERVER_URL": "https://github.com",
    }
    return run_action(workspace, sandbox, inputs, github=env)


def preview_inputs(role_arn: str, command: str = "deploy") -> dict[str, str]:
    return {
        "function-name": "orders",
        "source": "app",
        "role": role_arn,
        "runtime": "python3.12",
        "handler": "handler.handler",
        "function-url": "aws-iam",
        "comment": "true",
        "keep-versions": "1",
        "role-to-assume": DEPLOY_ROLE,
        "command": command,
    }


def test_a_pull_request_preview_is_opened_updated_and_closed(
    sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any, github: FakeGitHub, tmp_path: Path
) -> None:
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]
    opened = step(workspace, sandbox, github, tmp_path, "opened", preview_inputs(role_arn))
    assert opened.returncode == 0, opened.stdout
    url = lambda_client.get_function_url_config(FunctionName="orders", Qualifier=ALIAS)["FunctionUrl"]
    assert (opened.outputs["alias"], opened.outputs["version"], opened.outputs["function-url"]) == (ALIAS, "1", url)

    # Keyless: the token came from the runner's endpoint for STS, and AWS saw only the assumed role.
    token_request = next(r for r in github.requests if r.path.startswith("/token"))
    assert "audience=sts.amazonaws.com" in token_request.path and "api-version=2.0" in token_request.path
    assumed = sts_backends[ACCOUNT]["global"].assumed_roles[-1]
    assert assumed.role_arn == DEPLOY_ROLE and assumed.session_name == "lambda-deploy-octo-orders-4242"
    exchange = next(s for s in sandbox.network.seen if s.form.get("Action") == "AssumeRoleWithWebIdentity")  # type: ignore[union-attr]
    assert exchange.form["WebIdentityToken"] == github.id_token and exchange.access_key == ""  # unsigned
    signers = {s.access_key for s in sandbox.network.seen if s.number}  # type: ignore[union-attr]
    assert signers == {assumed.access_key_id}
    masked = [line for line in opened.stdout.splitlines() if line.startswith("::add-mask::")]
    for secret in (github.request_token, github.id_token, assumed.secret_access_key, assumed.session_token, GITHUB_TOKEN):
        assert f"::add-mask::{secret}" in masked
        assert secret not in "\n".join(line for line in opened.stdout.splitlines() if not line.startswith("::add-mask::"))

    (preview,) = [c for c in github.comments.values() if "lambda-deploy preview" in c["body"]]
    assert f"`{ALIAS}` → version 1" in preview["body"] and url in preview["body"] and "`5ca1ab1e5ca1`" in preview["body"]
    assert opened.outputs["code-sha256"] in preview["body"]
    create_call = next(r for r in github.requests if r.method == "POST")
    assert create_call.headers["Authorization"] == f"Bearer {GITHUB_TOKEN}"

    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v2'\n")
    sandbox.fidelity.age("orders", 2 * 3600)  # type: ignore[union-attr]  # version 1 is past prune-grace (1h)
    updated = step(workspace, sandbox, github, tmp_path, "synchronize", preview_inputs(role_arn))
    assert updated.returncode == 0, updated.stdout
    assert (updated.outputs["alias"], updated.outputs["version"], updated.outputs["function-url"]) == (ALIAS, "2", url)
    assert updated.outputs["deleted-versions"] == "1"  # keep-versions: 1, nothing else references version 1, and it is 2h old
    previews = [c for c in github.comments.values() if "lambda-deploy preview" in c["body"]]
    assert len(previews) == 1 and "version 2" in previews[0]["body"]
    assert [m for m, _ in github.comment_calls()].count("PATCH") == 1

    closed = step(workspace, sandbox, github, tmp_path, "closed", preview_inputs(role_arn, command="cleanup"))
    assert closed.returncode == 0, closed.stdout
    assert closed.outputs["status"] == "cleaned-up"
    assert ALIAS not in [a["Name"] for a in lambda_client.list_aliases(FunctionName="orders")["Aliases"]]
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function_url_config(FunctionName="orders", Qualifier=ALIAS)
    (removed,) = [c for c in github.comments.values() if "lambda-deploy preview" in c["body"]]
    assert "removed" in removed["body"] and url not in removed["body"]
    assert len(github.comments) == 4  # three from others, one of ours, edited twice


def test_a_comment_github_refuses_is_a_warning_not_a_failure(
    sandbox: Sandbox, workspace: Path, role_arn: str, github: FakeGitHub, tmp_path: Path
) -> None:
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]
    github.refuse = 403
    run = step(workspace, sandbox, github, tmp_path, "opened", {**preview_inputs(role_arn), "role-to-assume": ""})
    assert run.returncode == 0, run.stdout
    assert run.outputs["status"] == "deployed"
    warnings = [c.data for c in run.commands if c.name == "warning"]
    assert any("could not comment on pull request #17: HTTP 403" in w and "pull-requests: write" in w for w in warnings), warnings


def test_role_to_assume_without_an_id_token_says_what_to_add(sandbox: Sandbox, workspace: Path, role_arn: str, tmp_path: Path) -> None:
    run = run_action(
        workspace, sandbox, {**preview_inputs(role_arn), "comment": "false"}, github=github_env(event="pull_request", head_ref=BRANCH)
    )
    assert run.returncode == 1
    text = "\n".join(run.errors)
    assert "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set" in text
    assert "permissions: id-token: write" in text and "forks never get a token" in text


def test_the_session_name_duration_and_audience_reach_the_token_and_sts(
    sandbox: Sandbox, workspace: Path, role_arn: str, github: FakeGitHub, tmp_path: Path
) -> None:
    custom = {"role-session-name": "orders-deploy-17", "role-duration-seconds": "900", "audience": "lambda-deploy.example"}
    run = step(workspace, sandbox, github, tmp_path, "opened", {**preview_inputs(role_arn), "comment": "false", **custom})
    assert run.returncode == 0, run.stdout
    token_request = next(r for r in github.requests if r.path.startswith("/token"))
    assert "audience=lambda-deploy.example" in token_request.path
    exchange = next(s for s in sandbox.network.seen if s.form.get("Action") == "AssumeRoleWithWebIdentity")  # type: ignore[union-attr]
    assert (exchange.form["RoleSessionName"], exchange.form["DurationSeconds"]) == ("orders-deploy-17", "900")
    assert sts_backends[ACCOUNT]["global"].assumed_roles[-1].session_name == "orders-deploy-17"

    refused = step(workspace, sandbox, github, tmp_path, "opened", {**preview_inputs(role_arn), "role-duration-seconds": "60"})
    assert refused.returncode == 1
    assert any("input 'role-duration-seconds'" in line and "900" in line for line in refused.errors), refused.errors
