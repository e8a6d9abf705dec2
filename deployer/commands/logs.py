"""``logs``: a function's CloudWatch Logs, optionally one version's, optionally followed.

Contract: the log group is the one the function's ``LoggingConfig`` names (never assumed);
``--since`` takes ``10m``, ``2h``, ``1d`` or a timestamp; ``--filter`` is CloudWatch's filter
pattern; ``--alias`` or ``--version`` keeps one version's events (an alias stands for its
version and its weighted one). A version is known from the ``[N]`` in the stream name
(``2026/11/30/[3]abc…``), or from the ``version`` field of JSON log lines. ``follow`` polls
on a fixed cadence, never prints an event twice, and ends on Ctrl-C (the caller's
``KeyboardInterrupt``) with nothing lost.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..aws import LogEvent, LogsGateway
from ..errors import DeployError, InputError
from ..schedule import parse_duration
from ..settings import load_access
from .base import ACCESS, Flag, Report, Request, Spec
from .functions import services_for

_STREAM_VERSION = re.compile(r"\[(\$LATEST|\d+)\]")
_DAYS = re.compile(r"(\d+(?:\.\d+)?)\s*d\Z")
POLL_SECONDS = 2.0


def parse_since(value: str, now: datetime) -> datetime:
    """``10m``, ``2h``, ``1d`` (ago), or an ISO 8601 timestamp."""
    text = value.strip()
    if days := _DAYS.match(text):
        return now - timedelta(days=float(days.group(1)))
    try:
        return now - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"'{value}' is neither a duration (10m, 2h, 1d) nor a timestamp (2026-11-30T14:00:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def version_of(event: LogEvent) -> str:
    """The version that wrote ``event``: from its stream's ``[N]``, else a JSON line's ``version``."""
    if found := _STREAM_VERSION.search(event.stream):
        return found.group(1)
    try:
        record = json.loads(event.message)
    except ValueError:
        return ""
    if isinstance(record, dict):
        return str(record.get("version") or (record.get("record") or {}).get("version") or "")
    return ""


@dataclass(frozen=True)
class Query:
    group: str
    start: datetime
    pattern: str = ""
    versions: frozenset[str] = frozenset()  # empty: every version


def matching(events: Iterable[LogEvent], versions: frozenset[str]) -> Iterator[LogEvent]:
    return (event for event in events if not versions or version_of(event) in versions)


def read(logs: LogsGateway, query: Query) -> list[LogEvent]:
    return list(matching(logs.events(query.group, int(query.start.timestamp() * 1000), query.pattern), query.versions))


def follow(
    logs: LogsGateway, query: Query, show: Callable[[LogEvent], None], sleep: Callable[[float], None], rounds: int | None = None
) -> None:
    """Print events as they come; each poll starts at the newest event seen, and events already
    shown (same id) are skipped. ``rounds`` bounds the polls (tests); None polls until Ctrl-C."""
    seen: set[str] = set()
    start_ms = int(query.start.timestamp() * 1000)
    done = 0
    while rounds is None or done < rounds:
        for event in matching(logs.events(query.group, start_ms, query.pattern), query.versions):
            if event.event_id in seen:
                continue
            seen.add(event.event_id)
            start_ms = max(start_ms, event.timestamp)
            show(event)
        done += 1
        if rounds is None or done < rounds:
            sleep(POLL_SECONDS)


def line(event: LogEvent) -> str:
    moment = datetime.fromtimestamp(event.timestamp / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    version = version_of(event)
    return f"{moment} {f'[{version}] ' if version else ''}{event.message.rstrip()}"


def run(request: Request) -> Report:
    access = load_access(request.inputs, request.env)
    services = services_for(request, access)
    flags = request.flags
    config = services.lambda_.configuration(access.function_name)
    group = str((config.raw.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{config.name}")
    try:
        start = parse_since(str(flags.get("since") or "10m"), datetime.now(UTC))
    except ValueError as error:
        raise InputError.of(str(error), "--since") from None
    versions: frozenset[str] = frozenset()
    if flags.get("alias"):
        alias = services.lambda_.get_alias(access.function_name, str(flags["alias"]))
        if alias is None:
            raise DeployError.of(f"alias '{flags['alias']}' of function '{access.function_name}' does not exist", "--alias")
        versions = frozenset({alias.version, *alias.weights})
    elif flags.get("version"):
        versions = frozenset({str(flags["version"])})
    query = Query(group, start, str(flags.get("filter") or ""), versions)
    request.io.info(
        f"log group {group}, since {start:%Y-%m-%d %H:%M:%S} UTC" + (f", versions {', '.join(sorted(versions))}" if versions else "")
    )

    def show(event: LogEvent) -> None:
        request.out.write(line(event) + "\n")
        request.out.flush()

    if flags.get("follow"):
        follow(services.logs, query, show, time.sleep)  # until Ctrl-C: a normal end (app.run)
    else:
        for event in read(services.logs, query):
            show(event)
    return Report()


SPEC = Spec(
    "print the function's CloudWatch Logs (its LoggingConfig's log group)",
    run,
    inputs=("function-name", *ACCESS),
    flags=(
        Flag("since", "how far back: 10m, 2h, 1d, or a timestamp (2026-11-30T14:00:00Z)", "10m"),
        Flag("filter", "CloudWatch Logs filter pattern, e.g. ERROR or '{ $.level = \"ERROR\" }'"),
        Flag("alias", "only the events of the version(s) this alias routes to"),
        Flag("version", "only the events of this version"),
        Flag("follow", "keep printing new events until Ctrl-C", switch=True),
    ),
    json=False,
    help={"function-name": "the function whose logs to read (name or ARN)"},
)
