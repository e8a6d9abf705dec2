"""Is the new version healthy? Alarm states, per-version error rates, smoke tests.

Contract: ``judge`` and ``judge_smoke`` are pure decisions over readings; ``HealthGate``
takes the readings from CloudWatch. A rollout is unhealthy when any named alarm is in
``ALARM``, or when the new version's Errors/Invocations (the ``ExecutedVersion``
dimension behind the alias) exceeds ``max_error_rate`` once it has served at least
``min_invocations``. Below that the rate is reported but not judged: a handful of
requests is not evidence either way. ``INSUFFICIENT_DATA`` is not a failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .analysis import DEFAULT_PERCENTILE, Analysis, GateResult, VersionStats
from .analysis import judge as judge_analysis
from .aws import CloudWatchGateway, Invocation, MetricCounts

# CloudWatch stamps datapoints by minute; widen the window so the current minute and
# the one the rollout started in are both counted.
WINDOW_MARGIN = timedelta(minutes=1)


@dataclass(frozen=True)
class Reading:
    alarms: Mapping[str, str] = field(default_factory=dict)
    canary: MetricCounts | None = None
    stable: MetricCounts | None = None
    compared: tuple[VersionStats, VersionStats] | None = None  # (new, stable) side by side, for canary analysis


@dataclass(frozen=True)
class Verdict:
    healthy: bool
    reason: str  # why it failed; "" when healthy
    summary: str  # the readings in one line, for the log and the timeline
    compared: tuple[VersionStats, VersionStats] | None = None
    gates: tuple[GateResult, ...] = ()  # canary analysis: each gate's outcome with its numbers


def _counts(counts: MetricCounts) -> str:
    return f"{counts.errors:g}/{counts.invocations:g} errors ({counts.rate:.2%})"


def describe(reading: Reading) -> str:
    parts = []
    if reading.alarms:
        parts.append("alarms " + ", ".join(f"{name} {state}" for name, state in sorted(reading.alarms.items())))
    if reading.canary is not None:
        compared = f" vs stable {_counts(reading.stable)}" if reading.stable is not None else ""
        parts.append(f"canary {_counts(reading.canary)}{compared}")
    return "; ".join(parts) or "no health checks configured"


def judge(reading: Reading, max_error_rate: float | None, min_invocations: int, analysis: Analysis | None = None) -> Verdict:
    compared = reading.compared
    gates = analysis_gates(compared, analysis, min_invocations) if compared is not None and analysis is not None else ()
    readings = describe(reading) if reading.alarms or reading.canary is not None else ""
    others = [gate.detail for gate in gates if not gate.failed]  # a failed gate's numbers are the reason itself
    summary = "; ".join(part for part in (readings, *others) if part) or ("measured side by side" if gates else describe(reading))
    firing = sorted(name for name, state in reading.alarms.items() if state == "ALARM")
    if firing:
        return Verdict(False, f"alarm {', '.join(firing)} is in ALARM", summary, compared, gates)
    canary = reading.canary
    if max_error_rate is not None and canary is not None and canary.invocations >= min_invocations and canary.rate > max_error_rate:
        reason = f"the new version's error rate {canary.rate:.2%} is above max-error-rate {max_error_rate:.2%}"
        return Verdict(False, reason, summary, compared, gates)
    failed = [gate for gate in gates if gate.failed]
    if failed:
        return Verdict(False, "; ".join(gate.detail for gate in failed), summary, compared, gates)
    return Verdict(True, "", summary, compared, gates)


def analysis_gates(compared: tuple[VersionStats, VersionStats], analysis: Analysis, min_invocations: int) -> tuple[GateResult, ...]:
    canary, stable = compared
    return judge_analysis(
        canary, stable, analysis.latency_percentile, analysis.max_latency_increase, analysis.max_error_rate_increase, min_invocations
    )


def contains(actual: Any, expected: Any) -> bool:
    """Whether ``expected`` is a subset of ``actual``: dict keys recursively, lists item by item."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(key in actual and contains(actual[key], value) for key, value in expected.items())
    if isinstance(expected, list):
        return (
            isinstance(actual, list) and len(actual) == len(expected) and all(contains(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return bool(actual == expected)


def judge_smoke(invocation: Invocation, expect: Any) -> Verdict:
    shown = invocation.payload if len(invocation.payload) <= 300 else invocation.payload[:300] + "…"
    if invocation.function_error:
        return Verdict(False, f"the smoke invocation failed with {invocation.function_error}: {shown}", shown)
    if expect is None:
        return Verdict(True, "", shown)
    try:
        answer = json.loads(invocation.payload)
    except json.JSONDecodeError:
        return Verdict(False, f"the smoke response is not JSON, so it cannot contain smoke-expect: {shown}", shown)
    if not contains(answer, expect):
        return Verdict(False, f"the smoke response {shown} does not contain smoke-expect {json.dumps(expect)}", shown)
    return Verdict(True, "", shown)


class HealthGate:
    """Takes readings from CloudWatch and judges them."""

    def __init__(
        self,
        cloudwatch: CloudWatchGateway,
        function_name: str,
        alias: str,
        alarms: Sequence[str],
        max_error_rate: float | None,
        min_invocations: int,
        now: Callable[[], datetime],
        analysis: Analysis | None = None,
    ) -> None:
        self._cloudwatch = cloudwatch
        self._function = function_name
        self._alias = alias
        self._alarms = tuple(alarms)
        self._max_error_rate = max_error_rate
        self._min_invocations = min_invocations
        self._now = now
        self._analysis = analysis if analysis is not None and analysis.on else None

    @property
    def analyses(self) -> bool:
        return self._analysis is not None

    @property
    def percentile(self) -> str:
        return self._analysis.latency_percentile if self._analysis is not None else DEFAULT_PERCENTILE

    def read(self, canary: str, stable: str, since: datetime) -> Reading:
        alarms = self._cloudwatch.alarm_states(self._alarms) if self._alarms else {}
        if self._max_error_rate is None and self._analysis is None:
            return Reading(alarms=alarms)
        start, end = since - WINDOW_MARGIN, self._now() + WINDOW_MARGIN
        if self._analysis is None:
            return Reading(
                alarms=alarms,
                canary=self._cloudwatch.version_counts(self._function, self._alias, canary, start, end),
                stable=self._cloudwatch.version_counts(self._function, self._alias, stable, start, end),
            )
        # Canary analysis: both versions in one GetMetricData call, max-error-rate judged from the same numbers.
        percentile = self._analysis.latency_percentile
        new, old = self._cloudwatch.side_by_side(self._function, self._alias, (canary, stable), start, end, percentile)
        counts = (MetricCounts(new.invocations, new.errors), MetricCounts(old.invocations, old.errors))
        shown = counts if self._max_error_rate is not None else (None, None)
        return Reading(alarms=alarms, canary=shown[0], stable=shown[1], compared=(new, old))

    def check(self, canary: str, stable: str, since: datetime) -> Verdict:
        return judge(self.read(canary, stable, since), self._max_error_rate, self._min_invocations, self._analysis)
