"""Strategy text -> a traffic schedule (pure).

Contract: ``parse_strategy(text)`` returns a ``Strategy`` whose ``stages`` are
(weight on the new version, seconds to hold it) ending with ``(1.0, 0)``, or raises
``ValueError`` naming the valid forms. CodeDeploy's predefined Lambda configurations
give exactly AWS's documented schedules and keep their CodeDeploy name, so the same
strategy can be handed to CodeDeploy (``engine: codedeploy``).

Forms:
- ``all-at-once`` (default) or ``AllAtOnce``;
- a CodeDeploy / SAM preset, with or without the ``CodeDeployDefault.Lambda`` prefix,
  e.g. ``Canary10Percent5Minutes`` or ``Linear10PercentEvery1Minute``;
- ``canary WEIGHT BAKE``: e.g. ``canary 10% 5m``: 10% for 5 minutes, then 100%;
- ``linear STEP INTERVAL``: e.g. ``linear 25% 2m``: 25%, 50%, 75%, each for 2 minutes, then 100%;
- ``WEIGHT DURATION, WEIGHT DURATION, ..., 100%``: explicit steps, e.g. ``5% 2m, 25% 5m, 100%``.
Weights are ``10%`` or ``0.1``; durations are seconds, or a number with ``s``, ``m`` or ``h``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CODEDEPLOY_PREFIX = "CodeDeployDefault.Lambda"
VALID_FORMS = (
    "all-at-once; a preset such as Canary10Percent5Minutes or Linear10PercentEvery1Minute; "
    "'canary 10% 5m'; 'linear 10% 1m'; or explicit steps '5% 2m, 25% 5m, 100%' "
    "(durations in s, m or h)"
)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smh]?)\Z")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Stage:
    weight: float  # share of traffic on the new version, 0 < weight <= 1
    bake: float  # seconds to hold it while health is watched

    def describe(self) -> str:
        return "100%" if self.weight >= 1 else f"{self.weight:.0%} for {format_duration(self.bake)}"


@dataclass(frozen=True)
class Strategy:
    name: str
    stages: tuple[Stage, ...]
    codedeploy_config: str | None = None  # the predefined CodeDeploy config, for presets

    @property
    def gradual(self) -> bool:
        return len(self.stages) > 1

    @property
    def total_seconds(self) -> float:
        return sum(stage.bake for stage in self.stages)

    def describe(self) -> str:
        return f"{self.name}: " + " → ".join(stage.describe() for stage in self.stages)


ALL_AT_ONCE = Strategy("all-at-once", (Stage(1.0, 0),), f"{CODEDEPLOY_PREFIX}AllAtOnce")


def format_duration(seconds: float) -> str:
    """30 -> 30s, 300 -> 5m, 269 -> 4m29s, 3600 -> 1h, 5400 -> 1h30m."""
    if seconds < 60 or seconds != int(seconds):
        return f"{seconds:g}s"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{value}{unit}" for value, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if value)


def parse_duration(text: str) -> float:
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise ValueError(f"'{text}' is not a duration; use seconds or a number with s, m or h (e.g. 30s, 5m, 1h)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_weight(text: str, allow_full: bool = False) -> float:
    """``10%`` or ``0.1`` -> 0.1; must lie strictly between 0 and 100% (or be 100%)."""
    raw = text.strip()
    try:
        weight = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ValueError(f"'{text}' is not a weight; use a percentage like 10% or a fraction like 0.1") from None
    if allow_full and weight == 1.0:
        return weight
    if not 0.0 < weight < 1.0:
        raise ValueError(f"weight '{text}' is outside 0–100%; give a share strictly between 0% and 100%")
    return round(weight, 6)


def percent_of(text: str) -> float:
    """A share as a person writes it, in percent: ``10%``, a bare number from 1 up (``10`` is
    10%) or a fraction below 1 (``0.1``). ``ValueError`` when it is not a number."""
    raw = text.strip()
    number = float(raw.removesuffix("%"))
    return number if raw.endswith("%") or abs(number) >= 1 else number * 100


def parse_canary_weight(text: str) -> float:
    """``canary-weight``: a bare number from 1 to 99 is a percentage (``10`` is 10%), as a
    person reads it; ``0.1`` and ``10%`` keep working. The share must leave traffic on both
    versions, so it lies strictly between 0% and 100%."""
    try:
        percent = percent_of(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a weight; use a percentage like 10 or 10%, or a fraction like 0.1") from None
    if not 0 < percent < 100:
        raise ValueError(
            f"'{text}' is {percent:g}% of the traffic, which is not a canary; give a share strictly between 0% and 100% "
            "(for example 10, 10% or 0.1)"
        )
    return round(percent / 100, 6)


def _linear(step: float, interval: float) -> tuple[Stage, ...]:
    weights: list[float] = []
    while round(step * (len(weights) + 1), 6) < 1:  # rounding keeps 10% x 10 from missing 100%
        weights.append(round(step * (len(weights) + 1), 6))
    return (*(Stage(w, interval) for w in weights), Stage(1.0, 0))


def _presets() -> dict[str, Strategy]:
    presets = {"AllAtOnce": ALL_AT_ONCE}
    for minutes in (5, 10, 15, 30):
        name = f"Canary10Percent{minutes}Minutes"
        presets[name] = Strategy(name, (Stage(0.1, minutes * 60), Stage(1.0, 0)), CODEDEPLOY_PREFIX + name)
    for minutes in (1, 2, 3, 10):
        name = f"Linear10PercentEvery{minutes}Minute" + ("s" if minutes > 1 else "")
        presets[name] = Strategy(name, _linear(0.1, minutes * 60), CODEDEPLOY_PREFIX + name)
    return presets


PRESETS = _presets()


def _explicit(text: str) -> Strategy:
    stages: list[Stage] = []
    for part in (p.strip() for p in text.split(",")):
        tokens = part.replace(" for ", " ").split()
        if len(tokens) == 1 and parse_weight(tokens[0], allow_full=True) == 1.0:
            stages.append(Stage(1.0, 0))
            continue
        if len(tokens) != 2:
            raise ValueError(f"step '{part}' is not 'WEIGHT DURATION' (e.g. 5% 2m)")
        stages.append(Stage(parse_weight(tokens[0]), parse_duration(tokens[1])))
    if stages[-1].weight < 1.0:
        stages.append(Stage(1.0, 0))
    if any(stage.weight >= 1.0 for stage in stages[:-1]):
        raise ValueError("only the last step may be 100%")
    weights = [stage.weight for stage in stages]
    if weights != sorted(weights):
        raise ValueError("step weights must rise from one step to the next")
    return Strategy(text.strip(), tuple(stages))


def parse_strategy(text: str) -> Strategy:
    raw = text.strip()
    if raw.lower() in ("", "all-at-once", "allatonce"):
        return ALL_AT_ONCE
    preset = PRESETS.get(raw.removeprefix(CODEDEPLOY_PREFIX))
    if preset is not None:
        return preset
    tokens = raw.split()
    try:
        if tokens[0].lower() == "canary" and len(tokens) == 3:
            return Strategy(raw, (Stage(parse_weight(tokens[1]), parse_duration(tokens[2])), Stage(1.0, 0)))
        if tokens[0].lower() == "linear" and len(tokens) == 3:
            return Strategy(raw, _linear(parse_weight(tokens[1]), parse_duration(tokens[2])))
        if "%" in raw or "," in raw or re.match(r"0?\.\d", raw):
            return _explicit(raw)
    except ValueError as error:
        raise ValueError(f"'{raw}' is not a valid strategy: {error}. Valid forms: {VALID_FORMS}") from None
    presets = ", ".join(name for name in PRESETS if name != "AllAtOnce")
    raise ValueError(f"'{raw}' is not a known strategy. Valid forms: {VALID_FORMS}. Presets: {presets}")
