from __future__ import annotations

import pytest

from deployer.schedule import PRESETS, Stage, format_duration, parse_duration, parse_strategy, parse_weight

M = 60.0


def linear(minutes: float) -> list[tuple[float, float]]:
    return [(n / 10, minutes * M) for n in range(1, 10)] + [(1.0, 0)]


# AWS's documented schedules for the predefined Lambda deployment configurations.
AWS_PRESETS = {
    "AllAtOnce": [(1.0, 0)],
    "Canary10Percent5Minutes": [(0.1, 5 * M), (1.0, 0)],
    "Canary10Percent10Minutes": [(0.1, 10 * M), (1.0, 0)],
    "Canary10Percent15Minutes": [(0.1, 15 * M), (1.0, 0)],
    "Canary10Percent30Minutes": [(0.1, 30 * M), (1.0, 0)],
    "Linear10PercentEvery1Minute": linear(1),
    "Linear10PercentEvery2Minutes": linear(2),
    "Linear10PercentEvery3Minutes": linear(3),
    "Linear10PercentEvery10Minutes": linear(10),
}


def pairs(text: str) -> list[tuple[float, float]]:
    return [(stage.weight, stage.bake) for stage in parse_strategy(text).stages]


@pytest.mark.parametrize(("name", "expected"), AWS_PRESETS.items())
def test_every_preset_gives_aws_schedule_with_or_without_prefix(name: str, expected: list[tuple[float, float]]) -> None:
    assert pairs(name) == expected
    assert pairs(f"CodeDeployDefault.Lambda{name}") == expected
    assert parse_strategy(name).codedeploy_config == f"CodeDeployDefault.Lambda{name}"


def test_the_preset_table_is_complete() -> None:
    assert set(PRESETS) == set(AWS_PRESETS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [(1.0, 0)]),
        ("all-at-once", [(1.0, 0)]),
        ("canary 10% 5m", [(0.1, 300), (1.0, 0)]),
        ("canary 0.05 30s", [(0.05, 30), (1.0, 0)]),
        ("canary 20% 1h", [(0.2, 3600), (1.0, 0)]),
        ("linear 25% 2m", [(0.25, 120), (0.5, 120), (0.75, 120), (1.0, 0)]),
        ("linear 30% 10", [(0.3, 10), (0.6, 10), (0.9, 10), (1.0, 0)]),
        ("5% 2m, 25% 5m, 100%", [(0.05, 120), (0.25, 300), (1.0, 0)]),
        ("5% for 2m, 50% for 1s", [(0.05, 120), (0.5, 1), (1.0, 0)]),
    ],
)
def test_custom_forms(text: str, expected: list[tuple[float, float]]) -> None:
    assert pairs(text) == expected
    assert parse_strategy(text).codedeploy_config is None or text in ("", "all-at-once")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("Canary15Percent5Minutes", "is not a known strategy"),
        ("canary 150% 5m", "outside 0–100%"),
        ("canary 0% 5m", "outside 0–100%"),
        ("canary 10% soon", "'soon' is not a duration"),
        ("linear ten 1m", "'ten' is not a weight"),
        ("25% 5m, 5% 2m", "must rise"),
        ("5% 2m, 100%, 50% 1m", "only the last step may be 100%"),
        ("5%", "is not 'WEIGHT DURATION'"),
    ],
)
def test_invalid_strategies_list_the_valid_forms(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_strategy(text)
    assert fragment in str(caught.value)
    assert "Valid forms:" in str(caught.value) and "Canary10Percent5Minutes" in str(caught.value)


def test_units() -> None:
    assert [parse_duration(t) for t in ("45", "45s", "2m", "1.5h", "0.5s")] == [45, 45, 120, 5400, 0.5]
    assert [parse_weight(t) for t in ("10%", "0.1", "2.5%")] == [0.1, 0.1, 0.025]
    assert [format_duration(s) for s in (30, 300, 3600, 90, 269, 5400, 0.5)] == ["30s", "5m", "1h", "1m30s", "4m29s", "1h30m", "0.5s"]
    assert Stage(0.1, 300).describe() == "10% for 5m" and Stage(1.0, 0).describe() == "100%"
    assert parse_strategy("Linear10PercentEvery1Minute").total_seconds == 540
    assert parse_strategy("Canary10Percent5Minutes").describe() == "Canary10Percent5Minutes: 10% for 5m → 100%"
