"""Inputs that say how traffic moves: strategy, canary weight, promote/rollback targets,
health gates, smoke tests and the CodeDeploy engine, and the combinations that conflict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..analysis import DEFAULT_PERCENTILE, PERCENTILES, Analysis
from ..model import Command
from ..naming import alias_problem
from ..schedule import ALL_AT_ONCE, Strategy, parse_canary_weight, parse_strategy
from .inputs import (
    COMMANDS,
    MAX_DEPLOYMENT_ALARMS,
    MAX_PROVISIONED,
    Reader,
    error_rate_increase,
    integer_in,
    json_text,
    json_value,
    latency_increase,
    one_of,
    rate,
    seconds_between,
)
from .table import ENGINES


@dataclass(frozen=True)
class RolloutSettings:
    """How traffic moves to the new version, and what proves it healthy."""

    command: Command = Command.DEPLOY
    strategy: Strategy = ALL_AT_ONCE
    canary_weight: float | None = None  # one-shot canary: shift this share, then stop
    to_version: str | None = None
    to_alias: str | None = None  # rollback to wherever this alias points (blue/green: previous)
    previous_alias: str | None = None  # keeps the version the main alias leaves
    provisioned_concurrency: int | None = None  # on the alias; 0 removes it
    alarms: tuple[str, ...] = ()
    max_error_rate: float | None = None
    analysis: Analysis = field(default_factory=Analysis)  # canary analysis: the new version against the stable one
    min_invocations: int = 20
    health_interval: float = 10.0
    smoke_payload: str | None = None  # JSON text, sent as is
    smoke_expect: Any = None  # parsed JSON that the smoke response must contain
    engine: str = "native"
    codedeploy_application: str | None = None
    codedeploy_group: str | None = None
    before_traffic_hook: str | None = None
    after_traffic_hook: str | None = None


def read_rollout(reader: Reader) -> RolloutSettings:
    strategy = reader.parse("strategy", parse_strategy) or ALL_AT_ONCE
    to_version, to_alias = _read_rollback_target(reader)
    rollout = RolloutSettings(
        command=Command(reader.parse("command", one_of(COMMANDS)) or Command.DEPLOY),
        strategy=strategy,
        canary_weight=reader.parse("canary-weight", parse_canary_weight),
        to_version=to_version,
        to_alias=to_alias,
        previous_alias=reader.api_text("previous-alias"),
        provisioned_concurrency=reader.parse("provisioned-concurrency", integer_in(0, MAX_PROVISIONED, "environments")),
        alarms=reader.api_lines("alarms"),
        max_error_rate=reader.parse("max-error-rate", rate),
        analysis=Analysis(
            max_latency_increase=reader.parse("max-latency-increase", latency_increase),
            latency_percentile=reader.parse("latency-percentile", one_of(PERCENTILES)) or DEFAULT_PERCENTILE,
            max_error_rate_increase=reader.parse("max-error-rate-increase", error_rate_increase),
        ),
        min_invocations=reader.parse("min-invocations", integer_in(1, 10**9, "invocations")) or 20,
        health_interval=reader.parse("health-interval", seconds_between(1, 3600)) or 10.0,
        smoke_payload=reader.parse("smoke-payload", json_text),
        smoke_expect=reader.parse("smoke-expect", json_value),
        engine=reader.parse("engine", one_of(ENGINES)) or "native",
        codedeploy_application=reader.api_text("codedeploy-application"),
        codedeploy_group=reader.api_text("codedeploy-group"),
        before_traffic_hook=reader.api_text("before-traffic-hook"),
        after_traffic_hook=reader.api_text("after-traffic-hook"),
    )
    _check_rollout_combinations(reader, rollout)
    return rollout


def _read_rollback_target(reader: Reader) -> tuple[str | None, str | None]:
    """``to-version``: a published version number, or an alias whose version to go back to."""
    value = reader.given("to-version")
    if value is None:
        return None, None
    if not value.isdigit():
        problem = alias_problem(value)
        if problem:
            reader.fail(
                "to-version", f"'{value}' is neither a version number nor an alias name: it {problem}", "for example: 41, or previous"
            )
        return None, value
    version = reader.api_text("to-version")
    if version is not None and int(version) < 1:
        reader.fail("to-version", f"'{version}' is not a published version number (1, 2, 3, ...)")
    return version, None


def _check_rollout_combinations(reader: Reader, rollout: RolloutSettings) -> None:
    if rollout.canary_weight is not None and rollout.strategy.gradual:
        reader.fail(
            "canary-weight",
            "cannot be combined with a gradual strategy",
            "use canary-weight for a manually promoted canary, or strategy, not both",
        )
    if (rollout.to_version or rollout.to_alias) is not None and rollout.command is not Command.ROLLBACK:
        reader.fail("to-version", f"only applies to command: rollback (the command is {rollout.command})")
    if rollout.smoke_expect is not None and rollout.smoke_payload is None:
        reader.fail("smoke-expect", "needs smoke-payload", "give the event to invoke the new version with")
    codedeploy_only = {
        "codedeploy-application": rollout.codedeploy_application,
        "codedeploy-group": rollout.codedeploy_group,
        "before-traffic-hook": rollout.before_traffic_hook,
        "after-traffic-hook": rollout.after_traffic_hook,
    }
    if rollout.engine == "codedeploy":
        for name in ("codedeploy-application", "codedeploy-group"):
            if not codedeploy_only[name]:
                reader.fail(name, "is required with engine: codedeploy", "name the CodeDeploy application and deployment group")
        if rollout.strategy.codedeploy_config is None:
            reader.fail(
                "strategy",
                f"'{rollout.strategy.name}' has no CodeDeploy configuration",
                "engine: codedeploy takes a preset such as Canary10Percent5Minutes",
            )
        if rollout.canary_weight is not None:
            reader.fail("canary-weight", "is not available with engine: codedeploy", "CodeDeploy shifts traffic by its own schedule")
        if len(rollout.alarms) > MAX_DEPLOYMENT_ALARMS:
            reader.fail(
                "alarms",
                f"{len(rollout.alarms)} alarms given; a CodeDeploy deployment takes at most {MAX_DEPLOYMENT_ALARMS}",
                "keep the 10 that matter most, or combine them into a composite alarm",
            )
    else:
        for name, value in codedeploy_only.items():
            if value:
                reader.fail(name, "only applies to engine: codedeploy")
    _check_analysis(reader, rollout)


def _check_analysis(reader: Reader, rollout: RolloutSettings) -> None:
    """Canary analysis compares the two versions while both serve the alias, so it needs a
    weighted rollout to judge: with all at once or a one-shot canary it would never run."""
    if rollout.command not in (Command.DEPLOY, Command.DIFF) or rollout.strategy.gradual:
        return
    given = {
        "max-latency-increase": rollout.analysis.max_latency_increase,
        "max-error-rate-increase": rollout.analysis.max_error_rate_increase,
    }
    why = (
        "a one-shot canary (canary-weight) ends before any check" if rollout.canary_weight is not None else "all at once has no such moment"
    )
    for name, value in given.items():
        if value is not None:
            reader.fail(
                name,
                f"is judged only while both versions serve the alias during a stepped rollout, and {why}",
                "give a strategy such as canary 10% 5m or Canary10Percent5Minutes, or use max-error-rate and alarms",
            )
