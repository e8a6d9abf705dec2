"""CloudWatch: alarm states (a missing alarm is an error, not silence) and per-version
Lambda metrics (the ``ExecutedVersion`` dimension behind an alias): counts for one version
(GetMetricStatistics), or both versions side by side in one GetMetricData call (invocations,
errors, throttles and the duration at a percentile) for canary analysis."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..analysis import VersionStats
from ..errors import DeployError
from .errors import translated

SIDE_BY_SIDE = ("Invocations", "Errors", "Throttles")


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

    def side_by_side(
        self, function_name: str, alias: str, versions: Sequence[str], start: datetime, end: datetime, percentile: str
    ) -> list[VersionStats]:
        """Each version behind the alias over the same window, in one GetMetricData call: the
        sums of invocations, errors and throttles, and the duration at ``percentile``. The
        window is one period (a multiple of 60 s, as CloudWatch takes it), so a percentile is
        the window's own, not an average of minutes."""
        period = max(60, math.ceil((end - start).total_seconds() / 60) * 60)
        queries: list[dict[str, Any]] = []
        for index, version in enumerate(versions):
            dimensions = [
                {"Name": "FunctionName", "Value": function_name},
                {"Name": "Resource", "Value": f"{function_name}:{alias}"},
                {"Name": "ExecutedVersion", "Value": version},
            ]
            wanted = [(metric, "Sum") for metric in SIDE_BY_SIDE] + [("Duration", percentile)]
            for metric, stat in wanted:
                queries.append(
                    {
                        "Id": f"v{index}_{metric.lower()}",
                        "MetricStat": {
                            "Metric": {"Namespace": "AWS/Lambda", "MetricName": metric, "Dimensions": dimensions},
                            "Period": period,
                            "Stat": stat,
                        },
                        "ReturnData": True,
                    }
                )
        values: dict[str, list[float]] = {}
        with translated("reading Lambda's per-version metrics", f"function '{function_name}'"):
            for page in self._cloudwatch.get_paginator("get_metric_data").paginate(
                MetricDataQueries=queries, StartTime=start, EndTime=start + timedelta(seconds=period)
            ):
                for result in page.get("MetricDataResults", []):
                    values.setdefault(str(result["Id"]), []).extend(float(value) for value in result.get("Values", []))
        stats = []
        for index, version in enumerate(versions):
            sums = {metric: sum(values.get(f"v{index}_{metric.lower()}", [])) for metric in SIDE_BY_SIDE}
            durations = values.get(f"v{index}_duration", [])
            latency = max(durations) if durations else None  # one period: one value (the window's own percentile)
            stats.append(VersionStats(version, sums["Invocations"], sums["Errors"], sums["Throttles"], latency))
        return stats
