"""``diff``: everything ``deploy`` would change, against the live function.

Contract: the difference is the planner's own output rendered in full, not a second
comparison: ``deploy`` runs as a dry run (the same inputs, or a deploy file), and its plan's
configuration changes (old → new, environment values never shown) and steps are listed. The
code is compared too: its hash, and the files added, removed and changed between the package
that would be deployed and the live one (downloaded through GetFunction's ``Code.Location``).
``exit_code``: 0 when nothing differs, 3 when something does (1 is an error, as always).
"""

from __future__ import annotations

import io
import urllib.request
import zipfile
from dataclasses import dataclass, field
from typing import Any

from ..model import Result
from ..text import code_span, markdown_text

DIFFERS = 3


@dataclass(frozen=True)
class Files:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)


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

    @property
    def differs(self) -> bool:
        return bool(self.configuration or self.code_before != self.code_after or self.new_function or self.mutates)


def _entries(data: bytes) -> dict[str, int]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: info.CRC for info in archive.infolist() if not info.is_dir()}


def compare_files(live: bytes, wanted: bytes) -> Files:
    """Files added, removed and changed (by CRC) from the live package to the wanted one."""
    before, after = _entries(live), _entries(wanted)
    return Files(
        added=tuple(sorted(set(after) - set(before))),
        removed=tuple(sorted(set(before) - set(after))),
        changed=tuple(sorted(name for name in set(before) & set(after) if before[name] != after[name])),
    )


def live_package(location: str) -> bytes:
    with urllib.request.urlopen(location, timeout=60) as answer:  # GetFunction's pre-signed URL
        return bytes(answer.read())


def of(result: Result) -> Difference:
    plan = result.plan
    files = Files(*result.files)
    return Difference(
        function=plan.function_name,
        alias=result.alias,
        configuration=tuple(change.describe() for change in plan.changes),
        code_before=plan.code_before,
        code_after=plan.code_after,
        files=files,
        steps=tuple(step.describe() for step in plan.steps),
        new_function=not plan.code_before,
        mutates=plan.mutates,
    )


def exit_code(difference: Difference) -> int:
    return DIFFERS if difference.differs else 0


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


def from_json(data: dict[str, Any]) -> Difference:
    files = data["files"]
    return Difference(
        function=data["function"],
        alias=data["alias"],
        configuration=tuple(data["configuration"]),
        code_before=data["code"]["before"],
        code_after=data["code"]["after"],
        files=Files(tuple(files["added"]), tuple(files["removed"]), tuple(files["changed"])),
        steps=tuple(data["steps"]),
        new_function=bool(data["new_function"]),
        mutates=bool(data["mutates"]),
    )
