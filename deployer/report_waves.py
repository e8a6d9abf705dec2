"""Pure: a run in waves -> its outputs, its job summary and its JSON.

Contract: ``outputs(runs)`` gives ``results`` (one entry per function and target: wave,
function, region, account, status, versions, bake, the gate that tripped, what the rollback
did, and its rollout's canary analysis when there was one), ``waves`` (each wave's status and
bake) and ``status``; ``markdown(runs, display)`` a table of waves x targets, a timeline, a
Mermaid Gantt chart of the deploys and bakes, then each target's own deploy summary, folded
(its rollout and analysis charts included); ``status_of(runs)`` the run's one word.
Untrusted text (reasons, names) is made inert.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from . import report
from .schedule import format_duration
from .text import code_span, counted, markdown_text
from .waves import TargetRun, WaveEvent, WaveRun

MARKS = {"deployed": "✅", "unchanged": "✅", "rolled-back": "↩️", "kept": "📌", "not-started": "⏸️", "failed": "❌", "cancelled": "⛔"}


def status_of(runs: Sequence[WaveRun]) -> str:
    """deployed (every wave), rolled-back (a wave failed and was put back), failed, or cancelled."""
    if all(run.status == "deployed" for run in runs):
        return "deployed"
    if any(run.bake.startswith("cancelled") for run in runs):
        return "cancelled"
    return "rolled-back" if any(run.status == "rolled-back" for run in runs) else "failed"


def result_entry(run: TargetRun) -> dict[str, Any]:
    rollout = run.result.rollout if run.result else None
    return {
        **({"analysis": report.analysis_json(rollout)} if rollout and rollout.analysis else {}),
        "wave": run.wave,
        "function": run.function,
        "region": run.target.region,
        "account": run.account or run.target.account,
        "alias": run.alias,
        "status": run.status,
        "version": run.version,
        "previous-version": run.before,
        "bake": run.bake,
        "gate": run.gate,
        "rolled-back": run.rolled_back,
        "seconds": run.seconds,
    }


def outputs(runs: Sequence[WaveRun]) -> dict[str, str]:
    results = [result_entry(target) for run in runs for target in run.targets]
    waves = [
        {"name": run.wave.name, "status": run.status, "bake": run.bake, "targets": [t.describe() for t in run.wave.targets]} for run in runs
    ]
    return {"results": _json(results), "waves": _json(waves), "status": status_of(runs)}


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def as_json(runs: Sequence[WaveRun], events: Sequence[WaveEvent]) -> dict[str, Any]:
    return {
        "status": status_of(runs),
        "waves": [{"name": run.wave.name, "status": run.status, "bake": run.bake} for run in runs],
        "results": [result_entry(target) for run in runs for target in run.targets],
        "timeline": [{"at": event.at, "wave": event.wave, "event": event.what} for event in events],
    }


HEADLINES = {
    "deployed": "✅ Deployed in every wave",
    "rolled-back": "↩️ A wave failed: rolled back",
    "failed": "❌ A wave failed",
    "cancelled": "⛔ Cancelled: rolled back",
}


def _version_cell(run: TargetRun) -> str:
    if not run.version:
        return "-"
    if run.before == run.version or run.status == "unchanged":
        return f"{run.version} (unchanged)"
    return f"{run.before or '(new)'} → {run.version}"


def _bake_cell(run: TargetRun, wave: WaveRun) -> str:
    if run.bake == "passed":
        return f"passed ({format_duration(round(wave.wave.bake))})"
    return run.bake or ("not run" if wave.status != "deployed" else "")


def markdown(runs: Sequence[WaveRun], events: Sequence[WaveEvent], display: str) -> str:
    status = status_of(runs)
    targets = sum(len(run.wave.targets) for run in runs)
    lines = [
        f"### lambda-deploy: {HEADLINES[status]}",
        "",
        f"{counted(len(runs), 'wave')}, {counted(targets, 'target')}, from {code_span(display)}.",
        "",
        "| Wave | Target | Function | Version | Status | Bake | Gate / rollback |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        if not run.targets:
            where = ", ".join(t.describe() for t in run.wave.targets)
            lines.append(f"| {markdown_text(run.wave.name)} | {markdown_text(where)} | - | - | {MARKS[run.status]} {run.status} | - | - |")
            continue
        for target in run.targets:
            note = "; ".join(part for part in (target.gate, target.rolled_back) if part)
            mark = MARKS.get(target.status, "❌")
            shown = f"{mark} {target.status}" + (f" → {run.status}" if run.status in ("rolled-back", "kept") else "")
            cells = [
                markdown_text(run.wave.name),
                markdown_text(_where(target)),
                code_span(target.function, in_table=True),
                _version_cell(target),
                shown,
                markdown_text(_bake_cell(target, run)),
                markdown_text(note),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    if events:
        lines += ["", "#### Timeline", "", "| time | wave | event |", "|---|---|---|"]
        lines += [f"| {format_duration(round(e.at))} | {markdown_text(e.wave)} | {markdown_text(e.what)} |" for e in events]
        lines += ["", *gantt(runs)]
    for run in runs:
        for target in run.targets:
            if target.result is not None:  # the target's own account of its deploy: plan, rollout, analysis
                details = report.markdown(target.result).replace("### lambda-deploy: ", "#### ", 1)
                title = (
                    f"{markdown_text(target.function)} in {markdown_text(_where(target))}, wave {markdown_text(run.wave.name)}: its deploy"
                )
                lines += ["", f"<details><summary>{title}</summary>", "", details, "", "</details>"]
    return "\n".join(lines)


def gantt(runs: Sequence[WaveRun]) -> list[str]:
    """A Mermaid Gantt chart of each wave's deploy and bake (GitHub draws Mermaid in Markdown)."""
    lines = ["```mermaid", "gantt", "    dateFormat X", "    axisFormat %M:%S"]
    for run in runs:
        if run.status == "not-started":
            continue
        lines.append(f"    section {_label(run.wave.name)}")
        deploy_end = max(run.baked_from, run.started + 1)
        tag = "crit, " if run.status != "deployed" and run.bake in ("", "not run") else "done, "
        lines.append(f"    deploy :{tag}{round(run.started)}, {round(deploy_end)}")
        if run.bake and run.bake != "not run":
            bake_tag = "done, " if run.bake in ("passed", "already baked") else "crit, "
            lines.append(f"    bake :{bake_tag}{round(deploy_end)}, {round(max(run.ended, deploy_end + 1))}")
    lines.append("```")
    return lines


def _where(run: TargetRun) -> str:
    account = run.account or run.target.account
    return f"{run.target.region} ({account})" if account else run.target.region


def _label(name: str) -> str:
    """A wave's name as a Mermaid label: its own characters are letters, digits, '-', '_' and '.' (the schema's)."""
    return "".join(ch for ch in name if ch.isalnum() or ch in "-_.") or "wave"
