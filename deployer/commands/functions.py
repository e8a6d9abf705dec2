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
from dataclasses import dataclass, replace
from typing import Any

from .. import report, report_waves
from ..aws import Connector, Services
from ..deploy_file import Entry, load_deploy_file
from ..errors import DeployError, InputError, Problem
from ..fleet import FunctionRun, run_functions
from ..github import Reporter
from ..model import Command, Result
from ..oidc import web_identity
from ..pipeline import Connect, Ended, connect_with, deploy
from ..pipeline import run as run_one
from ..pr_comment import comment_on_pull_request
from ..settings import Access, FleetSettings, Settings, load_fleet_settings, load_settings, load_waves_fleet
from ..settings.waves import Waves, parse_waves_text, read_waves
from ..waves import WavesOutcome, run_waves, target_settings
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


@dataclass(frozen=True)
class Loaded:
    """What a run acts on, every input validated and masked: one function from the inputs
    (``fleet`` None, unless it has waves), or a deploy file's; and the waves, if any."""

    entries: list[Entry]
    fleet: FleetSettings | None
    waves: Waves | None


def load(request: Request) -> Loaded:
    """The inputs, or the deploy file they name, read whole; what must be masked is masked."""
    inputs = inputs_of(request)
    fleet = load_fleet_settings(inputs, request.env)
    if fleet is None:
        waves = waves_input(inputs)
        settings = load_settings(placeholder_region(inputs, waves), request.env)
        loaded = Loaded([Entry(settings.function_name, inputs, settings)], load_waves_fleet(inputs) if waves else None, waves)
    else:
        from_file = load_deploy_file(fleet, inputs, request.env)
        loaded = Loaded(from_file.entries, fleet, from_file.waves)
    for entry in loaded.entries:
        mask(request.io, entry.settings)
    return loaded


def run(request: Request) -> Report:
    loaded = load(request)
    entries, fleet = loaded.entries, loaded.fleet
    if loaded.waves is not None and fleet is not None:
        return in_waves(request, loaded.waves, entries, fleet)
    if fleet is None:
        return single(request, entries[0].settings)
    if fleet.only is not None:  # one job of a matrix: the single-function outputs; its JSON keyed by the function
        (entry,) = entries
        ended = _single_run(request, entry.settings)
        payload = {entry.name: report.result_entry(ended.value)} if ended.value is not None else {}
        return replace(function_report(ended), payload=payload)
    runs = run_functions(fleet, entries, request.io, connect_of(request), request.clock, deploy, after=_comment)
    return fleet_report(fleet, runs)


def waves_input(inputs: Mapping[str, str]) -> Waves | None:
    """The ``waves`` input of a single-function run (None when not given); ``aws-region`` then contradicts it."""
    text = inputs.get("waves", "").strip()
    if not text:
        return None
    if inputs.get("aws-region", "").strip():
        raise InputError.about("aws-region", "cannot be given with waves: each wave names its regions", "remove aws-region, or waves")
    return read_waves(parse_waves_text(text), inputs.get("wave-failure", "").strip() or "rollback", inputs.get("role-to-assume", ""))


def placeholder_region(inputs: Mapping[str, str], waves: Waves | None) -> Mapping[str, str]:
    """With waves, the settings are checked in the first region; each target then gives its own."""
    if waves is None:
        return inputs
    first = next(iter(waves.targets), None)
    return {**inputs, "aws-region": first.region if first else "us-east-1"}


def in_waves(request: Request, waves: Waves, entries: list[Entry], fleet: FleetSettings) -> Report:
    """Every function to every target, wave by wave (deploy); a deploy that only opens a canary
    cannot bake, so waves need a rollout that ends on one version."""
    one_shot = [entry.name for entry in entries if entry.settings.rollout.canary_weight is not None]
    if one_shot:
        raise InputError.about(
            "canary-weight",
            f"cannot be used with waves ({', '.join(one_shot)}): a wave bakes a version that serves all of its alias's traffic",
            "use a strategy instead (canary 10% 5m, linear ...): each target's rollout completes before the wave bakes",
        )
    if entries and entries[0].settings.command is not Command.DEPLOY:
        return every_target(request, waves, entries, fleet)
    outcome = run_waves(waves, entries, fleet, request.io, connect_of(request), request.clock, request.env)
    codes = [2 if target.bug else 0 for run in outcome.runs for target in run.targets]
    failed = report_waves.status_of(outcome.runs) != "deployed"
    return Report(
        BUG if BUG in codes else FAILED if failed else DONE,
        outputs=report_waves.outputs(outcome.runs),
        summary=report_waves.markdown(outcome.runs, outcome.events, fleet.display),
        payload=report_waves.as_json(outcome.runs, outcome.events),
        problems=_wave_problems(outcome),
    )


def _wave_problems(outcome: WavesOutcome) -> tuple[Problem, ...]:
    """The one error a failed run in waves ends with: which wave and why (each target's own were said as it ended)."""
    failed = next((run for run in outcome.runs if run.reason), None)
    if failed is None:
        return ()
    others = [run.wave.name for run in outcome.runs if run is not failed and run.status == "rolled-back"]
    undone = f"; the finished waves were rolled back too ({', '.join(others)})" if others else ""
    kept = [run.wave.name for run in outcome.runs if run.status == "kept"]
    undone += f"; the finished waves keep the new version (wave-failure: halt): {', '.join(kept)}" if kept else ""
    return (Problem(f"wave '{failed.wave.name}' failed: {failed.reason}{undone}", "waves"),)


def every_target(request: Request, waves: Waves, entries: list[Entry], fleet: FleetSettings) -> Report:
    """promote, rollback, cleanup with waves: the command on every function in every target, wave
    by wave (each wave's targets in parallel); a rollback goes newest wave first."""
    order = list(reversed(waves.waves)) if entries[0].settings.command is Command.ROLLBACK else list(waves.waves)
    runs: list[FunctionRun[Result]] = []
    for wave in order:
        placed = [
            Entry(f"{entry.name}@{target.describe()}", entry.inputs, target_settings(entry.settings, target, request.env))
            for target in wave.targets
            for entry in entries
        ]
        wave_fleet = replace(fleet, display=f"wave {wave.name}")
        runs += run_functions(wave_fleet, placed, request.io, connect_of(request), request.clock, deploy)
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
