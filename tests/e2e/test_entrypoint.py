"""entrypoint.py as a subprocess, run as the runner runs it, against the sandbox."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.package import build_artifact
from deployer.planner import package_key
from deployer.sandbox import REGION, Sandbox
from tests.e2e.runner import ENTRYPOINT, create_inputs, github_env, prepare, run_action
from tests.unit.test_package import make_wheel
from tests.unit.test_report import parse_github_output


@pytest.fixture
def create(role_arn: str) -> dict[str, str]:
    return create_inputs(role_arn)


def test_deploy_unchanged_and_changed(fast: Sandbox, workspace: Path, create: dict[str, str], lambda_client: Any) -> None:
    first = run_action(workspace, fast, create)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.outputs == {
        "function-arn": "arn:aws:lambda:us-east-1:123456789012:function:orders",
        "version": "1",
        "previous-version": "",
        "alias": "live",
        "alias-arn": "arn:aws:lambda:us-east-1:123456789012:function:orders:live",
        "code-sha256": lambda_client.get_function(FunctionName="orders")["Configuration"]["CodeSha256"],
        "changed": "true",
        "status": "deployed",
        "stable-version": "1",
        "canary-version": "",
        "function-url": "",
        "deleted-versions": "",
        "analysis": "",  # no canary analysis in this rollout
    }
    for group in ("Read current state", "Package", "Plan", "Deploy"):
        assert f"::group::{group}" in first.stdout
    assert "| Version | 1 (new) |" in first.summary and "CreateFunction" in first.summary

    second = run_action(workspace, fast, create)
    assert (second.outputs["status"], second.outputs["changed"], second.outputs["version"]) == ("unchanged", "false", "1")
    assert "1 (reused)" in second.summary

    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v2'\n")
    third = run_action(workspace, fast, create)
    assert (third.outputs["status"], third.outputs["version"], third.outputs["previous-version"]) == ("deployed", "2", "1")
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "2"


def test_pull_request_gets_a_preview_alias_named_after_its_branch(fast: Sandbox, workspace: Path, create: dict[str, str]) -> None:
    inputs = {**create, "alias": ""}
    run = run_action(workspace, fast, inputs, github=github_env(event="pull_request", ref_name="17/merge", head_ref="feature/login-page"))
    assert run.returncode == 0, run.stdout
    assert run.outputs["alias"] == "feature-login-page"
    assert run.outputs["alias-arn"].endswith(":orders:feature-login-page")


def test_secrets_are_masked_before_anything_prints_them(fast: Sandbox, workspace: Path, create: dict[str, str]) -> None:
    secret = "postgres://admin:sw0rdfish@db.internal/orders"
    run = run_action(workspace, fast, {**create, "environment": f"DATABASE_URL={secret}\nSTAGE=production"})
    assert run.returncode == 0, run.stdout
    lines = run.stdout.splitlines()
    mask_line = lines.index(f"::add-mask::{secret}")
    assert all(secret not in line for line in lines[mask_line + 1 :])
    assert "::add-mask::production" not in lines  # a plain word: masking it would garble the log (deployer.masking)
    assert secret not in run.summary and secret not in "".join(run.outputs.values()) and secret not in run.stderr
    assert "+DATABASE_URL" in run.summary


def test_dry_run_plans_without_changing_anything(fast: Sandbox, workspace: Path, create: dict[str, str], lambda_client: Any) -> None:
    run = run_action(workspace, fast, {**create, "dry-run": "true"})
    assert run.returncode == 0, run.stdout
    assert run.outputs["status"] == "planned" and run.outputs["changed"] == "false"
    assert "create function orders" in run.summary and "dry run" in run.summary
    assert lambda_client.list_functions()["Functions"] == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"architecture": "sparc"}, "input 'architecture': 'sparc' is not one of: x86_64, arm64"),
        ({"memory": "a lot"}, "input 'memory': 'a lot' is not a whole number of MB"),
        ({"timeout": "99999"}, "input 'timeout': 99999 is outside the allowed range"),
        ({"source": "nowhere"}, "input 'source': 'nowhere' does not exist"),
        ({"environment": "AWS_REGION=eu-west-1"}, "'AWS_REGION' is reserved by Lambda"),
        ({"environment": "BIG=" + "x" * 4100}, "Lambda allows 4,096 bytes"),
        ({"alias": "123"}, "input 'alias': '123' is all digits"),
        ({"dry-run": "maybe"}, "input 'dry-run': 'maybe' is not a boolean"),
        ({"role": ""}, "creating it needs role"),
        ({"source": "../elsewhere"}, "input 'source': '../elsewhere' is outside the workspace"),
        ({"handler": "handler. handler"}, "input 'handler': 'handler. handler' does not match the pattern AWS requires"),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(
    fast: Sandbox, workspace: Path, create: dict[str, str], lambda_client: Any, bad: dict[str, str], message: str
) -> None:
    run = run_action(workspace, fast, {**create, **bad})
    assert run.returncode == 1
    assert any(message in line for line in run.errors), run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    assert "❌ Failed" in run.summary
    assert lambda_client.list_functions()["Functions"] == []
    assert not any(op.startswith(("Create", "Update", "Publish")) for op, _ in fast.fidelity.refusals)  # type: ignore[union-attr]


def test_a_file_name_that_is_not_utf8_is_a_clear_error_not_a_bug(fast: Sandbox, workspace: Path, create: dict[str, str]) -> None:
    os.close(os.open(os.fsencode(workspace / "app") + b"/r\xe9sum\xe9.py", os.O_CREAT | os.O_WRONLY))
    run = run_action(workspace, fast, create)
    assert run.returncode == 1
    assert any("are not valid UTF-8: 'r\\xe9sum\\xe9.py'" in line for line in run.errors), run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_missing_required_input(fast: Sandbox, workspace: Path) -> None:
    run = run_action(workspace, fast, {"alias": "live"})
    assert run.returncode == 1
    assert any("input 'function-name': is required" in line for line in run.errors)


def test_an_internal_bug_exits_2_and_says_so(fast: Sandbox, workspace: Path, create: dict[str, str]) -> None:
    fast.fidelity.garbled.add("GetFunction")  # type: ignore[union-attr]  # an answer the gateway cannot read: our bug to own
    run = run_action(workspace, fast, create)
    assert run.returncode == 2
    assert any("bug in lambda-deploy" in line for line in run.errors)


def test_an_unwritable_github_output_is_the_runners_problem_said_plainly(
    fast: Sandbox, workspace: Path, create: dict[str, str], tmp_path: Path
) -> None:
    files = tmp_path / "cmds"
    files.mkdir()
    (files / "output").mkdir()  # GITHUB_OUTPUT is a directory: the outputs cannot be written
    run = run_action(workspace, fast, create, file_commands=files)
    assert run.returncode == 1
    (error,) = run.errors
    assert "GITHUB_OUTPUT" in error and str(files / "output") in error and "bug" not in error
    assert "Deployed: function orders, alias live on version 1" in error  # what this run did stands, and is said


def test_a_missing_job_summary_is_a_warning_and_the_deploy_stands(
    fast: Sandbox, workspace: Path, create: dict[str, str], tmp_path: Path, lambda_client: Any
) -> None:
    files = tmp_path / "cmds"
    files.mkdir()
    step = prepare(workspace, fast, create, file_commands=files)
    step.env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "not-mounted" / "summary")  # as act passed it: a path that does not exist
    done = subprocess.run(ENTRYPOINT, cwd=workspace, env=step.env, capture_output=True, timeout=120, check=False)
    log = done.stdout.decode()
    assert done.returncode == 0, log
    warnings = [line for line in log.splitlines() if line.startswith("::warning::")]
    assert len(warnings) == 1 and "job summary could not be written" in warnings[0] and "not-mounted" in warnings[0]
    assert parse_github_output(step.output.read_text())["version"] == "1"  # the outputs are written all the same
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "1"


def publish_layer(sandbox: Sandbox, lambda_client: Any) -> str:
    """moto 5.2 looks layers up in its Docker backend even when Docker is off, so publish
    the layer with that backend selected, then switch back."""
    sandbox.use_docker_backend(True)
    try:
        return str(
            lambda_client.publish_layer_version(LayerName="deps", Content={"ZipFile": b"PK\x05\x06" + b"\0" * 18})["LayerVersionArn"]
        )
    finally:
        sandbox.use_docker_backend(False)


def test_every_function_input_through_the_entrypoint(
    fast: Sandbox, workspace: Path, create: dict[str, str], lambda_client: Any, tmp_path: Path
) -> None:

    layer = publish_layer(fast, lambda_client)
    (workspace / "app" / "README.md").write_text("left out")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "tinydep", "VALUE = 1\n")
    (workspace / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\ntinydep==1.0\n")
    inputs = {
        **create,
        "exclude": "*.md",
        "requirements": "requirements.txt",
        "architecture": "arm64",
        "memory": "256",
        "timeout": "15",
        "description": "Orders API",
        "layers": layer,
        "environment": "STAGE: prod\nLOG_LEVEL: info",
        "tags": "team=payments",
        "aws-region": "us-east-1",
        "wait-timeout": "60",
    }
    run = run_action(workspace, fast, inputs)
    assert run.returncode == 0, run.stdout + run.stderr
    config = lambda_client.get_function(FunctionName="orders")
    settings = config["Configuration"]
    assert (settings["MemorySize"], settings["Timeout"], settings["Description"], settings["Architectures"]) == (
        256,
        15,
        "Orders API",
        ["arm64"],
    )
    assert [entry["Arn"] for entry in settings["Layers"]] == [layer]
    assert settings["Environment"]["Variables"] == {"STAGE": "prod", "LOG_LEVEL": "info"}
    assert config["Tags"]["team"] == "payments" and config["Tags"]["lambda-deploy:actor"] == "octocat"
    expected = build_artifact(workspace / "app", ("*.md",), workspace / "requirements.txt", "python3.12", "arm64")
    assert run.outputs["code-sha256"] == expected.sha256 == settings["CodeSha256"]

    replaced = run_action(
        workspace,
        fast,
        {**create, "environment": "ONLY=1", "environment-mode": "replace", "exclude": "*.md", "requirements": "requirements.txt"},
    )
    assert replaced.returncode == 0, replaced.stdout
    assert lambda_client.get_function_configuration(FunctionName="orders")["Environment"]["Variables"] == {"ONLY": "1"}
    assert "-LOG_LEVEL" in replaced.summary and "-STAGE" in replaced.summary and "prod" not in replaced.summary


def test_a_package_through_s3_as_the_runner_passes_it(sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="deploy-artifacts")
    inputs = {**create_inputs(role_arn), "s3-bucket": "deploy-artifacts", "s3-key-prefix": "teams/orders/"}
    run = run_action(workspace, sandbox, inputs)
    assert run.returncode == 0, run.stdout
    (key,) = [item["Key"] for item in s3.list_objects_v2(Bucket="deploy-artifacts")["Contents"]]
    assert key == package_key("teams/orders/", run.outputs["code-sha256"])
    assert lambda_client.get_function(FunctionName="orders")["Configuration"]["CodeSha256"] == run.outputs["code-sha256"]
    assert run.calls["PutObject"] == 1
