"""``status``: what is live; with a deploy file, for every function in every target of its waves.

Contract: ``read_status(aws, function_name, keep, grace)`` reads the function's versions
(number, date, code hash, and the commit from the audit note lambda-deploy writes into a
version's description), its aliases (version, weights, whose they are), each alias's function
URL and auth type and its provisioned concurrency, and which versions ``keep-versions: keep``
would delete today (``planner.prune_candidates``, the very rule pruning uses, with the same
``prune-grace``). ``markdown``, ``text`` and ``as_json`` render it; none of them prints.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from ..aws import Connector, LambdaGateway
from ..deploy_file import load_deploy_file
from ..oidc import web_identity
from ..ownership import MARKER_PREFIX, marker_of
from ..planner import prune_candidates
from ..schedule import format_duration
from ..settings import load_access, load_fleet_settings
from ..settings.waves import Target
from ..text import markdown_text
from ..waves import target_settings
from .base import ACCESS, Report, Request, Spec
from .functions import services_for

_COMMIT = re.compile(r"\bcommit ([0-9a-f]{7,40})\b")


@dataclass(frozen=True)
class VersionRow:
    version: str
    modified: str
    code_sha256: str
    commit: str
    description: str


@dataclass(frozen=True)
class AliasRow:
    name: str
    version: str
    weights: dict[str, float]
    owner: str  # "preview of OWNER/REPO#17", or ""
    url: str
    auth_type: str
    provisioned: int | None
    provisioned_status: str


@dataclass(frozen=True)
class Status:
    function: str
    versions: tuple[VersionRow, ...]
    aliases: tuple[AliasRow, ...]
    keep: int
    grace: float
    prunable: tuple[str, ...]


def read_status(aws: LambdaGateway, function_name: str, keep: int, grace: float) -> Status:
    raw, ages = aws.listing(function_name)
    aliases = aws.list_aliases(function_name)
    versions = tuple(
        VersionRow(
            version=str(item["Version"]),
            modified=str(item.get("LastModified", "")),
            code_sha256=str(item.get("CodeSha256", "")),
            commit=(found.group(1) if (found := _COMMIT.search(str(item.get("Description", "")))) else ""),
            description=str(item.get("Description", "")),
        )
        for item in sorted(raw, key=lambda item: int(item["Version"]))
    )
    rows = []
    for alias in aliases:
        url = aws.function_url(function_name, alias.name)
        provisioned = aws.provisioned(function_name, alias.name)
        rows.append(
            AliasRow(
                name=alias.name,
                version=alias.version,
                weights=dict(alias.weights),
                owner=marker_of(alias.description).removeprefix(MARKER_PREFIX),
                url=url.url if url else "",
                auth_type=url.auth_type if url else "",
                provisioned=provisioned.requested if provisioned else None,
                provisioned_status=provisioned.status if provisioned else "",
            )
        )
    prunable = prune_candidates([v.version for v in versions], aliases, keep, ages, grace) if keep else ()
    return Status(function_name, versions, tuple(rows), keep, grace, prunable)


def _routing(alias: AliasRow) -> str:
    shares = ", ".join(f"{weight:.0%} on {version}" for version, weight in alias.weights.items())
    return f"{alias.version}" + (f" ({shares})" if shares else "")


def _pruning(status: Status) -> str:
    if not status.keep:
        return "give --keep-versions N to see what pruning would delete"
    younger = f", older than {format_duration(status.grace)}" if status.grace else ""
    doomed = ", ".join(status.prunable) or "nothing"
    return f"keep-versions {status.keep} (aliased versions kept{younger}) would delete: {doomed}"


def markdown(status: Status) -> str:
    lines = [f"### lambda-deploy: status of `{status.function}`", "", "| version | modified | code SHA-256 | commit |", "|---|---|---|---|"]
    lines += [f"| {v.version} | {v.modified} | `{v.code_sha256}` | {v.commit or '-'} |" for v in status.versions]
    lines += ["", "| alias | version | preview of | function URL | provisioned |", "|---|---|---|---|---|"]
    for a in status.aliases:
        url = f"{a.url} ({a.auth_type})" if a.url else "-"
        warm = f"{a.provisioned} ({a.provisioned_status})" if a.provisioned is not None else "-"
        lines.append(f"| `{a.name}` | {_routing(a)} | {markdown_text(a.owner) or '-'} | {url} | {warm} |")
    return "\n".join([*lines, "", _pruning(status)])


def text(status: Status) -> str:
    lines = [f"function {status.function}", "versions:"]
    lines += [f"  {v.version:>5}  {v.modified}  {v.code_sha256}  {v.commit or '-'}" for v in status.versions] or ["  (none)"]
    lines.append("aliases:")
    for a in status.aliases:
        extra = [f"preview of {a.owner}"] if a.owner else []
        extra += [f"URL {a.url} ({a.auth_type})"] if a.url else []
        extra += [f"provisioned {a.provisioned} ({a.provisioned_status})"] if a.provisioned is not None else []
        lines.append(f"  {a.name} → {_routing(a)}" + (f"; {'; '.join(extra)}" if extra else ""))
    if not status.aliases:
        lines.append("  (none)")
    return "\n".join([*lines, _pruning(status)])


def as_json(status: Status) -> dict[str, Any]:
    return asdict(status)


def run(request: Request) -> Report:
    if request.inputs.get("config", "").strip():
        return every_function(request)
    access = load_access(request.inputs, request.env)
    read = read_status(services_for(request, access).lambda_, access.function_name, access.keep_versions, access.prune_grace)
    return Report(summary=markdown(read), payload=as_json(read), text=text(read))


def every_function(request: Request) -> Report:
    """With a deploy file: the status of every function, in every target of its waves (or its own region)."""
    fleet = load_fleet_settings(request.inputs, request.env)
    assert fleet is not None  # config is given
    loaded = load_deploy_file(fleet, {**request.inputs, "command": "status"}, request.env, require_alias=False)
    connector = Connector(request.io.info, request.io.mask)
    found: list[tuple[str, Status]] = []
    for entry in loaded.entries:
        settings = entry.settings
        targets = loaded.waves.targets if loaded.waves is not None else (Target(settings.region),)
        for target in targets:
            placed = target_settings(settings, target, request.env)
            services = connector.services(placed.region, placed.wait_timeout, web_identity(placed.credentials, request.io.mask))
            name = f"{entry.name}@{target.describe()}" if loaded.waves is not None else entry.name
            found.append((name, read_status(services.lambda_, settings.function_name, settings.keep_versions, settings.prune_grace)))
    return Report(
        summary="\n\n".join(markdown(status).replace(f"`{status.function}`", f"`{name}`", 1) for name, status in found),
        payload={name: as_json(status) for name, status in found},
        text="\n\n".join(f"{name}\n{text(status)}" for name, status in found),
    )


SPEC = Spec(
    "show the versions, aliases (versions, weights, owners), function URLs, provisioned concurrency, "
    "and what keep-versions would delete today; it changes nothing",
    run,
    in_action=True,
    inputs=("function-name", "config", "keep-versions", "prune-grace", *ACCESS),
    help={
        "function-name": "the function to read (name or ARN)",
        "keep-versions": "show which versions keep-versions N would delete today (nothing is deleted)",
    },
)
