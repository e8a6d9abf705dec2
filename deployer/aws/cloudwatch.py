"""CloudWatch: alarm states (a missing alarm is an error, not silence) and per-version
Lambda metrics (the ``ExecutedVersion`` dimension behind an alias)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import DeployError
from .errors import translated


@dataclass(frozen=True)
class MetricCounts:
    invocations: float
    errors: float

    @property
    def rate(self) -> float:
        return self.errors / self.invocations if self.invocations else 0.0


class CloudWatchGateway:
    """Alarm states and per-version Lambda metrics (namespace AWS/Lambda)."""

    def __init__(self, client: Any) -> None:
        self._cloudwatch = client  # a LazyClient: it joins the call log when it is made

    def alarm_states(self, names: Sequence[str]) -> dict[str, str]:
        """Name -> OK | ALARM | INSUFFICIENT_DATA; a missing name is a DeployError."""
        states: dict[str, str] = {}
        with translated("reading CloudWatch alarms", "input 'alarms'"):
            for page in self._cloudwatch.get_paginator("describe_alarms").paginate(AlarmNames=list(names)):
                for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                    states[alarm["AlarmName"]] = alarm["StateValue"]
        missing = [name for name in names if name not in states]
        if missing:
            raise DeployError.about(
                "alarms",
                f"no CloudWatch alarm named {', '.join(repr(m) for m in missing)} in this account and region",
                "check the names (they are case-sensitive) and aws-region",
            )
        return states

    def version_counts(self, function_name: str, alias: str, version: str, start: datetime, end: datetime) -> MetricCounts:
        """Invocations and errors of one version behind an alias (ExecutedVersion dimension)."""
        dimensions = [
            {"Name": "FunctionName", "Value": function_name},
            {"Name": "Resource", "Value": f"{function_name}:{alias}"},
            {"Name": "ExecutedVersion", "Value": version},
        ]
        sums: dict[str, float] = {}
        with translated("reading Lambda metrics", f"function '{function_name}'"):
            for metric in ("Invocations", "Errors"):
                answer = self._cloudwatch.get_metric_statistics(
                    Namespace="AWS/Lambda",
                    MetricName=metric,
                    Dimensions=dimensions,
                    StartTime=start,
                    EndTime=end,
                    Period=60,
                    Statistics=["Sum"],
                )
                sums[metric] = sum(point.get("Sum", 0.0) for point in answer.get("Datapoints", []))
        return MetricCounts(invocations=sums["Invocations"], errors=sums["Errors"])
