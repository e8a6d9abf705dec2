"""The commands that act on functions (deploy, promote, rollback, cleanup): one, or every function of a deploy file.

Contract: ``run(request)`` validates every input first (a deploy file whole, every function
in it), masks what must be masked, then runs the engine (``pipeline.deploy``) for the one
function, for ``only``'s, or for each function of the file in the fleet's pool; each
function's pull request is commented on as it ends. It returns the ``Report``: one
function's outputs, summary and JSON, or the fleet's table and ``results``. It writes no
output itself: ``app.run`` delivers the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .. import report
from ..aws import Connector, Services
from ..deploy_file import Entry, read_deploy_file
from ..errors import DeployError
from ..fleet import FunctionRun, run_functions
from ..github import Reporter
from ..model import Result
from ..oidc import web_identity
from ..pipeline import Connect, Ended, connect_with, deploy
from ..pipeline import run as run_one
from ..pr_comment import comment_on_pull_request
from ..settings import Access, FleetSettings, Settings, load_fleet_settings, load_settings
from .base import BUG, DONE, FAILED, Report, Request


def inputs_of(request: Request) -> dict[str, str]:
    """The request's inputs, with its command as the ``command`` input (the CLI's subcommand)."""
    return {**request.inputs, "command": str(request.command)}


def connect_of(request: Request) -> Connect:
    return request.connect or connect_with(Connector(request.io.info, request.io.mask))


def services_for(request: Request, access: Access) -> Services:
    """An operator command's AWS: the same credential chain as deploy (role-to-assume with GitHub's
    OIDC token, or the ambient credentials), through the one ``Connector``."""
    connector = Connector(request.io.info, request.io.mask)
    return connector.services(access.region, access.wait_timeout, web_identity(access.credentials, request.io.mask), request.io.info)


def mask(io: Reporter, settings: Settings) -> None:
    for secret in settings.secrets:
        io.mask(secret)


def run(request: Request) -> Report:
    inputs = inputs_of(request)
    fleet = load_fleet_settings(inputs, request.env)
    if fleet is None:
        settings = load_settings(inputs, request.env)
        mask(request.io, settings)
        return single(request, settings)
    entries = read_deploy_file(fleet, inputs, request.env)
    for entry in entries:
        mask(request.io, entry.settings)
    if fleet.only is not None:  # one job of a matrix: the single-function outputs; its JSON keyed by the function
        (entry,) = entries
        ended = _single_run(request, entry.settings)
        payload = {entry.name: report.result_entry(ended.value)} if ended.value is not None else {}
        return replace(function_report(ended), payload=payload)
    runs = run_functions(fleet, entries, request.io, connect_of(request), request.clock, deploy, after=_comment)
    return fleet_report(fleet, runs)


def single(request: Request, settings: Settings) -> Report:
    """One function's run, reported."""
    return function_report(_single_run(request, settings))


def _single_run(request: Request, settings: Settings) -> Ended[Result]:
    ended = run_one(settings, request.io, connect_of(request), request.clock, deploy)
    if ended.value is not None:
        comment_on_pull_request(settings, ended.value, request.io)
    return ended


def _comment(entry: Entry, ended: Ended[Result], io: Reporter) -> None:
    if ended.value is not None:
        comment_on_pull_request(entry.settings, ended.value, io)


def function_report(ended: Ended[Result]) -> Report:
    result = ended.value
    if result is None:
        summary = report.failure_markdown(DeployError(*ended.problems)) if ended.problems else ""
        return Report(ended.code, summary=summary, problems=ended.problems, trace=ended.trace)
    return Report(
        ended.code,
        outputs=report.outputs(result),
        summary=report.markdown(result),
        payload=report.as_json(result),
        problems=ended.problems,
        trace=ended.trace,
        done=report.one_line(result),
    )


def exit_code(codes: list[int]) -> int:
    return BUG if BUG in codes else FAILED if any(codes) else DONE


def fleet_report(fleet: FleetSettings, runs: list[FunctionRun[Result]]) -> Report:
    """The deploy file's run: one table, output ``results`` (and ``status``), the JSON by function.
    Each function's problems were said as it ended, on its own lines."""
    results: dict[str, Any] = {
        each.name: report.fleet_entry(each.ended.value, each.status, each.ended.problems, each.seconds) for each in runs
    }
    status = "deployed" if all(each.ended.code == 0 for each in runs) else "failed"
    rows = [(each.name, each.ended.value, each.status, each.seconds) for each in runs]
    outputs: Mapping[str, str] = {"results": report.json_text(results), "status": status}
    return Report(
        exit_code([each.ended.code for each in runs]), outputs=outputs, summary=report.fleet_markdown(fleet.display, rows), payload=results
    )
