"""``diff``: everything ``deploy`` would change, against the live function (the engine's plan, rendered).

Contract: the difference is the planner's own output, not a second comparison: ``work``
runs the engine up to its plan (``pipeline.prepare``: read, package, plan; nothing changes)
and renders its configuration changes (old → new, environment values never shown) and its
steps; the code is compared too: its hash, and the files added, removed and changed between
the package that would be deployed and the live one (downloaded through GetFunction's
``Code.Location``). Exit 0 when nothing differs, 3 when something does, 1 on an error. In the
action, the summary shows it, and with ``comment`` on a pull request, a comment "What merging
this would change in production".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..aws import Services
from ..deploy_file import Entry
from ..fleet import run_functions
from ..github import Reporter
from ..livecode import Files, compare_files, live_package
from ..model import Plan
from ..pipeline import Ended, prepare
from ..pipeline import run as run_one
from ..pr_comment import DIFF_COMMENT_TITLE, comment_on_pull_request
from ..rollout import Clock
from ..schedule import format_duration
from ..settings import FleetSettings, Settings
from ..settings.waves import Waves
from ..text import code_span, counted, markdown_text
from ..waves import target_settings
from .base import DIFFERS, DONE, Report, Request, Spec
from .functions import connect_of, function_report, load
from .functions import exit_code as exit_code_of


@dataclass(frozen=True)
class Difference:
    function: str
    alias: str
    configuration: tuple[str, ...]  # "memory: 128 → 256"
    code_before: str
    code_after: str
    files: Files = field(default_factory=Files)
    steps: tuple[str, ...] = ()
    new_function: bool = False
    mutates: bool = False  # the plan has a step that changes the function or its aliases
    previous_version: str = ""  # what the alias serves now

    @property
    def differs(self) -> bool:
        return bool(self.configuration or self.code_before != self.code_after or self.new_function or self.mutates)


def work(settings: Settings, services: Services, io: Reporter, clock: Clock | None = None) -> Difference:
    """One function's difference: the engine's plan, and the files when the code differs."""
    prepared = prepare(settings, services, io, clock)
    plan, artifact = prepared.plan, prepared.artifact
    files = Files()
    if prepared.state.latest is not None and artifact is not None and artifact.zip_bytes and plan.code_before != plan.code_after:
        location = services.lambda_.code_location(settings.function_name).get("Location")
        if location:
            files = compare_files(live_package(str(location)), artifact.zip_bytes)
    return of(plan, files)


def of(plan: Plan, files: Files | None = None) -> Difference:
    return Difference(
        function=plan.function_name,
        alias=plan.alias,
        configuration=tuple(change.describe() for change in plan.changes),
        code_before=plan.code_before,
        code_after=plan.code_after,
        files=files or Files(),
        steps=tuple(step.describe() for step in plan.steps),
        new_function=not plan.code_before,
        mutates=plan.mutates,
        previous_version=plan.previous_version,
    )


def exit_code(difference: Difference) -> int:
    return DIFFERS if difference.differs else DONE


def run(request: Request) -> Report:
    loaded = load(request)
    entries, fleet = loaded.entries, loaded.fleet
    if loaded.waves is not None and fleet is not None:
        return _per_wave(request, loaded.waves, entries, fleet, entries[0].settings if entries else None)
    if fleet is None:
        settings = entries[0].settings
        ended = run_one(settings, request.io, connect_of(request), request.clock, work)
        if ended.value is None:
            return function_report(Ended(ended.code, None, ended.problems, ended.trace))
        return _report(settings, ended.value, request.io)
    runs = run_functions(fleet, entries, request.io, connect_of(request), request.clock, work)
    found = {each.name: each.ended.value for each in runs}
    differences = [value for value in found.values() if value is not None]
    code = exit_code_of([each.ended.code for each in runs]) or (DIFFERS if any(d.differs for d in differences) else DONE)
    return Report(
        code,
        outputs={"changed": "true" if any(d.differs for d in differences) else "false"},
        summary="\n\n".join(markdown(d) for d in differences),
        payload={each.name: _entry(each.ended) for each in runs},
        text="\n".join(text(d) for d in differences),
    )


def _per_wave(request: Request, waves: Waves, entries: list[Entry], fleet: FleetSettings, settings: Settings | None) -> Report:
    """The plan per wave: every function against every target, in the waves' order; one comment with all of it."""
    sections: list[str] = []
    texts: list[str] = []
    payload: dict[str, Any] = {}
    codes: list[int] = []
    differs = False
    for wave in waves.waves:
        placed = [
            Entry(f"{entry.name}@{target.describe()}", entry.inputs, target_settings(entry.settings, target, request.env))
            for target in wave.targets
            for entry in entries
        ]
        runs = run_functions(replace(fleet, display=f"wave {wave.name}"), placed, request.io, connect_of(request), request.clock, work)
        codes += [each.ended.code for each in runs]
        found = [(each.name, each.ended.value) for each in runs]
        differs = differs or any(value is not None and value.differs for _, value in found)
        bake = f", then a {format_duration(round(wave.bake))} bake" if wave.bake else ""
        sections.append(f"#### Wave {markdown_text(wave.name)}: {markdown_text(', '.join(t.describe() for t in wave.targets))}{bake}")
        sections += [markdown(value, f"{code_span(name)}") for name, value in found if value is not None]
        texts.append(f"wave {wave.name} ({', '.join(t.describe() for t in wave.targets)}){bake}:")
        texts += ["  " + line for name, value in found if value is not None for line in text(replace(value, function=name)).splitlines()]
        payload[wave.name] = {each.name: _entry(each.ended) for each in runs}
    heading = f"what deploy would change, wave by wave ({counted(len(waves.waves), 'wave')})"
    body = "\n\n".join([f"### lambda-deploy: {heading}", *sections])
    if settings is not None and settings.comment is not None:
        comment = "\n\n".join([f"### {DIFF_COMMENT_TITLE}, wave by wave", *sections])
        comment_on_pull_request(settings, None, request.io, comment, "waves", settings.alias)
    code = exit_code_of(codes) or (DIFFERS if differs else DONE)
    outputs = {"changed": "true" if differs else "false", "status": "planned"}
    return Report(code, outputs=outputs, summary=body, payload=payload, text="\n".join(texts))


def _entry(ended: Ended[Difference]) -> dict[str, Any]:
    if ended.value is not None:
        return as_json(ended.value)
    return {"error": "; ".join(problem.render() for problem in ended.problems)}


def _report(settings: Settings, difference: Difference, io: Reporter) -> Report:
    comment_difference(settings, difference, io)
    return Report(
        exit_code(difference),
        outputs={
            "status": "planned",
            "changed": "true" if difference.differs else "false",
            "alias": difference.alias,
            "code-sha256": difference.code_after,
            "previous-version": difference.previous_version,
        },
        summary=markdown(difference),
        payload=as_json(difference),
        text=text(difference),
    )


def comment_difference(settings: Settings, difference: Difference, io: Reporter) -> None:
    comment_on_pull_request(settings, None, io, markdown(difference, DIFF_COMMENT_TITLE), difference.function, difference.alias)


def text(difference: Difference) -> str:
    if not difference.differs:
        return f"function {difference.function}: no difference; deploy would change nothing"
    lines = [f"function {difference.function} (alias {difference.alias}): deploy would change"]
    if difference.new_function:
        lines.append("  the function does not exist: it would be created")
    lines += [f"  configuration  {change}" for change in difference.configuration]
    if difference.code_before != difference.code_after:
        lines.append(f"  code           {difference.code_before or '(none)'} → {difference.code_after}")
        lines += [f"    + {name}" for name in difference.files.added]
        lines += [f"    - {name}" for name in difference.files.removed]
        lines += [f"    ~ {name}" for name in difference.files.changed]
    lines += ["  steps:", *(f"    {number}. {step}" for number, step in enumerate(difference.steps, start=1))]
    return "\n".join(lines)


def markdown(difference: Difference, title: str = "") -> str:
    heading = title or f"lambda-deploy: what deploy would change in `{difference.function}`"
    if not difference.differs:
        return f"### {heading}\n\nNothing: the live function already is what this deploy would make."
    lines = [f"### {heading}", "", "| | before → after |", "|---|---|"]
    if difference.new_function:
        lines.append("| function | (none) → created |")
    lines += [
        f"| {markdown_text(change.split(': ', 1)[0])} | {markdown_text(change.split(': ', 1)[-1])} |" for change in difference.configuration
    ]
    if difference.code_before != difference.code_after:
        lines.append(f"| code | `{difference.code_before or '(none)'}` → `{difference.code_after}` |")
    files = difference.files
    if files.any:
        lines += ["", "<details><summary>Files</summary>", ""]
        lines += [f"- added {code_span(name)}" for name in files.added] + [f"- removed {code_span(name)}" for name in files.removed]
        lines += [f"- changed {code_span(name)}" for name in files.changed]
        lines += ["", "</details>"]
    lines += [
        "",
        "<details><summary>Steps</summary>",
        "",
        *(f"{n}. {markdown_text(s)}" for n, s in enumerate(difference.steps, 1)),
        "",
        "</details>",
    ]
    return "\n".join(lines)


def as_json(difference: Difference) -> dict[str, Any]:
    return {
        "function": difference.function,
        "alias": difference.alias,
        "differs": difference.differs,
        "configuration": list(difference.configuration),
        "code": {"before": difference.code_before, "after": difference.code_after},
        "files": {
            "added": list(difference.files.added),
            "removed": list(difference.files.removed),
            "changed": list(difference.files.changed),
        },
        "steps": list(difference.steps),
        "new_function": difference.new_function,
        "mutates": difference.mutates,
    }


SPEC = Spec(
    "show everything deploy would change against the live function (exit 0: nothing, 3: something, 1: an error)",
    run,
    in_action=True,
)
