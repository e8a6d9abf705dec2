"""The reader that validates the action's inputs one by one, collecting every problem instead
of stopping at the first; what each input is comes from the table (``settings.table``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..bounded import load_json
from ..errors import Problem
from ..limits import ApiField, api_field
from ..schedule import parse_duration, percent_of
from ..surface import TEMPLATE_SAMPLE, fill
from .table import (
    ACTION_COMMANDS,
    API_FIELDS,
    DEFAULTS,
    EXAMPLES,
    UNITS,
)

COMMANDS = ACTION_COMMANDS

T = TypeVar("T")


ALWAYS_EXCLUDED = (".git/", "__pycache__/", "*.pyc")


PLAIN_NAME_MAX = 64


REMOVE = "none"  # reserved-concurrency: none removes it


S3_PREFIX_MAX = 900  # S3Key allows 1024; the prefix leaves room for the hash and ".zip"


MAX_PARALLEL = 32


MAX_DEPLOYMENT_ALARMS = 10  # CodeDeploy's limit on the alarms of a deployment (overrideAlarmConfiguration)


MAX_PROVISIONED = 100_000  # above any account's concurrency; Lambda itself refuses what the account lacks


REGION_PATTERN = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+\Z")


_KEY_VALUE_LINE = re.compile(r"^\s*([^=\s][^=]*?)\s*=(.*)$")


DEFAULT_ROLE_DURATION = 3600


PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


class Reader:
    """Reads inputs one by one, collecting every problem instead of stopping at one."""

    def __init__(self, inputs: Mapping[str, str]) -> None:
        self._inputs = inputs
        self.problems: list[Problem] = []

    def raw(self, name: str) -> str:
        value = self._inputs.get(name, "")
        return value.strip() if value.strip() else DEFAULTS.get(name, "")

    def given(self, name: str) -> str | None:
        value = self.raw(name)
        return value or None

    def fail(self, name: str, what: str, hint: str = "", terminal_hint: str = "") -> None:
        self.problems.append(Problem(what, hint=hint, input=name, terminal_hint=terminal_hint))

    def parse(self, name: str, convert: Callable[[str], T], hint: str = "") -> T | None:
        """Apply ``convert`` to a given value; a ValueError becomes a problem."""
        value = self.given(name)
        if value is None:
            return None
        try:
            return convert(value)
        except ValueError as exc:
            self.fail(name, str(exc), hint)
            return None

    def api_text(self, name: str) -> str | None:
        """A given value checked against its API member (see ``API_FIELDS``)."""
        return self.parse(name, lambda value: str(_field(name).check(value)), _example(name))

    def api_template(self, name: str, fields: Mapping[str, str] = TEMPLATE_SAMPLE) -> str | None:
        """A value that may hold ``{field}`` placeholders, checked against its API member as
        each target will send it (``fields`` gives example values); the template is kept."""

        def check(value: str) -> str:
            _field(name).check(fill(value, fields))
            return value

        return self.parse(name, check, _example(name))

    def api_number(self, name: str) -> int | None:
        return self.parse(name, lambda value: int(_field(name).check(value, UNITS.get(name, ""))))

    def api_lines(self, name: str) -> tuple[str, ...]:
        """A list input, each line checked against the API member."""
        lines = tuple(lines_of(self.raw(name)))
        for line in lines:
            try:
                _field(name).check(line)
            except ValueError as exc:
                self.fail(name, str(exc), _example(name))
        return lines


def _example(name: str) -> str:
    return f"for example: {EXAMPLES[name]}" if name in EXAMPLES else ""


def _field(name: str) -> ApiField:
    service, shape = API_FIELDS[name]
    return api_field(service, shape)


def boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"'{value}' is not a boolean; use true or false")
    return lowered == "true"


def integer_in(low: float, high: float, unit: str) -> Callable[[str], int]:
    def convert(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"'{value}' is not a whole number of {unit}") from None
        if not low <= number <= high:
            raise ValueError(f"{number} is outside the allowed range {low:g}..{high:g} {unit}")
        return number

    return convert


def one_of(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def convert(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"'{value}' is not one of: {', '.join(allowed)}")
        return value

    return convert


def lines_of(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip() and not line.strip().startswith("#")]


def key_value_lines(value: str, what: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for number, line in enumerate(lines_of(value), start=1):
        match = _KEY_VALUE_LINE.match(line)
        if not match:
            # Never echo the line: it may hold a secret value.
            raise ValueError(f"line {number} is not KEY=VALUE")
        key, val = match.group(1), match.group(2).strip()
        if key in result:
            raise ValueError(f"{what} '{key}' is given twice (line {number})")
        result[key] = val
    return result


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def json_value(value: str) -> Any:
    return load_json(value)


def json_text(value: str) -> str:
    json_value(value)
    return value


MAX_LATENCY_INCREASE = 10_000.0  # percent: a limit past 100 times the stable latency is no limit


def _percent(value: str, example: str, what: str = "an increase") -> float:
    """``schedule.percent_of``, as canary-weight reads it, and never below 0."""
    try:
        percent = percent_of(value)
    except ValueError:
        raise ValueError(f"'{value}' is not {what}; use a percentage like {example}") from None
    if percent < 0:
        below = "a decrease; give how much more the new version may have," if what == "an increase" else "below 0%; give a rate"
        raise ValueError(f"'{value}' is {below} like {example} (0 for none)")
    return percent


def latency_increase(value: str) -> float:
    """``max-latency-increase``: how much slower than the stable version, as a share of its
    latency (``25%``, ``25`` or ``0.25``); ``0`` allows none."""
    percent = _percent(value, "25%")
    if percent > MAX_LATENCY_INCREASE:
        raise ValueError(f"'{value}' is outside 0%..{MAX_LATENCY_INCREASE:,.0f}%")
    return percent / 100


def error_rate_increase(value: str) -> float:
    """``max-error-rate-increase``: how many points of error rate above the stable version's
    (``1%``, ``1`` or ``0.01``); below 100 points, or it could never trip."""
    percent = _percent(value, "1%")
    if percent >= 100:
        raise ValueError(
            f"'{value}' is {percent:g} points: an error rate cannot rise that much, so it would never roll back; give points such as 1%"
        )
    return percent / 100


def rate(value: str) -> float:
    """``max-error-rate``: ``2%``, ``2`` (a bare number from 1 up is a percentage) or ``0.02``;
    ``0%`` means any error at all fails the gate; 100% or more could never trip."""
    percent = _percent(value, "2%", "an error rate")
    if percent >= 100:
        raise ValueError(f"'{value}' is {percent:g}%: an error rate never exceeds that, so it would never roll back; try 2%")
    return round(percent / 100, 6)


def seconds_between(low: float, high: float) -> Callable[[str], float]:
    def convert(value: str) -> float:
        seconds = parse_duration(value)
        if not low <= seconds <= high:
            raise ValueError(f"{value} is outside the allowed range {low:g}..{high:g} seconds")
        return seconds

    return convert


def inputs_from_env(env: Mapping[str, str]) -> dict[str, str]:
    """The runner's ``INPUT_<ID>`` variables, keyed by input id (hyphens kept)."""
    return {key[len("INPUT_") :].lower(): value for key, value in env.items() if key.startswith("INPUT_")}
