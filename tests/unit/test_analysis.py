"""Canary analysis's statistics, against values computed by hand and by SciPy / NumPy (in the tests only)."""

from __future__ import annotations

import math

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from deployer.analysis import Z_95, VersionStats, judge, judge_errors, judge_latency, percentile_of, z_statistic


def test_the_critical_value_is_the_one_sided_95_percent_quantile() -> None:
    assert pytest.approx(stats.norm.ppf(0.95), abs=1e-12) == Z_95


def test_z_by_hand() -> None:
    # p1 = 6/40 = 0.15, p2 = 2/400 = 0.005, margin 0.01:
    # (0.15 - 0.005 - 0.01) / sqrt(0.15*0.85/40 + 0.005*0.995/400) = 0.135 / 0.056568... = 2.3865...
    z = z_statistic(VersionStats("2", 40, 6), VersionStats("1", 400, 2), 0.01)
    assert z == pytest.approx(0.135 / math.sqrt(0.15 * 0.85 / 40 + 0.005 * 0.995 / 400))
    assert z == pytest.approx(2.3865, abs=1e-3)


@given(
    st.integers(1, 5000), st.integers(1, 5000), st.floats(0, 1), st.floats(0, 1), st.floats(0, 0.2),
)  # fmt: skip
def test_the_errors_gate_fails_exactly_when_scipy_says_the_increase_is_significant(
    n1: int, n2: int, share1: float, share2: float, margin: float
) -> None:
    canary, stable = VersionStats("2", n1, round(share1 * n1)), VersionStats("1", n2, round(share2 * n2))
    p1, p2 = canary.rate, stable.rate
    variance = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    result = judge_errors(canary, stable, margin, min_invocations=1)
    if variance == 0:
        assert result.failed == (p1 - p2 > margin)
        return
    p_value = stats.norm.sf((p1 - p2 - margin) / math.sqrt(variance))  # H1: p1 - p2 > margin
    if abs(p_value - 0.05) > 1e-9:  # exactly on the line, floating point may fall either way
        assert result.failed == (p_value < 0.05)


def test_a_handful_of_requests_does_not_decide() -> None:
    few = judge_errors(VersionStats("2", 5, 1), VersionStats("1", 500, 0), 0.01, min_invocations=1)
    assert few.outcome == "pass" and "not above it with 95% confidence" in few.detail  # 20% of 5: not evidence
    many = judge_errors(VersionStats("2", 500, 100), VersionStats("1", 500, 0), 0.01, min_invocations=1)
    assert many.failed and "error rate 20.00% vs stable 0.00%: +20.00 points, limit +1 points" in many.detail


def test_each_gate_waits_for_min_invocations_in_both_versions() -> None:
    gates = judge(VersionStats("2", 19, 19, latency=900), VersionStats("1", 500, 0, latency=100), "p99", 0.25, 0.01, 20)
    assert [gate.outcome for gate in gates] == ["not-yet", "not-yet"]
    assert "new 19, stable 500 invocations; each needs min-invocations 20" in gates[0].detail


def test_the_latency_verdict_names_both_numbers_and_the_limit() -> None:
    slow = judge_latency(VersionStats("2", 50, latency=412), VersionStats("1", 500, latency=118), "p99", 0.25, 20)
    assert slow.failed and slow.detail == "p99 412 ms vs stable 118 ms: +249%, limit +25%"
    fine = judge_latency(VersionStats("2", 50, latency=130), VersionStats("1", 500, latency=118), "p99", 0.25, 20)
    assert fine.outcome == "pass" and "+10%" in fine.detail


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=300), st.sampled_from(["p50", "p90", "p99", "p99.9"]))
def test_the_percentile_is_numpys_nearest_rank(values: list[float], percentile: str) -> None:
    expected = numpy.percentile(values, float(percentile[1:]), method="inverted_cdf")
    assert percentile_of(values, percentile) == pytest.approx(float(expected))
