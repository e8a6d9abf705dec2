from __future__ import annotations

import pytest

from deployer.__main__ import build_parser, inputs_from_args
from deployer.settings import INPUT_IDS


def parse(*argv: str) -> dict[str, str]:
    return inputs_from_args(build_parser().parse_args(list(argv)))


def test_every_input_is_a_flag_of_the_same_name() -> None:
    argv = ["deploy"]
    for input_id in INPUT_IDS:
        argv += [f"--{input_id}", "x"]
    assert set(parse(*argv)) == set(INPUT_IDS)


def test_list_inputs_repeat_and_plan_is_a_dry_run() -> None:
    inputs = parse("plan", "--function-name", "f", "--environment", "A=1", "--environment", "B=2", "--alarms", "a", "--alarms", "b")
    assert inputs == {"function-name": "f", "environment": "A=1\nB=2", "alarms": "a\nb", "dry-run": "true"}


def test_promote_and_rollback_subcommands_set_the_command() -> None:
    assert parse("promote", "--function-name", "f")["command"] == "promote"
    rollback = parse("rollback", "--function-name", "f", "--to-version", "3")
    assert rollback == {"function-name": "f", "to-version": "3", "command": "rollback"}
    assert parse("deploy", "--command", "rollback")["command"] == "rollback"
    assert parse("deploy", "--dry-run")["dry-run"] == "true"


def test_unknown_subcommand_is_refused() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["explode"])


def test_each_flags_help_is_its_action_yml_description() -> None:
    import yaml

    from tests.conftest import ROOT

    declared = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    deploy = build_parser()._subparsers._group_actions[0].choices["deploy"]  # type: ignore[union-attr]
    helps = {action.dest: action.help or "" for action in deploy._actions}
    for name in INPUT_IDS:
        assert declared[name]["description"].replace("%", "%%") in helps[name.replace("-", "_")], name


def test_cleanup_is_a_subcommand() -> None:
    cleanup = parse("cleanup", "--function-name", "f", "--keep-versions", "3")
    assert cleanup == {"function-name": "f", "keep-versions": "3", "command": "cleanup"}


def test_rollback_to_an_alias() -> None:
    assert parse("rollback", "--function-name", "f", "--alias", "live", "--to-alias", "previous") == {
        "function-name": "f",
        "alias": "live",
        "to-version": "previous",
        "command": "rollback",
    }
