"""Many functions from one deploy file, against the sandbox: in parallel, isolated, fail-fast, list and only."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.app import main
from deployer.aws import Services
from deployer.github import Reporter
from deployer.sandbox import REGION, Sandbox
from deployer.settings import Settings
from tests.conftest import create_alarm
from tests.fakes import SummaryConsole


def connect(settings: Settings, io: Reporter) -> Services:
    return Services.connect(REGION, settings.wait_timeout, io.info, poll_delay=0.01)


def write_file(workspace: Path, role_arn: str, names: list[str], extra: str = "") -> None:
    for name in names:
        folder = workspace / "services" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "app.py").write_text(f"def handler(event, context):\n    return {name!r}\n")
    functions = "".join(f"  - function-name: {name}\n    source: services/{name}\n" for name in names)
    (workspace / "deploy.yml").write_text(
        f"defaults:\n  runtime: python3.12\n  handler: app.handler\n  role: {role_arn}\n  alias: live\n{extra}functions:\n{functions}"
    )


def run(workspace: Path, **inputs: str) -> tuple[int, dict[str, Any], str]:
    out = io.StringIO()
    env = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": REGION, "GITHUB_REF_NAME": "main"}
    console = SummaryConsole(out)
    code, payload = main({"config": "deploy.yml", **inputs}, env, console, connect=connect)
    return code, payload, out.getvalue() + "\n".join(console.summaries)  # the log, then the summary's Markdown


NAMES = ["orders", "billing", "search", "users", "mailer"]


@pytest.fixture
def quick(sandbox: Sandbox) -> Sandbox:
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]
    yield sandbox  # type: ignore[misc]
    sandbox.fidelity.in_progress_reads = 2  # type: ignore[union-attr]


def test_functions_deploy_in_parallel_and_one_failure_touches_no_other(
    quick: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    write_file(workspace, role_arn, NAMES)
    text = (workspace / "deploy.yml").read_text()  # search gates on an alarm that will fire
    (workspace / "deploy.yml").write_text(
        text.replace("  - function-name: search\n", "  - function-name: search\n    alarms: search-errors\n")
    )
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    create_alarm(cloudwatch, "search-errors")
    code, results, log = run(workspace)
    assert code == 0, log  # the alarm is OK: all five deploy
    assert {name: r["status"] for name, r in results.items()} == dict.fromkeys(NAMES, "deployed")

    for name in NAMES:
        (workspace / "services" / name / "app.py").write_text("v = 2\n")
    cloudwatch.set_alarm_state(AlarmName="search-errors", StateValue="ALARM", StateReason="test")
    code, results, log = run(workspace, **{"max-parallel": "2"})
    assert code == 1
    assert results["search"]["status"] == "failed" and "already in ALARM" in results["search"]["error"]
    assert {name: results[name]["version"] for name in NAMES if name != "search"} == dict.fromkeys(set(NAMES) - {"search"}, "2")
    assert lambda_client.get_alias(FunctionName="search", Name="live")["FunctionVersion"] == "1"
    assert "[search] " in log and "[orders] " in log  # every line names its function
    assert "| `search` | - | - | ❌ failed |" in log and "| `orders` | 2 (new) | `live`: 1 → 2 | ✅ deployed |" in log


def test_fail_fast_skips_what_has_not_started(quick: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:
    write_file(workspace, role_arn, ["first", "second", "third"])
    text = (
        (workspace / "deploy.yml")
        .read_text()
        .replace("  - function-name: first\n", "  - function-name: first\n    alarms: missing-alarm\n")
    )
    (workspace / "deploy.yml").write_text(text)
    code, results, _ = run(workspace, **{"max-parallel": "1", "fail-fast": "true"})
    assert code == 1
    assert [results[name]["status"] for name in ("first", "second", "third")] == ["failed", "skipped", "skipped"]
    assert "fail-fast: function 'first' failed" in results["second"]["error"]
    assert lambda_client.list_functions()["Functions"] == []
    code, results, _ = run(workspace, **{"max-parallel": "1"})  # without fail-fast the others go on
    assert [results[name]["status"] for name in ("first", "second", "third")] == ["failed", "deployed", "deployed"]


def test_fail_fast_rolls_back_a_canary_that_is_baking(quick: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:
    write_file(workspace, role_arn, ["slow", "broken"])
    assert run(workspace)[0] == 0
    for name in ("slow", "broken"):
        (workspace / "services" / name / "app.py").write_text("v = 2\n")
    text = (workspace / "deploy.yml").read_text()
    text = text.replace("  - function-name: slow\n", "  - function-name: slow\n    strategy: canary 10% 30s\n    health-interval: 1\n")
    text = text.replace("  - function-name: broken\n", "  - function-name: broken\n    alarms: missing-alarm\n")
    (workspace / "deploy.yml").write_text(text)

    # broken starts (and fails) only once slow's canary is baking
    def when_slow_bakes() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if (lambda_client.get_alias(FunctionName="slow", Name="live").get("RoutingConfig") or {}).get("AdditionalVersionWeights"):
                return
            time.sleep(0.05)

    quick.fidelity.before("GetFunction", when_slow_bakes, function="broken")  # type: ignore[union-attr]
    code, results, _ = run(workspace, **{"fail-fast": "true"})
    assert code == 1
    assert results["broken"]["status"] == "failed" and results["slow"]["status"] == "rolled-back"
    alias = lambda_client.get_alias(FunctionName="slow", Name="live")
    assert alias["FunctionVersion"] == "1" and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")


def test_rollouts_of_several_functions_bake_at_the_same_time(quick: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:
    names = ["a", "b", "c"]
    write_file(workspace, role_arn, names)
    assert run(workspace)[0] == 0
    for name in names:
        (workspace / "services" / name / "app.py").write_text("v = 2\n")
    text = (
        (workspace / "deploy.yml")
        .read_text()
        .replace("  alias: live\n", "  alias: live\n  strategy: canary 10% 3s\n  health-interval: 1\n")
    )
    (workspace / "deploy.yml").write_text(text)
    most = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal most
        while not done.is_set():
            baking = [
                n
                for n in names
                if (lambda_client.get_alias(FunctionName=n, Name="live").get("RoutingConfig") or {}).get("AdditionalVersionWeights")
            ]
            most = max(most, len(baking))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        code, results, _ = run(workspace, **{"max-parallel": "3"})
    finally:
        done.set()
        watcher.join()
    assert code == 0 and {r["status"] for r in results.values()} == {"deployed"}
    assert most == 3  # all three canaries were open at one moment


def test_list_validates_and_names_the_functions_without_calling_aws(sandbox: Sandbox, workspace: Path, role_arn: str) -> None:
    write_file(workspace, role_arn, NAMES)
    sandbox.network.arm({})  # type: ignore[union-attr]
    code, payload, _ = run(workspace, command="list")
    assert (code, payload) == (0, {"functions": NAMES})
    assert sandbox.network.requests == 0  # type: ignore[union-attr]


def test_only_deploys_one_function_with_the_single_function_outputs(
    quick: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    write_file(workspace, role_arn, NAMES)
    code, payload, _ = run(workspace, only="billing")
    assert code == 0 and list(payload) == ["billing"] and payload["billing"]["version"] == "1"
    assert [f["FunctionName"] for f in lambda_client.list_functions()["Functions"]] == ["billing"]
    code, _, log = run(workspace, only="nope")
    assert code == 1 and "'nope' is not a function of deploy.yml" in log and "the file has: orders, billing" in log


def test_inputs_given_to_the_action_override_the_files_defaults_but_not_a_functions_own(
    quick: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    write_file(workspace, role_arn, ["plain", "own"])
    text = (workspace / "deploy.yml").read_text().replace("  - function-name: own\n", "  - function-name: own\n    memory: 512\n")
    (workspace / "deploy.yml").write_text(text.replace("  alias: live\n", "  alias: live\n  memory: 1024\n"))
    code, _, log = run(workspace, memory="256")
    assert code == 0, log
    memory = {name: lambda_client.get_function_configuration(FunctionName=name)["MemorySize"] for name in ("plain", "own")}
    assert memory == {"plain": 256, "own": 512}
