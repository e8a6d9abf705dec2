from __future__ import annotations

from typing import Any

import pytest

from deployer.aws import Invocation, MetricCounts
from deployer.health import Reading, contains, judge, judge_smoke


def counts(invocations: float, errors: float) -> MetricCounts:
    return MetricCounts(invocations=invocations, errors=errors)


@pytest.mark.parametrize(
    ("reading", "max_rate", "minimum", "healthy", "reason"),
    [
        (Reading(), None, 20, True, ""),
        (Reading(alarms={"a": "OK", "b": "INSUFFICIENT_DATA"}), None, 20, True, ""),
        (Reading(alarms={"a": "OK", "b": "ALARM"}), None, 20, False, "alarm b is in ALARM"),
        (Reading(alarms={"b": "ALARM", "a": "ALARM"}), None, 20, False, "alarm a, b is in ALARM"),
        (Reading(canary=counts(100, 3), stable=counts(1000, 1)), 0.02, 20, False, "error rate 3.00% is above max-error-rate 2.00%"),
        (Reading(canary=counts(100, 2), stable=counts(1000, 1)), 0.02, 20, True, ""),  # exactly at the limit passes
        (Reading(canary=counts(19, 19), stable=counts(10, 0)), 0.02, 20, True, ""),  # too few to judge
        (Reading(canary=counts(20, 1), stable=counts(10, 0)), 0.0, 20, False, "above max-error-rate 0.00%"),
        (Reading(canary=counts(0, 0), stable=counts(0, 0)), 0.02, 1, True, ""),
        (Reading(alarms={"a": "ALARM"}, canary=counts(100, 0)), 0.5, 1, False, "alarm a is in ALARM"),
    ],
)
def test_judge(reading: Reading, max_rate: float | None, minimum: int, healthy: bool, reason: str) -> None:
    verdict = judge(reading, max_rate, minimum)
    assert verdict.healthy is healthy
    assert reason in verdict.reason


def test_readings_compare_canary_with_stable() -> None:
    verdict = judge(Reading(alarms={"x": "OK"}, canary=counts(40, 6), stable=counts(400, 2)), 0.5, 20)
    assert verdict.summary == "alarms x OK; canary 6/40 errors (15.00%) vs stable 2/400 errors (0.50%)"
    assert counts(0, 0).rate == 0.0


@pytest.mark.parametrize(
    ("actual", "expected", "result"),
    [
        ({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": 2}}, True),
        ({"a": 1}, {"a": 2}, False),
        ({"a": 1}, {"z": None}, False),
        ({"items": [1, {"k": "v", "x": 0}]}, {"items": [1, {"k": "v"}]}, True),
        ({"items": [1, 2]}, {"items": [1]}, False),
        ("ok", "ok", True),
        ([1], {"a": 1}, False),
    ],
)
def test_contains(actual: Any, expected: Any, result: bool) -> None:
    assert contains(actual, expected) is result


def test_smoke_verdicts() -> None:
    assert judge_smoke(Invocation("", '{"ok": true}', "3"), {"ok": True}).healthy
    assert judge_smoke(Invocation("", '{"ok": true}', "3"), None).healthy
    failed = judge_smoke(Invocation("Unhandled", '{"errorMessage": "boom"}', "3"), None)
    assert not failed.healthy and "failed with Unhandled" in failed.reason and "boom" in failed.reason
    assert "does not contain smoke-expect" in judge_smoke(Invocation("", '{"ok": false}', "3"), {"ok": True}).reason
    assert "is not JSON" in judge_smoke(Invocation("", "plain text", "3"), {"ok": True}).reason
