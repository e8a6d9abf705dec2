"""Command line: ``python -m deployer deploy|plan|diff|promote|rollback|cleanup|list`` over the action's
engine, the operator commands ``init|status|logs|invoke`` beside it, and ``demo``.

Every action input is a ``--flag`` of the same name, and its help is the input's
description in action.yml (read at run time, so the two cannot drift apart); list
inputs (exclude, layers, environment, tags, alarms) may be repeated. The operator
commands' own flags are described once, in ``commands.OPERATOR``. Progress goes to stderr;
the data (``--json`` where it is data) goes to stdout. ``diff`` exits 3 when deploy would
change something.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .app import main as run_action
from .commands import OPERATOR
from .commands import run as run_operator
from .contract import declared_inputs
from .github import ConsoleIO
from .settings import INPUT_IDS
from .surface import LIST_FORMS, ROWS

LIST_INPUTS = frozenset(
    {"exclude", "layers", "environment", "tags", "alarms", "function-url-cors", *(row.input for row in ROWS if row.form in LIST_FORMS)}
)
BOOLEAN_INPUTS = frozenset({"dry-run", "comment", *(row.input for row in ROWS if row.form == "boolean")})


def input_descriptions() -> dict[str, str]:
    """Each input's description and default, as action.yml declares them."""
    described = {}
    for name, spec in declared_inputs().items():
        default = spec.get("default")
        shown = f" (default: {default})" if default not in (None, "") and "${{" not in str(default) else ""
        described[name] = str(spec.get("description", "")).replace("%", "%%") + shown
    return described


def _add_inputs(parser: argparse.ArgumentParser, described: dict[str, str]) -> None:
    for input_id in INPUT_IDS:
        flag = f"--{input_id}"
        text = described.get(input_id, "")
        if input_id in LIST_INPUTS:
            parser.add_argument(flag, action="append", metavar="VALUE", help=f"{text} May be repeated.".strip())
        elif input_id in BOOLEAN_INPUTS:
            parser.add_argument(flag, nargs="?", const="true", metavar="true|false", help=text)
        else:
            parser.add_argument(flag, metavar="VALUE", help=text)
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")


SUBCOMMANDS = {
    "deploy": "package, update, publish and move the alias",
    "plan": "show what deploy would do; change nothing",
    "promote": "move the alias wholly to its canary version",
    "rollback": "move the alias wholly back to its stable version (or --to-version)",
    "cleanup": "delete the alias, its function URL and the URL's permissions, then prune with --keep-versions",
    "list": "validate the deploy file (--config) and print its function names",
    "diff": "show everything deploy would change against the live function (exit 0: nothing, 3: something)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deployer", description="Ship AWS Lambda functions safely.")
    parser.add_argument("--version", action="version", version=f"lambda-deploy {__version__}")
    commands = parser.add_subparsers(dest="subcommand", required=True)
    described = input_descriptions()
    for name, text in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=text, description=text)
        _add_inputs(sub, described)
        if name == "rollback":
            sub.add_argument(
                "--to-alias",
                metavar="ALIAS",
                help="blue/green: go back to the version this alias points at (the same as --to-version ALIAS)",
            )
    for name, operator in OPERATOR.items():
        sub = commands.add_parser(name, help=operator.summary, description=operator.summary)
        for input_id in operator.inputs:
            sub.add_argument(f"--{input_id}", metavar="VALUE", help=described.get(input_id, ""))
        for flag in operator.flags:
            if flag.switch:
                sub.add_argument(f"--{flag.name}", action="store_true", help=flag.help)
            else:
                shown = f" (default: {flag.default})" if flag.default else ""
                sub.add_argument(f"--{flag.name}", metavar="VALUE", default=flag.default, help=flag.help + shown)
        if operator.json:
            sub.add_argument("--json", action="store_true", help="print the data as JSON on stdout")
    commands.add_parser("schema", help="print the deploy file's JSON Schema (deployer/deploy-file.schema.json)")
    demo = commands.add_parser("demo", help="deploy a sample function to an embedded moto server (no AWS account)")
    demo.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    return parser


def inputs_from_args(args: argparse.Namespace) -> dict[str, str]:
    inputs: dict[str, str] = {}
    for input_id in INPUT_IDS:
        value = getattr(args, input_id.replace("-", "_"))
        if value is not None:
            inputs[input_id] = "\n".join(value) if isinstance(value, list) else value
    if args.subcommand == "plan":
        inputs["dry-run"] = "true"
    if args.subcommand in ("promote", "rollback", "cleanup", "list", "diff"):
        inputs["command"] = args.subcommand
    if getattr(args, "to_alias", None):
        inputs["to-version"] = args.to_alias
    return inputs


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.subcommand == "schema":
        from .deploy_file import build_schema

        print(json.dumps(build_schema(), indent=2, ensure_ascii=False))
        return 0
    if args.subcommand == "demo":
        from .demo import run_demo

        return run_demo()
    if args.subcommand in OPERATOR:
        operator = OPERATOR[args.subcommand]
        inputs = {name: value for name in operator.inputs if (value := getattr(args, name.replace("-", "_"))) is not None}
        flags = {flag.name.replace("-", "_"): getattr(args, flag.name.replace("-", "_")) for flag in operator.flags}
        flags["json"] = getattr(args, "json", False)
        return run_operator(args.subcommand, inputs, flags, dict(os.environ), ConsoleIO())
    diff = args.subcommand == "diff"
    io = ConsoleIO(show_summary=not (args.json or diff))
    code, payload = run_action(inputs_from_args(args), dict(os.environ), io)
    if diff:
        return _diff(code, payload, args.json)
    if args.json and payload:
        print(json.dumps(payload, indent=2))
    return code


def _diff(code: int, payload: dict[str, Any], as_json: bool) -> int:
    """The difference on stdout (one per function of a deploy file); exit 3 when deploy would change something."""
    from .commands import diff

    found = (
        [payload["difference"]]
        if "difference" in payload
        else [e["difference"] for e in payload.values() if isinstance(e, dict) and "difference" in e]
    )
    if code != 0 or not found:
        return code
    for difference in found:
        print(json.dumps(difference, indent=2) if as_json else diff.text(diff.from_json(difference)))
    return diff.DIFFERS if any(difference["differs"] for difference in found) else 0


if __name__ == "__main__":
    sys.exit(main())
