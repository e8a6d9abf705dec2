"""The operator commands as a person runs them: ``python -m deployer init|diff|status|logs|invoke``
as subprocesses against the sandbox, progress on stderr and data on stdout; and ``command: diff``
and ``command: status`` through entrypoint.py as the runner runs them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from deployer.commands import COMMANDS
from deployer.model import Command
from deployer.sandbox import REGION, Sandbox
from tests.conftest import ROOT, make_zip
from tests.e2e.runner import RAW_CONTROL, run_action

PASSWORD = "hunter2-correct-horse"


def cli(sandbox: Sandbox, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "GITHUB_WORKSPACE": str(cwd), **sandbox.env()}
    env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    done = subprocess.run(
        [sys.executable, "-m", "deployer", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.fixture
def console_made(sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> Path:
    """A function made directly with boto3, as the console would: a password in its environment."""
    sandbox.fidelity.in_progress_reads = 0  # type: ignore[union-attr]
    code = (workspace / "app" / "handler.py").read_text()
    lambda_client.create_function(
        FunctionName="orders", Runtime="python3.12", Role=role_arn, Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": code})}, MemorySize=256, Timeout=20, TracingConfig={"Mode": "Active"},
        Environment={"Variables": {"STAGE": "production", "DB_PASSWORD": PASSWORD}}, Tags={"team": "payments"},
    )  # fmt: skip
    version = lambda_client.publish_version(FunctionName="orders")["Version"]
    lambda_client.create_alias(FunctionName="orders", Name="live", FunctionVersion=version)
    yield workspace  # type: ignore[misc]
    sandbox.fidelity.in_progress_reads = 2  # type: ignore[union-attr]


def test_adopt_then_diff_then_status(sandbox: Sandbox, console_made: Path, lambda_client: Any) -> None:
    workspace = console_made
    init = cli(sandbox, workspace, "init", "--function-name", "orders", "--output", "deploy.yml", "--download-code", "live-code")
    assert init.returncode == 0, init.stderr
    text = (workspace / "deploy.yml").read_text()
    assert PASSWORD not in text and "DB_PASSWORD: not written, it looks secret" in text and "secrets.DB_PASSWORD" in text
    assert "# alias live → version 1" in text
    entry = yaml.safe_load(text)["functions"][0]
    assert (entry["memory"], entry["timeout"], entry["tracing"], entry["tags"]) == (256, 20, "Active", {"team": "payments"})
    assert entry["environment"] == {"STAGE": "production"} and entry["alias"] == "live"
    assert (workspace / "live-code" / "handler.py").read_text() == (workspace / "app" / "handler.py").read_text()
    listed = cli(sandbox, workspace, "list", "--config", "deploy.yml")  # outside a workflow, with no alias given
    assert listed.returncode == 0 and "orders" in listed.stdout + listed.stderr, listed.stderr
    assert entry["source"] == "live-code"  # the folder it downloaded to, not the whole working folder

    # The downloaded code is the console's files in other zip bytes: no difference, and a deploy publishes nothing.
    same = cli(sandbox, workspace, "diff", "--config", "deploy.yml")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "no difference" in same.stdout
    deployed = cli(sandbox, workspace, "deploy", "--config", "deploy.yml", "--json")
    assert deployed.returncode == 0, deployed.stderr
    result = json.loads(deployed.stdout)["orders"]
    assert (result["status"], result["version"]) == ("unchanged", "1"), result
    assert [v["Version"] for v in lambda_client.list_versions_by_function(FunctionName="orders")["Versions"]] == ["$LATEST", "1"]
    assert "in other zip bytes: the code is left as it is" in deployed.stderr
    assert lambda_client.get_function_configuration(FunctionName="orders")["Environment"]["Variables"]["DB_PASSWORD"] == PASSWORD

    changed = (workspace / "deploy.yml").read_text().replace("memory: 256", "memory: 512")
    (workspace / "deploy.yml").write_text(changed)
    differs = cli(sandbox, workspace, "diff", "--config", "deploy.yml")
    assert differs.returncode == 3, differs.stdout + differs.stderr
    assert "memory: 256 → 512" in differs.stdout
    assert cli(sandbox, workspace, "deploy", "--config", "deploy.yml").returncode == 0

    status = cli(sandbox, workspace, "status", "--function-name", "orders", "--keep-versions", "1", "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    # Only the memory change made a version: 2.
    assert [v["version"] for v in data["versions"]] == ["1", "2"] and [a["name"] for a in data["aliases"]] == ["live"]
    assert data["aliases"][0]["version"] == "2" and data["prunable"] == []  # version 1 is younger than prune-grace
    sandbox.fidelity.age("orders", 7200)  # type: ignore[union-attr]
    aged = json.loads(cli(sandbox, workspace, "status", "--function-name", "orders", "--keep-versions", "1", "--json").stdout)
    assert aged["prunable"] == ["1"] and aged["versions"][1]["commit"] == ""


def test_diff_of_a_single_function_names_config_and_files(sandbox: Sandbox, console_made: Path) -> None:
    workspace = console_made
    (workspace / "app" / "extra.py").write_text("X = 1\n")
    done = cli(sandbox, workspace, "diff", "--function-name", "orders", "--source", "app", "--alias", "live", "--timeout", "30")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "timeout: 20 → 30" in done.stdout and "+ extra.py" in done.stdout
    as_json = json.loads(
        cli(sandbox, workspace, "diff", "--function-name", "orders", "--source", "app", "--alias", "live", "--json").stdout
    )
    assert as_json["differs"] and as_json["files"]["added"] == ["extra.py"]


def test_logs_reads_the_log_group_the_function_names(sandbox: Sandbox, console_made: Path) -> None:
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    now = int(time.time() * 1000)
    for stream, version in (("2026/11/30/[1]aaaa", "1"), ("2026/11/30/[2]bbbb", "2")):
        logs.create_log_stream(logGroupName="/aws/lambda/orders", logStreamName=stream)
        events = [
            {"timestamp": now - 1000, "message": f"hello from version {version}"},
            {"timestamp": now - 500, "message": f"ERROR in {version}"},
        ]
        logs.put_log_events(logGroupName="/aws/lambda/orders", logStreamName=stream, logEvents=events)
    every = cli(sandbox, console_made, "logs", "--function-name", "orders", "--since", "10m")
    assert every.returncode == 0, every.stderr
    assert (
        "hello from version 1" in every.stdout and "hello from version 2" in every.stdout and "log group /aws/lambda/orders" in every.stderr
    )
    one = cli(sandbox, console_made, "logs", "--function-name", "orders", "--since", "10m", "--version", "2", "--filter", "ERROR")
    assert one.stdout.strip().splitlines() == [line for line in one.stdout.strip().splitlines() if "ERROR in 2" in line] and one.stdout
    by_alias = cli(sandbox, console_made, "logs", "--function-name", "orders", "--alias", "live")
    assert "version 1" in by_alias.stdout and "version 2" not in by_alias.stdout
    bad = cli(sandbox, console_made, "logs", "--function-name", "orders", "--since", "yesterday-ish")
    assert bad.returncode == 1 and "neither a duration" in bad.stderr


def test_invoke_prints_the_response_status_version_and_log_tail(sandbox: Sandbox, console_made: Path) -> None:
    done = cli(sandbox, console_made, "invoke", "--function-name", "orders", "--qualifier", "live", "--payload", '{"ping": 1}', "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status_code"] == 200 and answer["executed_version"] == "1" and "START RequestId" in answer["log_tail"]
    (console_made / "event.json").write_text('{"from": "file"}')
    assert cli(sandbox, console_made, "invoke", "--function-name", "orders", "--payload", "@event.json").returncode == 0
    sandbox.fidelity.failing_versions.add("1")  # type: ignore[union-attr]
    failed = cli(sandbox, console_made, "invoke", "--function-name", "orders", "--qualifier", "1")
    assert failed.returncode == 1 and "FunctionError: Unhandled" in failed.stdout and "reported an error" in failed.stderr
    refused = cli(sandbox, console_made, "invoke", "--function-name", "orders", "--payload", "{oops")
    assert refused.returncode == 1 and "is not valid JSON" in refused.stderr


def test_the_action_writes_diff_and_status_to_the_summary(sandbox: Sandbox, console_made: Path) -> None:
    diff = run_action(
        console_made, sandbox, {"function-name": "orders", "source": "app", "alias": "live", "command": "diff", "memory": "1024"}
    )
    assert diff.returncode == 0, diff.stdout
    assert "memory | 256 → 1024" in diff.summary and diff.outputs["changed"] == "true" and diff.outputs["status"] == "planned"
    status = run_action(console_made, sandbox, {"function-name": "orders", "command": "status"})
    assert status.returncode == 0, status.stdout
    assert "status of `orders`" in status.summary and "`live`" in status.summary
    assert not RAW_CONTROL.search(status.summary)
    (console_made / "deploy.yml").write_text("functions:\n  - function-name: orders\n    alias: live\n")
    with_file = run_action(console_made, sandbox, {"config": "deploy.yml", "command": "status"})  # every function of the file
    assert with_file.returncode == 0 and "status of `orders`" in with_file.summary, with_file.stdout


def test_operator_help_comes_from_one_place() -> None:

    done = subprocess.run([sys.executable, "-m", "deployer", "logs", "--help"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0
    for flag in COMMANDS[Command.LOGS].flags:
        assert f"--{flag.name}" in done.stdout
    assert "Name or ARN of the Lambda function" in done.stdout or "function" in done.stdout


def test_logs_follow_tails_and_stops_cleanly_on_ctrl_c(sandbox: Sandbox, console_made: Path) -> None:

    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    logs.create_log_stream(logGroupName="/aws/lambda/orders", logStreamName="2026/11/30/[1]aaaa")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(console_made), **sandbox.env(), "AWS_CONFIG_FILE": "/dev/null"}
    process = subprocess.Popen(
        [sys.executable, "-m", "deployer", "logs", "--function-name", "orders", "--follow"],
        cwd=console_made, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(3)  # the first poll is done; this event comes with the next one
    logs.put_log_events(
        logGroupName="/aws/lambda/orders",
        logStreamName="2026/11/30/[1]aaaa",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "tailed"}],
    )
    time.sleep(4)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0 and "Traceback" not in stderr, stderr
    assert stdout.count("tailed") == 1
