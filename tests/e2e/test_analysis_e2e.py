"""Canary analysis through ``entrypoint.py``: a stepped canary with a 1 s health interval while
the sandbox's traffic simulator calls through the alias, and the new version turns slow or
failing. The verdict names the numbers; the summary draws the rollout; the outputs carry it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deployer.sandbox import Sandbox
from deployer.sandbox.metrics import Profile, TrafficSimulator
from tests.conftest import alias_of
from tests.e2e.runner import ActionRun, create_inputs, run_action
from tests.markdown_check import problems as markdown_problems

STEPPED = {"strategy": "30% 4s, 60% 4s, 100%", "health-interval": "1", "min-invocations": "20", "source": "app"}


@pytest.fixture
def traffic(fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> Iterator[TrafficSimulator]:
    """orders on version 1 behind live, 80 requests a second through the alias, version 2's code waiting."""
    assert run_action(workspace, fast, create_inputs(role_arn)).returncode == 0
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 2\n")
    simulator = fast.traffic("orders", "live", rate=80)
    simulator.default(Profile(latency=100.0))
    with simulator:
        yield simulator


def release(workspace: Path, sandbox: Sandbox, role_arn: str, **gates: str) -> ActionRun:
    return run_action(workspace, sandbox, {**create_inputs(role_arn), **STEPPED, **gates})


def test_a_new_version_three_times_slower_rolls_back_naming_latency_and_both_numbers(
    traffic: TrafficSimulator, fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    traffic.profile("2", Profile(latency=300.0))
    run = release(workspace, fast, role_arn, **{"max-latency-increase": "25%"})
    assert run.returncode == 1, run.stdout
    assert alias_of(lambda_client) == ("1", {}) and run.outputs["status"] == "rolled-back"
    error = " ".join(run.errors)
    said = re.search(r"p99 (\d+) ms vs stable (\d+) ms: \+(\d+)%, limit \+25%", error)
    assert said is not None, error
    new, stable, increase = (int(group) for group in said.groups())
    assert 2.5 < new / stable < 3.6 and abs(increase - round((new / stable - 1) * 100)) <= 1  # the numbers said are the ones measured
    checks = json.loads(run.outputs["analysis"])
    assert checks and checks[-1]["gates"][0]["outcome"] == "fail" and checks[-1]["new"]["version"] == "2"
    assert {"invocations", "errors", "throttles", "latency"} <= set(checks[-1]["new"])
    assert "xychart-beta" in run.summary and "#### Canary analysis: version 2 against version 1" in run.summary
    assert "| latency p99 |" in run.summary and "cold starts (init)" in run.summary
    assert markdown_problems(run.summary) == []


def test_the_percentile_is_an_input(traffic: TrafficSimulator, fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:
    """latency-percentile through the runner: p50 is the one measured and named; one it does not
    know is an error before anything changes."""
    unknown = release(workspace, fast, role_arn, **{"max-latency-increase": "25%", "latency-percentile": "p95"})
    said = "input 'latency-percentile': 'p95' is not one of: p50, p90, p99, p99.9"
    assert unknown.returncode == 1 and any(said in e for e in unknown.errors)
    versions = lambda_client.list_versions_by_function(FunctionName="orders")["Versions"]
    assert alias_of(lambda_client) == ("1", {}) and [v["Version"] for v in versions] == ["$LATEST", "1"]
    traffic.profile("2", Profile(latency=300.0))
    run = release(workspace, fast, role_arn, **{"max-latency-increase": "25%", "latency-percentile": "p50"})
    assert run.returncode == 1 and alias_of(lambda_client) == ("1", {}), run.stdout
    assert re.search(r"p50 \d+ ms vs stable \d+ ms", " ".join(run.errors))
    assert json.loads(run.outputs["analysis"])[-1]["percentile"] == "p50"


def test_a_new_version_within_the_latency_limit_completes(
    traffic: TrafficSimulator, fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    traffic.profile("2", Profile(latency=108.0))
    run = release(workspace, fast, role_arn, **{"max-latency-increase": "25%"})
    assert run.returncode == 0, run.stdout
    assert alias_of(lambda_client) == ("2", {}) and run.outputs["status"] == "deployed"
    checks = json.loads(run.outputs["analysis"])
    assert {check["weight"] for check in checks} == {0.3, 0.6}  # both steps were measured
    assert [gate["outcome"] for gate in checks[-1]["gates"]] == ["pass"]


def test_an_error_rate_above_stables_by_more_than_the_limit_rolls_back(
    traffic: TrafficSimulator, fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    traffic.profile("2", Profile(latency=100.0, error_rate=0.25))
    run = release(workspace, fast, role_arn, **{"max-error-rate-increase": "1%"})
    assert run.returncode == 1, run.stdout
    assert alias_of(lambda_client) == ("1", {})
    error = " ".join(run.errors)
    assert "error rate " in error and "vs stable 0.00%" in error and "limit +1 points" in error and "95% confidence" in error


def test_the_same_error_rate_on_fewer_than_min_invocations_waits(
    traffic: TrafficSimulator, fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    traffic.profile("2", Profile(latency=100.0, error_rate=0.25))
    run = release(workspace, fast, role_arn, **{"max-error-rate-increase": "1%", "min-invocations": "100000"})
    assert run.returncode == 0, run.stdout
    outcomes = {gate["outcome"] for check in json.loads(run.outputs["analysis"]) for gate in check["gates"]}
    assert outcomes == {"not-yet"} and alias_of(lambda_client) == ("2", {})


def test_a_stable_version_with_errors_does_not_block_a_healthy_new_one(
    traffic: TrafficSimulator, fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    traffic.default(Profile(latency=100.0, error_rate=0.3))  # the stable version fails 30% of its requests...
    traffic.profile("2", Profile(latency=100.0, error_rate=0.0))  # ...the fix does not
    run = release(workspace, fast, role_arn, **{"max-error-rate-increase": "1%"})
    assert run.returncode == 0, run.stdout
    assert alias_of(lambda_client) == ("2", {})
    last = json.loads(run.outputs["analysis"])[-1]
    assert last["stable"]["errors"] > 0 and last["new"]["errors"] == 0 and last["gates"][0]["outcome"] == "pass"


WAVES = """waves:
  - name: one-box
    regions: [us-east-1]
    bake: 1s
  - name: europe
    regions: [eu-west-1]
defaults:
  runtime: python3.12
  handler: handler.handler
  role: {role}
  alias: live
functions:
  - function-name: orders
    source: app
"""


def test_in_waves_each_targets_analysis_is_in_the_summary_and_its_result(fast: Sandbox, workspace: Path, role_arn: str) -> None:
    """A stepped rollout in every target of every wave, judged there against its stable version:
    Europe's slow release rolls back (and the finished wave with it), and each target's own
    summary, with its analysis, is in the run's summary and its entry of ``results``."""
    (workspace / "deploy.yml").write_text(WAVES.format(role=role_arn))
    assert run_action(workspace, fast, {"config": "deploy.yml"}).returncode == 0
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 2\n")
    simulators = [fast.traffic("orders", "live", region=region, rate=80) for region in ("us-east-1", "eu-west-1")]
    simulators[1].profile("2", Profile(latency=300.0))  # slow in Europe only
    for simulator in simulators:
        simulator.start()
    try:
        run = run_action(workspace, fast, {"config": "deploy.yml", **STEPPED, "max-latency-increase": "25%"})
    finally:
        for simulator in simulators:
            simulator.stop()
    assert run.returncode == 1, run.stdout
    results = {entry["region"]: entry for entry in json.loads(run.outputs["results"])}
    assert [gate["outcome"] for gate in results["us-east-1"]["analysis"][-1]["gates"]] == ["pass"]
    assert results["eu-west-1"]["status"] == "rolled-back" and results["eu-west-1"]["analysis"][-1]["gates"][0]["outcome"] == "fail"
    summary = run.summary
    assert "<details><summary>orders in eu-west-1 (123456789012), wave europe: its deploy</summary>" in summary
    assert summary.count("#### Canary analysis: version 2 against version 1") == 2 and "xychart-beta" in summary
    assert markdown_problems(summary) == []
