"""The one place that writes to the runner: untrusted text stays inert, annotations point at files."""

from __future__ import annotations

import io

import pytest

from deployer.errors import Problem
from deployer.github import ActionsIO, ConsoleIO, could_be_command, inert
from tests.e2e.runner import workflow_commands


@pytest.mark.parametrize(
    ("text", "risky"),
    [
        ("plain text", False),
        ("update configuration: description: a → b", False),
        ("a: b :: c", False),
        ("::warning::x", True),
        ("   ::set-output name=a::b", True),
        ("\t::error::x", True),
        ("first line\n::warning::x", True),
        ("first line\r::warning::x", True),
        ("first line\u2028::warning::x", True),
        ("anywhere ##[set-output name=a;]b", True),
        ("##[group]x", True),
    ],
)
def test_could_be_command_matches_the_runners_two_parsers(text: str, risky: bool) -> None:
    assert could_be_command(text) is risky
    assert bool(workflow_commands(text)) <= risky  # the runner emulation agrees where it reads a command


def test_inert_text_is_echoed_between_stop_commands_with_a_fresh_token() -> None:
    hostile = "description:\n::set-output name=version::999\n##[warning]legacy"
    wrapped = inert(hostile)
    assert hostile in wrapped
    assert workflow_commands(wrapped) == []
    tokens = {inert(hostile).splitlines()[0] for _ in range(20)}
    assert len(tokens) == 20  # a hostile line cannot guess the token that resumes commands
    assert inert("safe") == "safe"


def test_actions_io_keeps_every_kind_of_line_inert() -> None:
    out = io.StringIO()
    actions = ActionsIO({}, out)
    hostile = "x\n::set-output name=version::999"
    actions.info(hostile)
    actions.notice(hostile)
    actions.warning(hostile)
    actions.error(Problem(hostile, where="input ':bad,where'", file="deploy.yml", line=7))
    with actions.group(hostile):
        actions.mask("s3cr3t\n::set-output name=x::y")
    commands = workflow_commands(out.getvalue())
    assert [c.name for c in commands] == ["notice", "warning", "error", "group", "add-mask", "add-mask", "endgroup"]
    error = commands[2]
    assert error.properties == {"file": "deploy.yml", "line": "7", "title": "input ':bad,where'"}
    assert error.data.startswith("input ':bad,where': x\n::set-output")


def test_console_io_is_inert_too_when_its_output_is_a_step_log() -> None:
    out = io.StringIO()
    console = ConsoleIO(out)
    console.info("::warning::from a description")
    console.error(Problem("bad", "input 'x'", file="deploy.yml", line=3))
    assert workflow_commands(out.getvalue()) == []
    assert "error: deploy.yml:3: input 'x': bad" in out.getvalue()
