"""CloudWatch Logs: a function's log events, through botocore's FilterLogEvents paginator.

Throttles (``ThrottlingException``) and 5xx answers are ridden out by the client's
``standard`` retry mode, like every other call; what still fails is explained."""

from __future__ import annotations

from collections.abc import Iterator
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
