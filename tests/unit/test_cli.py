from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from deployer.__main__ import build_parser, input_ids, request_of
from deployer.commands import COMMANDS
from deployer.model import Command
from deployer.settings import INPUT_IDS
from deployer.settings.table import BOOLEAN_INPUTS
from tests.conftest import ROOT


def parse(*argv: str) -> tuple[Command, dict[str, str], dict[str, object]]:
    command, inputs, flags, _ = request_of(list(argv))
    return command, inputs, flags


def test_every_input_is_a_flag_of_the_same_name_and_the_command_is_the_subcommand() -> None:
    argv = ["deploy"]
    for input_id in input_ids(COMMANDS[Command.DEPLOY]):
        argv += [f"--{input_id}", "x"]
    command, inputs, _ = parse(*argv)
    assert command is Command.DEPLOY and set(inputs) == set(INPUT_IDS) - {"command"}


def test_list_inputs_repeat_and_plan_is_a_dry_run() -> None:
    command, inputs, _ = parse(
        "plan", "--function-name", "f", "--environment", "A=1", "--environment", "B=2", "--alarms", "a", "--alarms", "b"
    )
    assert command is Command.DEPLOY
    assert inputs == {"function-name": "f", "environment": "A=1\nB=2", "alarms": "a\nb", "dry-run": "true"}


def test_each_subcommand_is_its_command() -> None:
    assert parse("promote", "--function-name", "f")[0] is Command.PROMOTE
    assert parse("rollback", "--function-name", "f", "--to-version", "3")[:2] == (
        Command.ROLLBACK,
        {"function-name": "f", "to-version": "3"},
    )
    assert parse("cleanup", "--function-name", "f", "--keep-versions", "3")[:2] == (
        Command.CLEANUP,
        {"function-name": "f", "keep-versions": "3"},
    )
    assert parse("rollback", "--function-name", "f", "--to-alias", "previous")[2] == {"to_alias": "previous"}


@pytest.mark.parametrize("name", sorted(BOOLEAN_INPUTS))
def test_every_boolean_input_works_as_a_bare_flag_and_with_a_value(name: str) -> None:
    assert parse("deploy", f"--{name}")[1][name] == "true"
    assert parse("deploy", f"--{name}", "false")[1][name] == "false"


def test_snapstart_and_fail_fast_work_as_bare_flags_like_dry_run() -> None:
    """As seen: ``--snapstart`` and ``--fail-fast`` failed with "expected one argument"."""
    assert {"snapstart", "fail-fast", "dry-run"} <= set(BOOLEAN_INPUTS)
    _, inputs, _ = parse("deploy", "--function-name", "f", "--snapstart", "--fail-fast", "--dry-run")
    assert (inputs["snapstart"], inputs["fail-fast"], inputs["dry-run"]) == ("true", "true", "true")


def test_usage_errors_are_exit_1_and_said_by_the_subcommand() -> None:
    def cli(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "deployer", *argv], cwd=ROOT, capture_output=True, text=True, check=False)

    unknown = cli("stauts")
    assert unknown.returncode == 1 and "invalid choice: 'stauts'" in unknown.stderr
    mistyped = cli("status", "--function-nmae", "f")
    assert mistyped.returncode == 1 and "usage: python -m deployer status" in mistyped.stderr
    assert "unrecognized arguments: --function-nmae" in mistyped.stderr and "Traceback" not in mistyped.stderr


def test_each_flags_help_is_its_action_yml_description_unless_the_command_says_better() -> None:

    declared = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    deploy = build_parser().subcommands["deploy"]
    helps = {action.dest: action.help or "" for action in deploy._actions}
    for name in input_ids(COMMANDS[Command.DEPLOY]):
        assert declared[name]["description"].replace("%", "%%") in helps[name.replace("-", "_")], name
    status = {action.dest: action.help or "" for action in build_parser().subcommands["status"]._actions}
    assert "Created if it does not exist" in helps["function_name"] and "Created if it does not exist" not in status["function_name"]
    assert status["keep_versions"] == "show which versions keep-versions N would delete today (nothing is deleted)"
