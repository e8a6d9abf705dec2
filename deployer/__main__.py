"""The command line: ``python -m deployer COMMAND [--flags]``, made from the command table.

Every command of ``commands.COMMANDS`` is a subcommand (``plan`` is ``deploy --dry-run``);
its action inputs are ``--flags`` of the same name, described in action.yml's words (read at
run time, so the two cannot drift apart) unless the command says better; list inputs may be
repeated; boolean inputs work as bare switches (``--dry-run``) or with a value
(``--dry-run false``). Progress goes to stderr; the data goes to stdout (``--json`` where it
is data). Outside a workflow, an alias not given comes from the local checkout's branch.
Exit codes as ``app``: 0 done, 1 an error (usage errors too), 2 a bug, 3 ``diff`` found a
difference.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .app import run
from .commands import COMMANDS
from .commands.base import FAILED, Spec
from .contract import declared_inputs
from .github import ConsoleIO
from .model import Command
from .settings import INPUT_IDS, local_branch
from .settings.table import BOOLEAN_INPUTS, LIST_INPUTS


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as exit 1 (exit 2 is kept for bugs) and said by the command it is about."""

    subcommands: dict[str, argparse.ArgumentParser]

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(FAILED, f"{self.prog}: error: {message}\n")


def input_descriptions() -> dict[str, str]:
    """Each input's description and default, as action.yml declares them."""
    described = {}
    for name, spec in declared_inputs().items():
        default = spec.get("default")
        shown = f" (default: {default})" if default not in (None, "") and "${{" not in str(default) else ""
        described[name] = str(spec.get("description", "")).replace("%", "%%") + shown
    return described


def _add_inputs(parser: argparse.ArgumentParser, names: Sequence[str], described: Mapping[str, str], spec: Spec) -> None:
    for input_id in names:
        flag = f"--{input_id}"
        text = spec.help[input_id].replace("%", "%%") if input_id in spec.help else described.get(input_id, "")
        if input_id in LIST_INPUTS:
            parser.add_argument(flag, action="append", metavar="VALUE", help=f"{text} May be repeated.".strip())
        elif input_id in BOOLEAN_INPUTS:
            parser.add_argument(flag, nargs="?", const="true", metavar="true|false", help=text)
        else:
            parser.add_argument(flag, metavar="VALUE", help=text)


def build_parser() -> _Parser:
    parser = _Parser(prog="python -m deployer", description="Ship AWS Lambda functions safely.")
    parser.add_argument("--version", action="version", version=f"lambda-deploy {__version__}")
    commands = parser.add_subparsers(dest="subcommand", required=True, parser_class=_Parser)
    parser.subcommands = {}
    described = input_descriptions()
    for command, spec in COMMANDS.items():
        for name in (str(command), "plan") if command is Command.DEPLOY else (str(command),):
            text = "show what deploy would do; change nothing (deploy --dry-run)" if name == "plan" else spec.summary
            sub = commands.add_parser(name, help=text, description=text)
            parser.subcommands[name] = sub
            _add_inputs(sub, input_ids(spec), described, spec)
            for flag in spec.flags:
                if flag.switch:
                    sub.add_argument(f"--{flag.name}", action="store_true", help=flag.help)
                else:
                    shown = f" (default: {flag.default})" if flag.default else ""
                    sub.add_argument(f"--{flag.name}", metavar="VALUE", default=flag.default, help=flag.help + shown)
            if spec.json:
                sub.add_argument("--json", action="store_true", help="print the data as JSON on stdout")
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; a mistyped flag is said by the subcommand it was given to, with its usage."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.subcommands[args.subcommand].error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def input_ids(spec: Spec) -> tuple[str, ...]:
    """The inputs a subcommand takes as flags; the command itself is the subcommand, not a flag."""
    return tuple(name for name in (INPUT_IDS if spec.inputs is None else spec.inputs) if name != "command")


def inputs_from_args(args: argparse.Namespace, spec: Spec) -> dict[str, str]:
    inputs: dict[str, str] = {}
    for input_id in input_ids(spec):
        value = getattr(args, input_id.replace("-", "_"), None)
        if value is not None:
            inputs[input_id] = "\n".join(value) if isinstance(value, list) else value
    if args.subcommand == "plan":
        inputs["dry-run"] = "true"
    return inputs


def terminal_env(env: Mapping[str, str]) -> dict[str, str]:
    """Outside a workflow, the local checkout's branch stands for the runner's ref."""
    found = dict(env)
    if not env.get("GITHUB_ACTIONS") and not env.get("GITHUB_REF_NAME") and (branch := local_branch(Path.cwd())):
        found["GITHUB_REF_NAME"] = branch
    return found


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # the reader went away (| head): nothing more to say, and no traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return FAILED


def request_of(argv: Sequence[str] | None) -> tuple[Command, dict[str, str], dict[str, Any], bool]:
    """The command, its inputs, its own flags (by name with "_") and whether --json was given."""
    args = parse(argv)
    command = Command.DEPLOY if args.subcommand == "plan" else Command(args.subcommand)
    spec = COMMANDS[command]
    flags = {flag.name.replace("-", "_"): getattr(args, flag.name.replace("-", "_")) for flag in spec.flags}
    return command, inputs_from_args(args, spec), flags, bool(getattr(args, "json", False))


def _main(argv: Sequence[str] | None) -> int:
    command, inputs, flags, as_json = request_of(argv)
    # The data goes to stdout; the summary is shown in the terminal only when no data is.
    data_command = command in (Command.DIFF, Command.STATUS, Command.INVOKE, Command.LIST, Command.SCHEMA, Command.INIT)
    io = ConsoleIO(show_summary=not (as_json or data_command))
    done = run(command, inputs, terminal_env(os.environ), io, flags, terminal=True)
    if as_json and done.payload is not None:
        print(json.dumps(done.payload, indent=2, ensure_ascii=False))
    elif done.text:
        print(done.text)
    sys.stdout.flush()
    return done.code


if __name__ == "__main__":
    sys.exit(main())
