"""The one dispatcher and the one exit boundary, shared by the action and the command line.

Contract: ``run(command, inputs, env, io, ...)`` runs the command's module (``COMMANDS``) and
turns whatever happens into what the runner or the terminal is told, here and nowhere else:
a ``Report`` becomes annotations (one ``::error::`` per problem), the job summary and the step
outputs (outputs last), a ``DeployError`` becomes exit 1 with its problems and a failure
summary, a Ctrl-C during ``logs --follow`` a normal end, anything else a bug: exit 2 with the
traceback in a folded group. A runner file that cannot be written is exit 1 that names the
file and what the run did. ``main(inputs, env, io)`` is the action's entry: the command is
its ``command`` input. Exit codes: 0 done, 1 a deploy, input or usage error, 2 a bug in
lambda-deploy, 3 ``diff`` found a difference.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, TextIO

from . import report
from .commands import ACTION_COMMANDS, COMMANDS
from .commands.base import BUG, DIFFERS, DONE, FAILED, Report, Request
from .errors import DeployError, Problem, RunnerFileError
from .github import Reporter
from .model import Command
from .pipeline import Connect, Ended, bug
from .rollout import Clock


def run(
    command: Command,
    inputs: Mapping[str, str],
    env: Mapping[str, str],
    io: Reporter,
    flags: Mapping[str, Any] | None = None,
    connect: Connect | None = None,
    clock: Clock | None = None,
    out: TextIO = sys.stdout,
    terminal: bool = False,
) -> Report:
    request = Request(command, inputs, env, io, flags or {}, connect, clock, out, terminal)
    try:
        done = COMMANDS[command].run(request)
    except DeployError as error:
        done = Report(FAILED, summary=report.failure_markdown(error), problems=error.problems)
    except KeyboardInterrupt:  # logs --follow ends on Ctrl-C: a normal end, not a failure
        done = Report(DONE)
    except BrokenPipeError:  # the terminal's reader went away (| head): nothing can be said; __main__ ends quietly
        raise
    except Exception:  # noqa: BLE001 - the last line of defence, whatever stage it was: a bug, reported as one
        ended: Ended[Any] = bug()
        done = Report(BUG, problems=ended.problems, trace=ended.trace)
    return deliver(done, io)


def deliver(done: Report, io: Reporter) -> Report:
    """Tell the runner (or the terminal): the traceback of a bug, each problem, the summary, the outputs."""
    try:
        if done.trace:
            with io.group("Internal error details"):
                io.info(done.trace)
        for problem in done.problems:
            io.error(problem)
        if done.summary:
            io.summary(done.summary)
        if done.outputs:
            io.outputs(done.outputs)
    except RunnerFileError as error:
        stands = f"; what this run did stands: {done.done}" if done.done else ""
        io.error(replace(error.problems[0], what=error.problems[0].what + stands))
        return replace(done, code=BUG if done.code == BUG else FAILED)
    except Exception:  # noqa: BLE001 - writing what happened failed: a bug, reported as one
        ended: Ended[Any] = bug()
        with io.group("Internal error details"):
            io.info(ended.trace)
        for problem in ended.problems:
            io.error(problem)
        return replace(done, code=BUG)
    return done


def main(
    inputs: Mapping[str, str], env: Mapping[str, str], io: Reporter, connect: Connect | None = None, clock: Clock | None = None
) -> tuple[int, Any]:
    """The action's entry: its ``command`` input names the command (``deploy`` when empty)."""
    given = inputs.get("command", "").strip() or Command.DEPLOY
    if given not in ACTION_COMMANDS:
        allowed = ", ".join(ACTION_COMMANDS)
        problem = Problem(f"'{given}' is not one of: {allowed}", input="command")
        done = deliver(Report(FAILED, summary=report.failure_markdown(DeployError(problem)), problems=(problem,)), io)
        return done.code, None
    done = run(Command(given), inputs, env, io, connect=connect, clock=clock)
    # In a workflow a difference is an answer (output changed), not a failed step.
    return (DONE if done.code == DIFFERS else done.code), done.payload
