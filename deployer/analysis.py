"""Canary analysis, pure: the new version judged against the stable one, measured side by side.

Contract: both versions are read behind the alias over the same window (``VersionStats``:
invocations, errors, throttles and latency at a percentile, from Lambda's per-version metrics).
``judge_latency`` fails when the new version's latency exceeds the stable one's by more than
``max-latency-increase``; ``judge_errors`` fails when its error rate exceeds the stable one's
by more than ``max-error-rate-increase`` points *with 95% confidence*: a one-sided test on the
two proportions (H0: p_new - p_stable <= limit; Wald's z with the unpooled standard error), so a
handful of requests does not decide. A gate is ``not-yet`` until each version has served
``min-invocations`` in the window. Every result says its numbers; ``Check`` is one health
check's record (the rollout's picture and the ``analysis`` output are drawn from them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PERCENTILES = ("p50", "p90", "p99", "p99.9")
DEFAULT_PERCENTILE = "p99"
# The one-sided 95% critical value of the standard normal: Phi^-1(0.95) (a test checks it against SciPy).
Z_95 = 1.6448536269514722


@dataclass(frozen=True)
class Analysis:
    """Canary analysis's settings: the new version against the stable one (the gates below)."""

    max_latency_increase: float | None = None
    latency_percentile: str = DEFAULT_PERCENTILE
    max_error_rate_increase: float | None = None

    @property
    def on(self) -> bool:
        return self.max_latency_increase is not None or self.max_error_rate_increase is not None


@dataclass(frozen=True)
class VersionStats:
    """One version behind the alias, over the window: what Lambda published for it."""

    version: str
    invocations: float = 0.0
    errors: float = 0.0
    throttles: float = 0.0
    latency: float | None = None  # milliseconds at the percentile; None when it served nothing

    @property
    def rate(self) -> float:
        return self.errors / self.invocations if self.invocations else 0.0


@dataclass(frozen=True)
class GateResult:
    gate: str  # latency | errors
    outcome: str  # pass | fail | not-yet
    detail: str

    @property
    def failed(self) -> bool:
        return self.outcome == "fail"


@dataclass(frozen=True)
class ColdStarts:
    """A version's cold starts in the rollout's window (REPORT lines' Init Duration): reported, never a gate."""

    version: str
    count: int
    average: float  # milliseconds
    worst: float

    @classmethod
    def of(cls, version: str, durations: list[float]) -> ColdStarts:
        return cls(version, len(durations), sum(durations) / len(durations), max(durations))


@dataclass(frozen=True)
class Check:
    """One health check of a weighted rollout, with both versions measured over the same window."""

    at: float  # seconds since the rollout started
    weight: float  # the new version's share of the alias's traffic
    canary: VersionStats
    stable: VersionStats
    gates: tuple[GateResult, ...] = ()
    percentile: str = DEFAULT_PERCENTILE


def z_statistic(canary: VersionStats, stable: VersionStats, margin: float) -> float:
    """Wald's z for H0: p_canary - p_stable <= margin, with the unpooled standard error.

    With no variance at all (every request of both failed, or none did), the difference is
    exact: +inf when it is above the margin, -inf otherwise."""
    p1, n1, p2, n2 = canary.rate, canary.invocations, stable.rate, stable.invocations
    difference = p1 - p2 - margin
    variance = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    if variance <= 0:
        return math.inf if difference > 0 else -math.inf
    return difference / math.sqrt(variance)


def _not_yet(gate: str, canary: VersionStats, stable: VersionStats, min_invocations: int) -> GateResult | None:
    if canary.invocations >= min_invocations and stable.invocations >= min_invocations:
        return None
    counts = f"new {canary.invocations:g}, stable {stable.invocations:g} invocations"
    return GateResult(gate, "not-yet", f"not judged yet: {counts}; each needs min-invocations {min_invocations}")


def judge_latency(canary: VersionStats, stable: VersionStats, percentile: str, limit: float, min_invocations: int) -> GateResult:
    waiting = _not_yet("latency", canary, stable, min_invocations)
    if waiting is not None:
        return waiting
    if canary.latency is None or stable.latency is None or stable.latency <= 0:
        return GateResult("latency", "not-yet", f"not judged yet: no {percentile} duration for both versions")
    increase = canary.latency / stable.latency - 1
    detail = f"{percentile} {canary.latency:.0f} ms vs stable {stable.latency:.0f} ms: {increase:+.0%}, limit +{limit:.0%}"
    return GateResult("latency", "fail" if increase > limit else "pass", detail)


def judge_errors(canary: VersionStats, stable: VersionStats, limit: float, min_invocations: int) -> GateResult:
    waiting = _not_yet("errors", canary, stable, min_invocations)
    if waiting is not None:
        return waiting
    z = z_statistic(canary, stable, limit)
    points = (canary.rate - stable.rate) * 100
    shown_z = f"{z:.2f}" if math.isfinite(z) else ("∞" if z > 0 else "-∞")
    verdict = "above" if z > Z_95 else "not above"
    detail = (
        f"error rate {canary.rate:.2%} vs stable {stable.rate:.2%}: {points:+.2f} points, limit +{limit * 100:g} points "
        f"(z {shown_z}: {verdict} it with 95% confidence)"
    )
    return GateResult("errors", "fail" if z > Z_95 else "pass", detail)


def judge(
    canary: VersionStats,
    stable: VersionStats,
    percentile: str,
    max_latency_increase: float | None,
    max_error_rate_increase: float | None,
    min_invocations: int,
) -> tuple[GateResult, ...]:
    gates: list[GateResult] = []
    if max_latency_increase is not None:
        gates.append(judge_latency(canary, stable, percentile, max_latency_increase, min_invocations))
    if max_error_rate_increase is not None:
        gates.append(judge_errors(canary, stable, max_error_rate_increase, min_invocations))
    return tuple(gates)


def percentile_of(values: list[float], percentile: str) -> float | None:
    """Nearest-rank percentile (the smallest value with at least p% of the values at or below it)."""
    if not values:
        return None
    share = float(percentile.removeprefix("p")) / 100
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]
