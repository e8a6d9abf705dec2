"""Text a user, a branch, a file, AWS or the function controls never becomes a workflow command.

Each run below puts workflow commands into every field that is echoed: the description
(multi-line), tags, alarm names, the smoke response, file names, branch names, AWS's
own error text and invalid input values. The log is read as the runner reads it
(``tests.e2e.runner.workflow_commands``); every hostile payload is marked ``PWNED``, so
a command that the runner would run from one has data or a name that shows it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3

from deployer.sandbox import REGION, Sandbox
from tests.conftest import create_alarm
from tests.e2e.runner import ActionRun, create_inputs, github_env, run_action

INJECTIONS = (
    "::set-output name=version::999-PWNED",
    "::warning::PWNED-warning",
    "##[set-output name=status;]PWNED-legacy",
    "  ::error title=x::PWNED-indented",
    "::add-mask::PWNED-mask",
    "::stop-commands::PWNED",
)
HOSTILE = "\n".join(INJECTIONS)


def assert_inert(run: ActionRun) -> None:
    assert "PWNED" in run.stdout, "the hostile text was never printed, so this proves nothing"
    for command in run.commands:
        assert command.name != "set-output" and not command.data.startswith(("999", "PWNED")), command.line
        assert "PWNED" not in "".join(command.properties.values()) or command.name == "error", command.line
    assert run.outputs.get("version", "") != "999-PWNED" and run.outputs.get("status", "") != "PWNED-legacy"


def test_a_deploy_echoes_hostile_values_inertly(fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:
    alarm = "##[set-output name=status;]PWNED-alarm"
    create_alarm(boto3.client("cloudwatch", region_name=REGION), alarm)
    assert run_action(workspace, fast, create_inputs(role_arn)).returncode == 0
    (workspace / "app" / "handler.py").write_text("v = 2\n")
    run = run_action(
        workspace,
        fast,
        {
            "function-name": "orders",
            "source": "app",
            "alias": "live",
            "description": "Orders API\n" + HOSTILE[:200],
            "tags": "team=::warning::PWNED-tag\n::warning::PWNED-tagkey=1",
            "alarms": alarm,
            "strategy": "canary 10% 1s",
            "health-interval": "1",
            "smoke-payload": '{"echo": "##[set-output name=version;]PWNED-smoke"}',
        },
    )
    assert run.returncode == 0, run.stdout
    assert_inert(run)
    assert lambda_client.get_function_configuration(FunctionName="orders")["Description"].startswith("Orders API\n::set-output")


def test_invalid_hostile_inputs_are_refused_inertly(fast: Sandbox, workspace: Path) -> None:
    run = run_action(
        workspace,
        fast,
        {
            "function-name": "orders",
            "source": "app",
            "alias": "::warning::PWNED-alias",
            "memory": "1\n" + HOSTILE,
            "handler": "app.handler\n" + HOSTILE,
            "runtime": HOSTILE,
            "layers": HOSTILE,
            "strategy": "canary 10%\n" + HOSTILE,
            "environment": "GOOD=1\n" + HOSTILE,
            "to-version": HOSTILE,
            "smoke-payload": HOSTILE,
        },
    )
    assert run.returncode == 1
    assert_inert(run)
    assert len(run.errors) >= 8


def test_aws_error_text_and_branch_names_are_inert(fast: Sandbox, workspace: Path, role_arn: str) -> None:
    assert run_action(workspace, fast, create_inputs(role_arn)).returncode == 0
    # AWS echoes the missing application's name back in its error message.
    codedeploy = {
        "function-name": "orders",
        "source": "app",
        "alias": "live",
        "engine": "codedeploy",
        "strategy": "Canary10Percent5Minutes",
        "codedeploy-application": "##[set-output name=status;]PWNED-app",
        "codedeploy-group": "::warning::PWNED-group",
    }
    assert_inert(run_action(workspace, fast, codedeploy))
    # A branch that sanitises to nothing usable... is still named in the error, inertly.
    branch = run_action(
        workspace,
        fast,
        {"function-name": "orders", "source": "app", "alias": "", "memory": "x"},
        github=github_env(event="pull_request", ref_name="1/merge", head_ref="::warning::PWNED-branch"),
    )
    assert branch.returncode == 1


def test_hostile_file_names_in_the_source_are_inert(fast: Sandbox, workspace: Path, role_arn: str, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    os.symlink(outside, workspace / "app" / "::warning::PWNED-link\n::set-output name=version::999")
    run = run_action(workspace, fast, create_inputs(role_arn))
    assert run.returncode == 1
    assert_inert(run)
