"""Operator commands beside the pipeline: ``init``, ``diff``, ``status``, ``logs``, ``invoke``.

Contract: ``OPERATOR`` is the one place their help lives: each command's summary, the action
inputs it takes (described as action.yml describes them) and its own flags. ``run(name,
inputs, flags, env, io, out)`` connects with the same credential chain as ``deploy``
(``aws-region``, ``role-to-assume`` and GitHub's OIDC token, or the ambient credentials),
runs the command, prints its data on ``out`` (stdout) and its progress through ``io``
(stderr), and returns the exit code: 0, 1 on an error (never a traceback), 3 when ``diff``
finds a difference. ``diff`` itself runs through the pipeline (a dry run), see ``app``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import DeployError, Problem
from ..github import Reporter

if TYPE_CHECKING:
    from ..aws import Services
    from ..settings import Access


@dataclass(frozen=True)
class Flag:
    name: str
    help: str
    default: str | None = None
    switch: bool = False  # takes no value


@dataclass(frozen=True)
class Operator:
    summary: str
    inputs: tuple[str, ...]  # action inputs it takes, as --flags described by action.yml
    flags: tuple[Flag, ...] = ()
    json: bool = True  # --json prints the data as JSON


ACCESS = ("aws-region", "role-to-assume", "role-session-name", "role-duration-seconds", "audience")
OPERATOR: Mapping[str, Operator] = {
    "init": Operator(
        "read a function made elsewhere (the console) and write its deploy-file entry",
        ("function-name", *ACCESS),
        (
            Flag("output", "write the deploy file to this path instead of stdout"),
            Flag("download-code", "also fetch the live code (GetFunction's Code.Location) and unpack it into this folder"),
        ),
        json=False,
    ),
    "status": Operator(
        "show the versions, aliases (versions, weights, owners), function URLs, provisioned concurrency, "
        "and what keep-versions would delete today",
        ("function-name", "keep-versions", "prune-grace", *ACCESS),
    ),
    "logs": Operator(
        "print the function's CloudWatch Logs (its LoggingConfig's log group)",
        ("function-name", *ACCESS),
        (
            Flag("since", "how far back: 10m, 2h, 1d, or a timestamp (2026-11-30T14:00:00Z)", "10m"),
            Flag("filter", "CloudWatch Logs filter pattern, e.g. ERROR or '{ $.level = \"ERROR\" }'"),
            Flag("alias", "only the events of the version(s) this alias routes to"),
            Flag("version", "only the events of this version"),
            Flag("follow", "keep printing new events until Ctrl-C", switch=True),
        ),
        json=False,
    ),
    "invoke": Operator(
        "invoke the function once; print the response, the status, the version that ran and the log tail (exit 1 on a function error)",
        ("function-name", *ACCESS),
        (
            Flag("qualifier", "a version or an alias (default: $LATEST)"),
            Flag("payload", "the event: JSON, or @FILE", "{}"),
        ),
    ),
}


def run(
    name: str, inputs: Mapping[str, str], flags: Mapping[str, Any], env: Mapping[str, str], io: Reporter, out: TextIO = sys.stdout
) -> int:
    from ..settings import load_access

    try:
        access = load_access(inputs, env)
        services = connect(access, io)
        handler = HANDLERS[name]
        return handler(access, services, flags, io, out)
    except DeployError as error:
        for problem in error.problems:
            io.error(problem)
        return 1
    except KeyboardInterrupt:  # logs --follow ends on Ctrl-C: a normal end, not a failure
        return 0


def connect(access: Access, io: Reporter) -> Services:
    """The same credential chain as ``deploy``; the OIDC request token is masked first."""
    from ..pipeline import connect as connect_to

    if access.credentials is not None:
        io.mask(access.credentials.request_token)
    return connect_to(access.region, access.wait_timeout, access.credentials, io)


def _print(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()


def _init(access: Any, services: Any, flags: Mapping[str, Any], io: Reporter, out: TextIO) -> int:
    from . import init

    adopted = init.adopt(services.lambda_, access.function_name)
    if flags.get("download_code"):
        adopted = replace(adopted, source=str(flags["download_code"]))
    text = init.entry(adopted)
    if flags.get("download_code"):
        location = adopted.code.get("Location")
        if not location:
            raise DeployError.of(
                "the function is a container image: there is no package to download", "--download-code", "pull the image instead"
            )
        count = init.download_code(str(location), Path(flags["download_code"]))
        io.info(f"downloaded the live code: {count} files into {flags['download_code']}")
    if flags.get("output"):
        Path(flags["output"]).write_text(text, encoding="utf-8")
        io.info(f"wrote {flags['output']}: check it with `lambda-deploy list --config {flags['output']}`")
    else:
        _print(out, text.rstrip("\n"))
    return 0


def _status(access: Any, services: Any, flags: Mapping[str, Any], io: Reporter, out: TextIO) -> int:
    from . import status

    read = status.read_status(services.lambda_, access.function_name, access.keep_versions, access.prune_grace)
    _print(out, json.dumps(status.as_json(read), indent=2) if flags.get("json") else status.text(read))
    return 0


def _logs(access: Any, services: Any, flags: Mapping[str, Any], io: Reporter, out: TextIO) -> int:
    import time

    from . import logs

    config = services.lambda_.configuration(access.function_name)
    group = str((config.raw.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{config.name}")
    try:
        start = logs.parse_since(str(flags.get("since") or "10m"), datetime.now(UTC))
    except ValueError as error:
        raise DeployError.of(str(error), "--since") from None
    versions: frozenset[str] = frozenset()
    if flags.get("alias"):
        alias = services.lambda_.get_alias(access.function_name, flags["alias"])
        if alias is None:
            raise DeployError.of(f"alias '{flags['alias']}' of function '{access.function_name}' does not exist", "--alias")
        versions = frozenset({alias.version, *alias.weights})
    elif flags.get("version"):
        versions = frozenset({str(flags["version"])})
    query = logs.Query(group, start, str(flags.get("filter") or ""), versions)
    io.info(f"log group {group}, since {start:%Y-%m-%d %H:%M:%S} UTC" + (f", versions {', '.join(sorted(versions))}" if versions else ""))
    if flags.get("follow"):
        logs.follow(services.logs, query, lambda event: _print(out, logs.line(event)), time.sleep)
        return 0
    for event in logs.read(services.logs, query):
        _print(out, logs.line(event))
    return 0


def _invoke(access: Any, services: Any, flags: Mapping[str, Any], io: Reporter, out: TextIO) -> int:
    from . import invoke

    payload = invoke.read_payload(str(flags.get("payload") or "{}"))
    called = invoke.invoke(services.lambda_, access.function_name, str(flags.get("qualifier") or ""), payload)
    _print(out, json.dumps(invoke.as_json(called), indent=2) if flags.get("json") else invoke.text(called))
    if called.function_error:
        io.error(Problem(f"the function reported an error ({called.function_error})", f"function '{access.function_name}'"))
        return 1
    return 0


HANDLERS: Mapping[str, Callable[[Any, Any, Mapping[str, Any], Reporter, TextIO], int]] = {
    "init": _init,
    "status": _status,
    "logs": _logs,
    "invoke": _invoke,
}
