"""CloudWatch Logs: a function's log events, through botocore's FilterLogEvents paginator;
and its cold starts (the ``Init Duration`` of ``REPORT`` lines, by version) through one Logs
Insights query.

Throttles (``ThrottlingException``) and 5xx answers are ridden out by the client's
``standard`` retry mode, like every other call; what still fails is explained."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..errors import DeployError
from .errors import NOT_FOUND, error_code, translated


@dataclass(frozen=True)
class LogEvent:
    timestamp: int  # milliseconds since the epoch
    stream: str
    message: str
    event_id: str


class LogsGateway:
    def __init__(self, client: Any) -> None:
        self._logs = client  # a LazyClient: it joins the call log when it is made

    def query(self, group: str, start_s: int, end_s: int, text: str, sleep: Callable[[float], None]) -> list[dict[str, str]]:
        """A Logs Insights query's rows (field -> value), polled until it completes."""
        with translated(f"querying the log group {group}", "the function's LoggingConfig"):
            query_id = self._logs.start_query(logGroupName=group, startTime=start_s, endTime=end_s, queryString=text)["queryId"]
            for _ in range(QUERY_POLLS):
                answer = self._logs.get_query_results(queryId=query_id)
                if answer.get("status") in ("Complete", "Failed", "Cancelled", "Timeout"):
                    break
                sleep(1.0)
        if answer.get("status") != "Complete":
            raise DeployError.of(f"the Logs Insights query on {group} ended {answer.get('status', 'unfinished')}", "the function's logs")
        return [{field["field"]: field.get("value", "") for field in row} for row in answer.get("results", [])]

    def events(self, group: str, start_ms: int, pattern: str = "") -> Iterator[LogEvent]:
        """Every event of ``group`` from ``start_ms`` on that matches ``pattern`` (CloudWatch's filter syntax)."""
        params: dict[str, Any] = {"logGroupName": group, "startTime": start_ms, "interleaved": True}
        if pattern:
            params["filterPattern"] = pattern
        with translated(f"reading the log group {group}", "input 'log-group' (or the function's LoggingConfig)"):
            try:
                for page in self._logs.get_paginator("filter_log_events").paginate(**params):
                    for event in page.get("events", []):
                        yield LogEvent(
                            int(event["timestamp"]),
                            str(event.get("logStreamName", "")),
                            str(event.get("message", "")),
                            str(event.get("eventId", "")),
                        )
            except ClientError as error:
                if error_code(error) == NOT_FOUND:
                    raise DeployError.of(
                        f"log group {group} does not exist (yet): the function has not logged anything, or logs elsewhere",
                        "the function's LoggingConfig",
                        "invoke the function once, or check log-group",
                    ) from None
                raise


# Lambda's REPORT line for a cold start: "REPORT RequestId: ... Init Duration: 182.29 ms ..."; the
# stream name carries the version that ran: "2026/11/30/[7]0f3c...".
INIT_QUERY = "fields @logStream, @message | filter @message like /Init Duration/ | limit 10000"
_INIT = re.compile(r"Init Duration: ([0-9.]+) ms")
_STREAM_VERSION = re.compile(r"\[(\$LATEST|[0-9]+)\]")
QUERY_POLLS = 20  # a query over a rollout's window finishes in seconds; give up after this many polls


def init_durations(rows: Iterable[Mapping[str, str]]) -> dict[str, list[float]]:
    """Each version's init durations (ms) from Logs Insights rows of @logStream and @message."""
    found: dict[str, list[float]] = {}
    for row in rows:
        version = _STREAM_VERSION.search(row.get("@logStream", ""))
        duration = _INIT.search(row.get("@message", ""))
        if version and duration:
            found.setdefault(version.group(1), []).append(float(duration.group(1)))
    return found
