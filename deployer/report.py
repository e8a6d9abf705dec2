"""Result -> step outputs, Markdown job summary and JSON (pure).

Contract: these functions only format; they never print, and they never see
environment values (a ``Result`` carries changed keys only).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from .analysis import Check, ColdStarts
from .errors import DeployError, Problem
from .model import Result, RolloutOutcome, TimelineEvent
from .schedule import format_duration
from .text import code_span, counted, markdown_text

OUTPUT_NAMES = (
    "function-arn",
    "version",
    "previous-version",
    "alias",
    "alias-arn",
    "code-sha256",
    "changed",
    "status",
    "stable-version",
    "canary-version",
    "function-url",
    "deleted-versions",
    "analysis",
)
HEADLINES = {
    "deployed": "✅ Deployed",
    "unchanged": "✅ Nothing to change",
    "planned": "📝 Plan (dry run: nothing was changed)",
    "canary": "🐤 Canary open",
    "promoted": "✅ Promoted",
    "rolled-back": "↩️ Rolled back",
    "aborted": "⛔ Aborted",
    "cleaned-up": "🧹 Preview removed",
}
NOTHING_REMOVED = "🧹 Nothing to clean up"


def headline(result: Result) -> str:
    """The run's headline: a cleanup that found nothing says so, and never "removed"."""
    if result.status == "cleaned-up" and not result.removed:
        return NOTHING_REMOVED
    return HEADLINES.get(result.status, result.status)


def outputs(result: Result) -> dict[str, str]:
    return {
        "function-arn": result.function_arn,
        "version": result.version,
        "previous-version": result.previous_version,
        "alias": ",".join(name for name, _ in result.removed) or result.alias,
        "alias-arn": result.alias_arn,
        "code-sha256": result.code_sha256,
        "changed": "true" if result.changed else "false",
        "status": result.status,
        "stable-version": result.rollout.stable if result.rollout else result.version,
        "canary-version": result.rollout.canary if result.rollout else "",
        "function-url": result.function_url,
        "deleted-versions": "" if result.status == "planned" else ",".join(result.pruned.deleted),
        "analysis": json_text(analysis_json(result.rollout)) if result.rollout and result.rollout.analysis else "",
    }


def one_line(result: Result) -> str:
    """What a run did, in one line: for a message that must say it even when nothing else can be written."""
    if result.status == "cleaned-up":
        return f"{headline(result)}: function {result.plan.function_name}" + (
            f", aliases {', '.join(name for name, _ in result.removed)}" if result.removed else ""
        )
    before = result.previous_version
    moved = f"version {before} → {result.version}" if before and before != result.version else f"version {result.version}"
    return f"{headline(result)}: function {result.plan.function_name}, alias {result.alias} on {moved}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _version_cell(result: Result) -> str:
    rollout = result.rollout
    if rollout is not None and rollout.canary and rollout.canary != result.version:
        made = "new" if result.changed else "reused"
        return f"{rollout.canary} ({made}), {result.status}: the alias's main version is {result.version}"
    if result.status == "planned":
        return "a new version would be published" if result.plan.publishes else f"{result.version} (would be reused)"
    return f"{result.version} (new)" if result.changed else f"{result.version} (reused)"


def _alias_cell(result: Result) -> str:
    before = result.previous_version or "(new alias)"
    after = result.version
    return f"`{result.alias}`: {before} → {after}" if before != after else f"`{result.alias}`: {after} (unchanged)"


def _code_cell(result: Result) -> str:
    plan = result.plan
    if plan.code_before == plan.code_after:
        return f"`{plan.code_after}` (unchanged)"
    return f"`{plan.code_before or '(none)'}` → `{plan.code_after}`"


def _pruned_cell(result: Result) -> str:
    pruned = result.pruned
    if not (pruned.deleted or pruned.skipped):
        return ""
    verb = "would delete" if result.status == "planned" else "deleted"
    parts = [f"{verb} {', '.join(pruned.deleted) or 'none'}"]
    parts += [f"kept {version}: {reason}" for version, reason in pruned.skipped]
    return "; ".join(parts)


def removed_cell(result: Result) -> str:
    """Each preview alias a cleanup removed, with the version it pointed at."""
    if not result.removed:
        return "none (nothing of this preview was left)" if result.status == "cleaned-up" else ""
    return ", ".join(f"`{name}` (version {version})" for name, version in result.removed)


def _calls_cell(calls: Mapping[str, int]) -> str:
    if not calls:
        return "none"
    return ", ".join(f"{name} ×{count}" if count > 1 else name for name, count in calls.items())


def markdown(result: Result) -> str:
    title = headline(result)
    changes = "<br>".join(markdown_text(c.describe()) for c in result.plan.changes) or "none"
    rows = [
        ("Function", f"`{result.plan.function_name}`"),
        ("Version", _version_cell(result)),
        ("Alias", _alias_cell(result)),
        ("Function URL", result.function_url),
        ("Previous alias", f"`{result.previous_alias[0]}` → {result.previous_alias[1]}" if result.previous_alias else ""),
        ("Artifact", code_span(result.artifact) if result.artifact else ""),
        ("Code SHA-256", _code_cell(result)),
        ("Configuration changes", changes),
        ("Versions pruned", _pruned_cell(result)),
        ("AWS calls", _calls_cell(result.calls)),
        ("Stage times", ", ".join(f"{name} {seconds:.2f}s" for name, seconds in result.timings) or "-"),
    ]
    rows = [(name, value) for name, value in rows if value or name not in ("Function URL", "Previous alias", "Versions pruned", "Artifact")]
    if result.status == "cleaned-up":  # no version or alias is left to show, nor code that was shipped
        rows[1:3] = [("Aliases removed", removed_cell(result))]
        rows = [(name, value) for name, value in rows if name != "Code SHA-256"]
    lines = [f"### lambda-deploy: {title}", "", "| | |", "|---|---|"]
    lines += [f"| {name} | {_cell(value) if name != 'Configuration changes' else value} |" for name, value in rows]
    # Every value above is ours or validated (names, versions, hashes, ARNs); text a user or
    # AWS controls goes through markdown_text.
    if result.rollout is not None:
        lines += ["", *rollout_markdown(result.rollout)]
        lines += ["", *analysis_markdown(result.rollout)] if result.rollout.analysis else []
    if result.plan.steps:
        lines += ["", "<details><summary>Plan</summary>", ""]
        lines += [f"{number}. {markdown_text(step.describe())}" for number, step in enumerate(result.plan.steps, start=1)]
        lines += ["", "</details>"]
    return "\n".join(lines)


def _chart_labels(events: tuple[TimelineEvent, ...]) -> list[str]:
    labels: list[str] = []
    for event in events:
        label = format_duration(round(event.at))
        while label in labels:  # categories must be distinct
            label += "'"
        labels.append(label)
    return labels


def rollout_markdown(rollout: RolloutOutcome) -> list[str]:
    """Reason, timeline table and a Mermaid chart of the new version's traffic share."""
    lines = [f"#### Rollout: version {rollout.stable} → {rollout.canary or rollout.version}"]
    if rollout.reason:
        lines += ["", f"**{HEADLINES.get(rollout.status, rollout.status)}:** {markdown_text(rollout.reason)}"]
    if not rollout.timeline:
        return lines
    lines += ["", "| time | traffic on new version | event | details |", "|---|---|---|---|"]
    lines += [
        f"| {format_duration(round(e.at))} | {e.weight:.0%} | {markdown_text(e.event)} | {markdown_text(e.detail)} |"
        for e in rollout.timeline
    ]
    labels = ", ".join(f'"{label}"' for label in _chart_labels(rollout.timeline))
    points = ", ".join(f"{e.weight * 100:g}" for e in rollout.timeline)
    lines += [
        "",
        "```mermaid",
        "xychart-beta",
        f'    title "Traffic on version {rollout.canary or rollout.version} (%)"',
        f'    x-axis "time since the rollout started" [{labels}]',
        '    y-axis "% of traffic" 0 --> 100',
        f"    line [{points}]",
        "```",
    ]
    return lines


CHART_POINTS = 30  # more checks than this crowd a chart's x axis (an hour's canary checked every 10 s has 360)


def drawn_checks(checks: tuple[Check, ...], at_most: int = CHART_POINTS) -> tuple[Check, ...]:
    """The checks a chart draws: all of them, or ``at_most`` evenly spaced, the first and the last
    (the one that decided) always among them. The table and the ``analysis`` output keep every check."""
    if len(checks) <= at_most:
        return checks
    step = (len(checks) - 1) / (at_most - 1)
    return tuple(checks[round(index * step)] for index in range(at_most))


def analysis_markdown(rollout: RolloutOutcome) -> list[str]:
    """Canary analysis drawn: per health check, both versions' latency and error rates with the
    traffic weight (Mermaid ``xychart-beta``: GitHub draws it), then the last check as a table."""
    if not rollout.analysis:
        return []
    checks = drawn_checks(rollout.analysis)
    last = checks[-1]
    new, stable = last.canary.version, last.stable.version

    def labels(chosen: tuple[Check, ...]) -> str:
        return ", ".join(f'"{label}"' for label in _chart_labels(tuple(TimelineEvent(c.at, c.weight, "", "") for c in chosen)))

    def points(values: list[float | None]) -> str:
        return ", ".join(f"{value or 0:.4g}" for value in values)

    # A check where a version served nothing has no latency to draw: it is left out of that chart.
    timed = tuple(c for c in checks if c.canary.latency is not None and c.stable.latency is not None)
    top = max((value for c in timed for value in (c.canary.latency or 0, c.stable.latency or 0)), default=1.0) * 1.2
    rates = [value * 100 for c in checks for value in (c.canary.rate, c.stable.rate)]
    lines = [f"#### Canary analysis: version {new} against version {stable}, side by side behind the alias"]
    if timed:
        lines += [
            "",
            "```mermaid",
            "xychart-beta",
            f'    title "Latency {last.percentile} (ms): version {new}, then version {stable}"',
            f"    x-axis [{labels(timed)}]",
            f'    y-axis "ms" 0 --> {max(top, 1.0):.4g}',
            f"    line [{points([c.canary.latency for c in timed])}]",
            f"    line [{points([c.stable.latency for c in timed])}]",
            "```",
        ]
    lines += [
        "",
        "```mermaid",
        "xychart-beta",
        f'    title "Traffic on version {new} (bars) and error rates (lines: {new}, then {stable}), %"',
        f"    x-axis [{labels(checks)}]",
        f'    y-axis "%" 0 --> {max(100.0, *rates):.4g}',
        f"    bar [{points([c.weight * 100 for c in checks])}]",
        f"    line [{points([c.canary.rate * 100 for c in checks])}]",
        f"    line [{points([c.stable.rate * 100 for c in checks])}]",
        "```",
        *(
            ["", f"The charts draw {len(checks)} of the {len(rollout.analysis)} checks, evenly spaced; output `analysis` has every one."]
            if len(checks) < len(rollout.analysis)
            else []
        ),
        "",
        f"Last check, at {format_duration(round(last.at))} with {last.weight:.0%} of the traffic on version {new}:",
        "",
        f"| | version {new} (new) | version {stable} (stable) |",
        "|---|---|---|",
        f"| invocations | {last.canary.invocations:g} | {last.stable.invocations:g} |",
        f"| errors | {last.canary.errors:g} ({last.canary.rate:.2%}) | {last.stable.errors:g} ({last.stable.rate:.2%}) |",
        f"| throttles | {last.canary.throttles:g} | {last.stable.throttles:g} |",
        f"| latency {last.percentile} | {_ms(last.canary.latency)} | {_ms(last.stable.latency)} |",
    ]
    colds = {cold.version: cold for cold in rollout.cold_starts}
    if colds:
        lines.append(f"| cold starts (init) | {_cold(colds.get(new))} | {_cold(colds.get(stable))} |")
    marks = {"pass": "✅", "fail": "❌", "not-yet": "⏳"}
    lines += ["", *(f"- {marks[gate.outcome]} {gate.gate}: {markdown_text(gate.detail)}" for gate in last.gates)]
    return lines


def _ms(value: float | None) -> str:
    return f"{value:.0f} ms" if value is not None else "-"


def _cold(cold: ColdStarts | None) -> str:
    return f"{cold.count}, {cold.average:.0f} ms on average (worst {cold.worst:.0f} ms)" if cold else "none seen"


def analysis_json(rollout: RolloutOutcome | None) -> list[dict[str, Any]]:
    """Output ``analysis``: one entry per health check, both versions' numbers and the gates' outcomes."""
    if rollout is None:
        return []
    return [
        {
            "at": check.at,
            "weight": check.weight,
            "percentile": check.percentile,
            "new": asdict(check.canary),
            "stable": asdict(check.stable),
            "gates": [asdict(gate) for gate in check.gates],
        }
        for check in rollout.analysis
    ]


def comment_marker(function_name: str, alias: str) -> str:
    """Hidden in the comment, so the next run finds it again and edits it."""
    return f"<!-- lambda-deploy preview: {function_name} / {alias} -->"


def comment_markdown(result: Result, commit: str, run_url: str) -> str:
    """The pull request's preview comment: where the preview is and what it runs."""
    name, alias = result.plan.function_name, result.alias
    marker = comment_marker(name, alias)
    footer = f"<sub>lambda-deploy{f', [run]({run_url})' if run_url else ''}</sub>"
    if result.status == "cleaned-up":
        deleted = ", ".join(result.pruned.deleted)
        lines = [
            f"### 🧹 Preview of `{name}` removed",
            "",
            f"Aliases removed: {removed_cell(result)}. Their function URLs and permissions were deleted when the pull request closed."
            + (f" Versions deleted: {deleted}." if deleted else ""),
        ]
        return "\n".join([*lines, "", footer, marker])
    rows = [
        ("Alias", f"`{alias}` → version {result.version}"),
        ("URL", result.function_url or "(none: set function-url to get one)"),
        *((("Image" if ".dkr.ecr." in result.artifact else "Artifact", code_span(result.artifact)),) if result.artifact else ()),
        ("Code SHA-256", f"`{result.code_sha256}`"),
        ("Commit", f"`{commit[:12]}`" if commit else "-"),
        (
            "Status",
            HEADLINES.get(result.status, result.status)
            + (f": {markdown_text(result.rollout.reason)}" if result.rollout and result.rollout.reason else ""),
        ),
    ]
    lines = [f"### 🔎 Preview `{alias}` of `{name}`", "", "| | |", "|---|---|", *(f"| {key} | {_cell(value)} |" for key, value in rows)]
    if result.rollout is not None and result.rollout.analysis:
        lines += ["", *analysis_markdown(result.rollout)]
    return "\n".join([*lines, "", footer, marker])


def json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


RESULT_FIELDS = (
    "version",
    "previous-version",
    "alias",
    "status",
    "code-sha256",
    "changed",
    "function-url",
    "deleted-versions",
    "canary-version",
)


def result_entry(result: Result) -> dict[str, Any]:
    """One function's entry in output ``results``."""
    values = outputs(result)
    return {name: values[name] for name in RESULT_FIELDS}


def fleet_entry(result: Result | None, status: str, problems: tuple[Problem, ...], seconds: float) -> dict[str, Any]:
    entry: dict[str, Any] = result_entry(result) if result else {"status": status}
    entry["seconds"] = round(seconds, 1)
    if problems:
        entry["error"] = "; ".join(problem.render() for problem in problems)
    return entry


def listing_markdown(display: str, names: list[str]) -> str:
    lines = [f"### lambda-deploy: {counted(len(names), 'function')} in {code_span(display)}", ""]
    return "\n".join([*lines, *(f"- `{name}`" for name in names)])


FLEET_MARKS = {"deployed": "✅", "unchanged": "✅", "planned": "📝", "canary": "🐤", "promoted": "✅", "cleaned-up": "🧹"}


def fleet_markdown(display: str, rows: list[tuple[str, Result | None, str, float]]) -> str:
    """One table across the functions, then each function's own summary, folded."""
    counts: dict[str, int] = {}
    for _, _, status, _ in rows:
        counts[status] = counts.get(status, 0) + 1
    tally = ", ".join(f"{FLEET_MARKS.get(status, '❌')} {count} {status}" for status, count in counts.items())
    lines = [f"### lambda-deploy: {counted(len(rows), 'function')} from {code_span(display)}: {tally}", ""]
    lines += ["| function | version | alias | status | duration | AWS calls |", "|---|---|---|---|---|---|"]
    for name, result, status, seconds in rows:
        mark = FLEET_MARKS.get(status, "❌")
        if result is None:
            lines.append(f"| `{name}` | - | - | {mark} {status} | {seconds:.1f}s | - |")
            continue
        calls = sum(result.calls.values())
        lines.append(
            f"| `{name}` | {_cell(_version_cell(result))} | {_cell(_alias_cell(result))} | {mark} {status} | {seconds:.1f}s | {calls} |"
        )
    for name, result, status, _ in rows:
        if result is not None:
            details = markdown(result).replace("### lambda-deploy: ", "#### ", 1)
            lines += ["", f"<details><summary>{name}: {status}</summary>", "", details, "", "</details>"]
    return "\n".join(lines)


def failure_markdown(error: DeployError) -> str:
    lines = ["### lambda-deploy: ❌ Failed", ""]
    lines += [f"- {markdown_text(problem.render())}" for problem in error.problems]
    return "\n".join(lines)


def as_json(result: Result) -> dict[str, Any]:
    return {
        **outputs(result),
        "changed": result.changed,
        "steps": [step.describe() for step in result.plan.steps],
        "changes": [change.describe() for change in result.plan.changes],
        "calls": dict(result.calls),
        "timings": {name: round(seconds, 3) for name, seconds in result.timings},
        "reason": result.rollout.reason if result.rollout else "",
        "deleted_versions": list(result.pruned.deleted),
        "kept_versions": [{"version": version, "reason": reason} for version, reason in result.pruned.skipped],
        "timeline": [
            {"at": round(e.at, 3), "weight": e.weight, "event": e.event, "detail": e.detail}
            for e in (result.rollout.timeline if result.rollout else ())
        ],
        "analysis": analysis_json(result.rollout),
        "cold_starts": [asdict(cold) for cold in (result.rollout.cold_starts if result.rollout else ())],
    }
