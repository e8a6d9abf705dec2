"""What every command is made of: its flags, the request it runs on, and the report it gives back.

Contract: a command is a module under ``deployer.commands`` with ``SPEC``: a one-line summary
(the CLI's help and the README's), whether the action's ``command`` input may name it, the
action inputs it takes as ``--flags`` (None: every input), its own ``Flag`` s, and its
``run(request) -> Report``. A command never writes outputs, the summary, annotations or an
exit code itself: ``app.run``, the one exit boundary, turns its ``Report`` (or the error it
raised) into those. Data for a terminal (``text``, or ``payload`` with ``--json``) goes to
stdout from ``__main__``; a command that streams (``logs --follow``) writes to ``out``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..errors import Problem
from ..github import Reporter
from ..model import Command
from ..pipeline import Connect
from ..rollout import Clock

# Exit codes: 0 done; 1 a deploy, input or usage error (the message says which and the fix);
# 2 a bug in lambda-deploy; 3 diff found a difference.
DONE, FAILED, BUG, DIFFERS = 0, 1, 2, 3


@dataclass(frozen=True)
class Flag:
    name: str
    help: str
    default: str | None = None
    switch: bool = False  # takes no value


@dataclass(frozen=True)
class Request:
    command: Command
    inputs: Mapping[str, str]  # by action input id; "" and missing both mean not given
    env: Mapping[str, str]
    io: Reporter
    flags: Mapping[str, Any] = field(default_factory=dict)  # the command's own flags, by name with "_"
    connect: Connect | None = None  # None: the run's own Connector (tests give the sandbox's)
    clock: Clock | None = None
    out: TextIO = sys.stdout  # where a streaming command writes its data
    terminal: bool = False  # run from the command line: hints speak of flags, not of a workflow


@dataclass(frozen=True)
class Report:
    """What a command did: how it ends, and what to tell whom."""

    code: int = DONE
    outputs: Mapping[str, str] = field(default_factory=dict)  # step outputs
    summary: str = ""  # the job summary (Markdown)
    payload: Any = None  # the data, for --json
    text: str = ""  # the data for a terminal
    problems: tuple[Problem, ...] = ()  # each an annotation (::error::) and a line of the failure summary
    trace: str = ""  # a bug's traceback
    done: str = ""  # what the run did, in one line: said even when the outputs cannot be written


# The inputs that say where a function is and how to reach it: every operator command takes them.
ACCESS = ("aws-region", "role-to-assume", "role-session-name", "role-duration-seconds", "audience")


@dataclass(frozen=True)
class Spec:
    summary: str
    run: Callable[[Request], Report]
    in_action: bool = False  # the action's command input may name it
    inputs: tuple[str, ...] | None = None  # action inputs it takes as --flags; None: every one
    flags: tuple[Flag, ...] = ()
    json: bool = True  # --json prints the payload
    help: Mapping[str, str] = field(default_factory=dict)  # an input's help here, where action.yml's words do not fit
