"""A deploy file as the runner runs the action: five functions, one refused because its alarm
already fires; and a file with mistakes, annotated on their lines."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import boto3

from deployer.sandbox import REGION, Sandbox
from tests.conftest import create_alarm
from tests.e2e.runner import run_action, start_action

NAMES = ["orders", "billing", "search", "users", "mailer"]


def deploy_file(workspace: Path, role_arn: str) -> None:
    lines = ["defaults:", "  runtime: python3.12", "  handler: app.handler", f"  role: {role_arn}", "  alias: live", "functions:"]
    for name in NAMES:
        folder = workspace / "services" / name
        folder.mkdir(parents=True)
        (folder / "app.py").write_text(f"def handler(event, context):\n    return {name!r}\n")
        lines += [f"  - function-name: {name}", f"    source: services/{name}"]
        if name == "search":
            lines.append("    alarms: search-errors")
    (workspace / "deploy.yml").write_text("\n".join(lines) + "\n")


def test_five_functions_from_one_file_one_refused_by_its_firing_alarm(
    sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]
    deploy_file(workspace, role_arn)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    create_alarm(cloudwatch, "search-errors")
    cloudwatch.set_alarm_state(AlarmName="search-errors", StateValue="ALARM", StateReason="on fire")
    run = run_action(workspace, sandbox, {"function-name": "", "config": "deploy.yml", "max-parallel": "3"})
    assert run.returncode == 1
    results = json.loads(run.outputs["results"])
    assert {name: entry["status"] for name, entry in results.items()} == {**dict.fromkeys(NAMES, "deployed"), "search": "failed"}
    assert "alarm search-errors is already in ALARM before anything moved" in results["search"]["error"]
    assert results["orders"]["version"] == "1" and results["orders"]["alias"] == "live" and results["orders"]["code-sha256"]
    assert run.outputs["status"] == "failed"
    assert "### lambda-deploy: 5 functions from `deploy.yml`: ✅ 4 deployed, ❌ 1 failed" in run.summary
    assert "| `search` | - | - | ❌ failed |" in run.summary
    for name in set(NAMES) - {"search"}:
        assert f"| `{name}` | 1 (new) | `live`: (new alias) → 1 | ✅ deployed |" in run.summary
        assert f"<details><summary>{name}: deployed</summary>" in run.summary
    assert sorted(f["FunctionName"] for f in lambda_client.list_functions()["Functions"]) == sorted(set(NAMES) - {"search"})
    assert any(e.startswith("::error title=function 'search'") for e in run.errors)


def test_a_file_with_mistakes_is_annotated_on_its_lines_and_nothing_runs(
    sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    deploy_file(workspace, role_arn)
    text = (workspace / "deploy.yml").read_text()
    text = text.replace("  - function-name: billing\n", "  - function-name: billing\n    memroy: 256\n")
    text = text.replace("  - function-name: users\n", "  - function-name: users\n    timeout: 99999\n")
    (workspace / "deploy.yml").write_text(text)
    run = run_action(workspace, sandbox, {"function-name": "", "config": "deploy.yml"})
    assert run.returncode == 1
    annotations = [c for c in run.commands if c.name == "error"]
    located = {(c.properties.get("file"), c.properties.get("line")) for c in annotations}
    assert ("deploy.yml", "10") in located  # memroy
    assert len(annotations) == 1  # structure first: the value errors come once the keys are right
    assert "did you mean 'memory'?" in annotations[0].data
    (workspace / "deploy.yml").write_text(text.replace("    memroy: 256\n", ""))
    run = run_action(workspace, sandbox, {"function-name": "", "config": "deploy.yml"})
    (error,) = [c for c in run.commands if c.name == "error"]
    assert error.properties["file"] == "deploy.yml" and error.properties["line"] == "15"
    assert "function 'users', key 'timeout': 99999 is outside the allowed range" in error.data
    assert lambda_client.list_functions()["Functions"] == []


def test_sigterm_mid_bake_restores_every_functions_alias(sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:
    """The runner cancels the job: every baking canary of the fleet goes back to stable."""
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]
    deploy_file(workspace, role_arn)
    create_alarm(boto3.client("cloudwatch", region_name=REGION), "search-errors")  # in OK: search deploys too
    first = run_action(workspace, sandbox, {"function-name": "", "config": "deploy.yml"})
    assert first.returncode == 0, first.stdout
    baking = NAMES
    for name in baking:
        (workspace / "services" / name / "app.py").write_text(f"def handler(event, context):\n    return {name!r} * 2\n")
    # max-parallel 5: all five bake at once when the signal comes
    inputs = {"function-name": "", "config": "deploy.yml", "max-parallel": "5", "strategy": "canary 10% 60s", "health-interval": "1"}
    process, step = start_action(workspace, sandbox, inputs)

    def canaries() -> dict[str, dict[str, float]]:
        found = {}
        for name in baking:
            alias = lambda_client.get_alias(FunctionName=name, Name="live")
            found[name] = dict((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights", {}))
        return found

    deadline = time.monotonic() + 60
    while canaries() != {name: {"2": 0.1} for name in baking}:
        assert time.monotonic() < deadline and process.poll() is None, "the canaries never all started"
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    run = step.result(process.returncode, stdout, stderr)
    assert run.returncode == 1
    statuses = {name: entry["status"] for name, entry in json.loads(run.outputs["results"]).items()}
    assert statuses == dict.fromkeys(baking, "rolled-back")
    assert canaries() == {name: {} for name in baking}
    assert all(lambda_client.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1" for name in baking)
    assert "Traceback" not in stdout + stderr


def test_only_and_fail_fast_as_the_runner_passes_them(sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]
    deploy_file(workspace, role_arn)
    one = run_action(workspace, sandbox, {"function-name": "", "config": "deploy.yml", "only": "billing"})
    assert one.returncode == 0, one.stdout
    assert (one.outputs["status"], one.outputs["version"], one.outputs["alias"]) == ("deployed", "1", "live")  # single-function outputs
    assert [f["FunctionName"] for f in lambda_client.list_functions()["Functions"]] == ["billing"]

    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    create_alarm(cloudwatch, "search-errors")
    cloudwatch.set_alarm_state(AlarmName="search-errors", StateValue="ALARM", StateReason="on fire")
    # One at a time, in file order: search (third) fails, so users and mailer never start.
    run = run_action(workspace, sandbox, {"function-name": "", "config": "deploy.yml", "max-parallel": "1", "fail-fast": "true"})
    assert run.returncode == 1
    statuses = {name: entry["status"] for name, entry in json.loads(run.outputs["results"]).items()}
    assert statuses == {"orders": "deployed", "billing": "unchanged", "search": "failed", "users": "skipped", "mailer": "skipped"}
    assert sorted(f["FunctionName"] for f in lambda_client.list_functions()["Functions"]) == ["billing", "orders"]
