"""``invoke``: call the function once and show what happened.

Contract: ``invoke(aws, function_name, qualifier, payload)`` invokes synchronously with
``LogType: Tail`` and returns the ``Invocation``: the response, the status code,
``ExecutedVersion`` (which version served, behind a weighted alias) and the decoded log
tail. ``read_payload`` takes the ``--payload`` text: JSON, or ``@file``; it is checked with the
bounded JSON parser before anything is sent. The caller exits 1 when the function reports an
error (``FunctionError``), as a handler error comes back as HTTP 200.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..aws import Invocation, LambdaGateway
from ..bounded import load_json
from ..errors import InputError, Problem
from ..settings import load_access
from .base import ACCESS, DONE, FAILED, Flag, Report, Request, Spec
from .functions import services_for


def read_payload(value: str) -> str:
    """The event to send: the JSON given, or the file named after ``@``."""
    if not value:
        return "{}"
    text = value
    if value.startswith("@"):
        try:
            text = Path(value[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InputError.of(f"cannot read {value[1:]}: {error}", "--payload", "give JSON, or @FILE with JSON in it") from None
    try:
        load_json(text)
    except ValueError as error:
        raise InputError.of(f"the payload {error}", "--payload", "give JSON, or @FILE with JSON in it") from None
    return text


def invoke(aws: LambdaGateway, function_name: str, qualifier: str, payload: str) -> Invocation:
    return aws.invoke(function_name, qualifier or "$LATEST", payload, tail=True)


def as_json(invocation: Invocation) -> dict[str, Any]:
    return {
        "status_code": invocation.status_code,
        "executed_version": invocation.executed_version,
        "function_error": invocation.function_error,
        "payload": invocation.payload,
        "log_tail": invocation.log_tail,
    }


def text(invocation: Invocation) -> str:
    verdict = f"FunctionError: {invocation.function_error}" if invocation.function_error else "ok"
    lines = [f"status {invocation.status_code}, executed version {invocation.executed_version}, {verdict}", "response:", invocation.payload]
    if invocation.log_tail:
        lines += ["log tail:", invocation.log_tail.rstrip("\n")]
    return "\n".join(lines)


def run(request: Request) -> Report:
    access = load_access(request.inputs, request.env)
    payload = read_payload(str(request.flags.get("payload") or "{}"))
    called = invoke(services_for(request, access).lambda_, access.function_name, str(request.flags.get("qualifier") or ""), payload)
    problems = (Problem(f"the function reported an error ({called.function_error})", f"function '{access.function_name}'"),)
    return Report(
        FAILED if called.function_error else DONE,
        payload=as_json(called),
        text=text(called),
        problems=problems if called.function_error else (),
    )


SPEC = Spec(
    "invoke the function once; print the response, the status, the version that ran and the log tail (exit 1 on a function error)",
    run,
    inputs=("function-name", *ACCESS),
    flags=(Flag("qualifier", "a version or an alias (default: $LATEST)"), Flag("payload", "the event: JSON, or @FILE", "{}")),
    help={"function-name": "the function to invoke (name or ARN)"},
)
