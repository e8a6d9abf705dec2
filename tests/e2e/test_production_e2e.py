"""Production traffic rules as the runner runs the action: a canary that would break
Lambda's weighted-routing rule, and a blue/green cut-back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deployer.sandbox import Sandbox
from tests.e2e.runner import create_inputs, run_action

BASE = {"function-name": "orders", "source": "app", "alias": "live"}


@pytest.fixture
def live_v1(sandbox: Sandbox, workspace: Path, role_arn: str) -> Path:
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]
    assert run_action(workspace, sandbox, create_inputs(role_arn)).returncode == 0
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v2'\n")
    return workspace


def test_a_canary_that_changes_the_role_is_refused_before_any_publish(
    live_v1: Path, sandbox: Sandbox, role_arn: str, lambda_client: Any
) -> None:
    new_role = role_arn + "-v2"
    run = run_action(live_v1, sandbox, {**BASE, "role": new_role, "strategy": "Canary10Percent5Minutes"})
    assert run.returncode == 1
    text = "\n".join(run.errors)
    assert f"the execution role changes ({role_arn} → {new_role})" in text and "strategy: all-at-once" in text
    assert "Traceback" not in run.stdout + run.stderr
    assert [v["Version"] for v in lambda_client.list_versions_by_function(FunctionName="orders")["Versions"]] == ["$LATEST", "1"]
    assert not {op for op, _ in sandbox.fidelity.refusals} & {"UpdateFunctionConfiguration", "PublishVersion"}  # type: ignore[union-attr]
    assert lambda_client.get_function_configuration(FunctionName="orders")["Role"] == role_arn


def test_blue_green_leaves_previous_on_the_old_version_and_cuts_back_in_one_call(
    live_v1: Path, sandbox: Sandbox, lambda_client: Any
) -> None:
    deployed = run_action(live_v1, sandbox, {**BASE, "previous-alias": "previous"})
    assert deployed.returncode == 0, deployed.stdout
    assert (deployed.outputs["version"], deployed.outputs["previous-version"]) == ("2", "1")
    assert lambda_client.get_alias(FunctionName="orders", Name="previous")["FunctionVersion"] == "1"
    assert "| Previous alias | `previous` → 1 |" in deployed.summary

    back = run_action(live_v1, sandbox, {**BASE, "command": "rollback", "to-version": "previous"})
    assert back.returncode == 0, back.stdout
    assert (back.outputs["status"], back.outputs["version"]) == ("rolled-back", "1")
    assert back.calls["UpdateAlias"] == 1 and not {"PublishVersion", "UpdateFunctionCode"} & set(back.calls)
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "1"


def test_concurrency_and_snapstart_inputs_reach_lambda(live_v1: Path, sandbox: Sandbox, lambda_client: Any) -> None:
    inputs = {**BASE, "provisioned-concurrency": "2", "reserved-concurrency": "10", "snapstart": "true", "runtime": "python3.12"}
    run = run_action(live_v1, sandbox, inputs)
    assert run.returncode == 0, run.stdout
    assert (run.outputs["status"], run.outputs["version"]) == ("deployed", "2")
    warm = lambda_client.get_provisioned_concurrency_config(FunctionName="orders", Qualifier="live")
    assert (warm["RequestedProvisionedConcurrentExecutions"], warm["Status"]) == (2, "READY")
    assert lambda_client.get_function_concurrency(FunctionName="orders")["ReservedConcurrentExecutions"] == 10
    version = lambda_client.get_function_configuration(FunctionName="orders", Qualifier="2")
    assert version["SnapStart"]["ApplyOn"] == "PublishedVersions"
    assert any("provisioned concurrency: READY" in line for line in run.stdout.splitlines())

    refused = run_action(live_v1, sandbox, {**BASE, "reserved-concurrency": "lots", "provisioned-concurrency": "-1"})
    assert refused.returncode == 1
    assert {"reserved-concurrency", "provisioned-concurrency"} <= {
        e.split("input '")[1].split("'")[0] for e in refused.errors if "input '" in e
    }
    assert lambda_client.get_function_concurrency(FunctionName="orders")["ReservedConcurrentExecutions"] == 10
