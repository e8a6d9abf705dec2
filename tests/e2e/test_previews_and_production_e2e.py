"""Previews and production in one function, through entrypoint.py: each case as it was seen.

Production's state is what its alias serves; a preview writes nothing production reads
(``$LATEST`` is shared and may differ, tags and the previous-alias are production's); a
preview's alias stays its own through every command and every branch rename; the runner's
files, loops in the source and hostile zips are the user's or the runner's to fix, not bugs.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.sandbox import REGION, Sandbox
from tests.e2e.runner import create_inputs, github_env, run_action
from tests.e2e.test_configuration_e2e import push_image
from tests.e2e.test_security_e2e import aliases, change, pull_request, versions

PR_BRANCH = "feature/x"


def push(workspace: Path, sandbox: Sandbox, inputs: dict[str, str]) -> Any:
    """A push to main: production's deploy, alias live given."""
    return run_action(workspace, sandbox, inputs, github=github_env(event="push", ref_name="main"))


def pr(workspace: Path, sandbox: Sandbox, tmp_path: Path, number: int, branch: str, action: str, inputs: dict[str, str]) -> Any:
    """A pull request's run: the same inputs as production's but no alias (a derived preview)."""
    given = {key: value for key, value in inputs.items() if key != "alias"}
    return run_action(workspace, sandbox, given, github=pull_request(tmp_path, number, branch, action))


@pytest.fixture
def inputs(role_arn: str) -> dict[str, str]:
    """One set of inputs shared by every run, as the examples do (previous-alias included)."""
    return {**create_inputs(role_arn), "previous-alias": "previous"}


def test_an_unchanged_production_deploy_after_a_preview_publishes_nothing(
    fast: Sandbox, workspace: Path, inputs: dict[str, str], lambda_client: Any, tmp_path: Path
) -> None:
    handler = workspace / "app" / "handler.py"
    mains = handler.read_text()
    first = push(workspace, fast, inputs)
    assert (first.returncode, first.outputs["version"]) == (0, "1"), first.stdout
    change(workspace, "the pull request's code")
    opened = pr(workspace, fast, tmp_path, 20, PR_BRANCH, "opened", inputs)
    assert (opened.returncode, opened.outputs["version"]) == (0, "2"), opened.stdout
    handler.write_text(mains)  # main still holds production's code: the pull request is not merged

    # While the pull request is open: main again, the same code.
    during = push(workspace, fast, inputs)
    assert during.returncode == 0, during.stdout
    assert (during.outputs["status"], during.outputs["changed"], during.outputs["version"]) == ("unchanged", "false", "1")
    assert not {"UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion", "UpdateAlias", "TagResource"} & set(during.calls)

    closed = pr(workspace, fast, tmp_path, 20, PR_BRANCH, "closed", {**inputs, "command": "cleanup"})
    assert closed.returncode == 0, closed.stdout
    after = push(workspace, fast, inputs)
    assert (after.outputs["status"], after.outputs["changed"], after.outputs["previous-version"]) == ("unchanged", "false", "1")
    assert "PublishVersion" not in after.calls and versions(lambda_client) == ["1", "2"]
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "1"


def test_a_changed_production_deploy_resets_what_a_preview_changed_in_latest(
    fast: Sandbox, workspace: Path, inputs: dict[str, str], lambda_client: Any, tmp_path: Path
) -> None:
    assert push(workspace, fast, inputs).returncode == 0
    preview = pr(workspace, fast, tmp_path, 20, PR_BRANCH, "opened", {**inputs, "memory": "512", "environment": "FLAG=preview"})
    assert preview.returncode == 0, preview.stdout
    change(workspace, "production's next release")
    shipped = push(workspace, fast, inputs)
    assert (shipped.returncode, shipped.outputs["version"]) == (0, "3"), shipped.stdout
    version = lambda_client.get_function_configuration(FunctionName="orders", Qualifier="3")
    assert version["MemorySize"] == 128 and "FLAG" not in (version.get("Environment") or {}).get("Variables", {})
    # The summary says what production sees change: the code, not the preview's memory.
    assert "memory" not in shipped.summary.split("Configuration changes")[1].split("\n")[0]


def test_a_preview_never_moves_the_previous_alias_nor_retags_the_function(
    fast: Sandbox, workspace: Path, inputs: dict[str, str], lambda_client: Any, tmp_path: Path
) -> None:
    assert push(workspace, fast, inputs).returncode == 0
    change(workspace, "v2 on main")
    assert push(workspace, fast, inputs).outputs["version"] == "2"
    assert lambda_client.get_alias(FunctionName="orders", Name="previous")["FunctionVersion"] == "1"
    for text in ("pr push one", "pr push two"):
        change(workspace, text)
        assert pr(workspace, fast, tmp_path, 20, PR_BRANCH, "synchronize", inputs).returncode == 0
    assert lambda_client.get_alias(FunctionName="orders", Name="previous")["FunctionVersion"] == "1"
    tags = lambda_client.list_tags(Resource=lambda_client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"])["Tags"]
    assert tags["lambda-deploy:ref"] == "main" and tags["lambda-deploy:commit"] == "5ca1ab1e" * 5
    # The preview's own alias records its commit, run and actor.
    preview = lambda_client.get_alias(FunctionName="orders", Name="feature-x")["Description"]
    assert preview == "lambda-deploy preview of octo/orders#20 · commit 5ca1ab1e5ca1 run 4242 by octocat"
    assert pr(workspace, fast, tmp_path, 20, PR_BRANCH, "closed", {**inputs, "command": "cleanup"}).returncode == 0
    tags = lambda_client.list_tags(Resource=lambda_client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"])["Tags"]
    assert tags["lambda-deploy:ref"] == "main"


@pytest.mark.parametrize("command", ["promote", "rollback"])
def test_promote_or_rollback_of_a_preview_canary_keeps_its_ownership(
    fast: Sandbox, workspace: Path, inputs: dict[str, str], lambda_client: Any, tmp_path: Path, command: str
) -> None:
    assert pr(workspace, fast, tmp_path, 20, PR_BRANCH, "opened", inputs).returncode == 0
    change(workspace, "canary")
    canary = pr(workspace, fast, tmp_path, 20, PR_BRANCH, "synchronize", {**inputs, "canary-weight": "10"})
    assert canary.outputs["status"] == "canary", canary.stdout
    finished = pr(workspace, fast, tmp_path, 20, PR_BRANCH, "synchronize", {**inputs, "command": command})
    assert finished.returncode == 0, finished.stdout
    description = lambda_client.get_alias(FunctionName="orders", Name="feature-x")["Description"]
    assert description.startswith("lambda-deploy preview of octo/orders#20")
    closed = pr(workspace, fast, tmp_path, 20, PR_BRANCH, "closed", {**inputs, "command": "cleanup"})
    assert closed.returncode == 0, closed.stdout
    assert "feature-x" not in aliases(lambda_client)


def test_a_renamed_branch_leaks_no_preview(
    fast: Sandbox, workspace: Path, inputs: dict[str, str], lambda_client: Any, tmp_path: Path
) -> None:
    public = {**inputs, "function-url": "public"}
    assert pr(workspace, fast, tmp_path, 20, "old-name", "opened", public).returncode == 0
    change(workspace, "after the rename")
    assert pr(workspace, fast, tmp_path, 20, "new-name", "synchronize", public).returncode == 0
    assert {"old-name", "new-name"} <= set(aliases(lambda_client))
    closed = pr(workspace, fast, tmp_path, 20, "new-name", "closed", {**public, "command": "cleanup"})
    assert closed.returncode == 0, closed.stdout
    assert not {"old-name", "new-name"} & set(aliases(lambda_client))
    for name in ("old-name", "new-name"):
        with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
            lambda_client.get_function_url_config(FunctionName="orders", Qualifier=name)
        with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
            lambda_client.get_policy(FunctionName="orders", Qualifier=name)
        assert f"removed alias {name}" in closed.stdout  # each one reported
    assert closed.outputs["alias"] in ("old-name,new-name", "new-name,old-name")
    assert "`old-name`" in closed.summary and "`new-name`" in closed.summary


def test_a_branch_cannot_squat_another_pull_requests_fallback(
    fast: Sandbox, workspace: Path, inputs: dict[str, str], lambda_client: Any, tmp_path: Path
) -> None:
    assert push(workspace, fast, {**inputs, "alias": "feature-x"}).returncode == 0  # someone's alias already has PR 42's name
    squatter = pr(workspace, fast, tmp_path, 41, "feature-x-pr42", "opened", inputs)
    assert squatter.returncode == 0 and squatter.outputs["alias"].startswith("feature-x-pr42-")
    victim = pr(workspace, fast, tmp_path, 42, PR_BRANCH, "opened", inputs)
    assert victim.returncode == 0, victim.stdout
    assert victim.outputs["alias"] == "feature-x-pr42"


def test_a_symlink_loop_in_the_source_is_an_input_error(fast: Sandbox, workspace: Path, inputs: dict[str, str]) -> None:
    (workspace / "app" / "a").symlink_to("b")
    (workspace / "app" / "b").symlink_to("a")
    run = push(workspace, fast, inputs)
    assert run.returncode == 1
    (error,) = run.errors
    assert "input 'source'" in error and "'a' cannot be followed" in error and "bug" not in error


def test_images_run_the_digest_that_was_resolved(fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:
    ecr = boto3.client("ecr", region_name=REGION)
    repository = ecr.create_repository(repositoryName="orders")["repository"]["repositoryUri"]
    push_image(ecr, "v1", "layer one")
    # ECR keeps an image when its tag moves (untagged); moto's drops it, so it keeps a second tag here.
    resolved = push_image(ecr, "prod", "layer one")
    moved: list[str] = []
    # The tag moves between the action's resolve and its create: what is created is what was resolved.
    fast.fidelity.before("CreateFunction", lambda: moved.append(push_image(ecr, "prod", "layer two")))  # type: ignore[union-attr]
    image = {"function-name": "orders", "alias": "live", "role": role_arn, "package-type": "Image", "image-uri": f"{repository}:prod"}
    run = push(workspace, fast, image)
    assert run.returncode == 0, run.stdout
    assert moved and moved[0] != resolved
    got = lambda_client.get_function(FunctionName="orders", Qualifier="1")
    assert got["Configuration"]["CodeSha256"] == resolved == run.outputs["code-sha256"]
    assert got["Code"]["ImageUri"] == f"{repository}@sha256:{resolved}"
    assert f"deployed as {repository}@sha256:{resolved}" in run.stdout


def hostile_zip(path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(e, c):\n    return 1\n")
        archive.writestr("../../evil.py", "x")
        archive.writestr("/etc/evil.py", "x")
        link = zipfile.ZipInfo("environ")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/proc/self/environ")
        archive.writestr(".git/config", "[http]\n\textraheader = AUTHORIZATION: basic x\n")
    path.write_bytes(buffer.getvalue())


def test_a_ready_zip_that_escapes_or_carries_git_is_refused(
    fast: Sandbox, workspace: Path, inputs: dict[str, str], lambda_client: Any
) -> None:
    hostile_zip(workspace / "function.zip")
    run = push(workspace, fast, {**inputs, "source": "function.zip"})
    assert run.returncode == 1
    (error,) = run.errors
    for entry in ("'../../evil.py'", "'/etc/evil.py'", "'environ': a symlink that leaves the archive", "'.git/config'"):
        assert entry in error, error
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName="orders")


def test_bidi_controls_reach_neither_the_log_nor_the_comment_raw(fast: Sandbox, workspace: Path, inputs: dict[str, str]) -> None:
    # The runner emulation fails any run with a raw bidi control in its log, summary or outputs.
    run = push(workspace, fast, {**inputs, "description": "orders \u202eipa-sredro"})
    assert run.returncode == 0, run.stdout
    assert "\\u202e" in run.summary
    assert json.dumps("\u202e") not in run.summary
