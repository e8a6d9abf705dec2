"""Inputs that configure the function: handler, runtime, role, memory, timeout, description,
layers, environment (KEY=VALUE lines or a bounded YAML/JSON mapping; values never echoed),
tags, SnapStart, reserved concurrency, and every row of the configuration surface."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import yaml

from .. import surface
from ..bounded import load_yaml
from ..limits import (
    ENV_TOTAL_BYTES,
    RESERVED_ENV_KEYS,
    RESERVED_ENV_PREFIX,
    api_field,
    full_match,
)
from .inputs import (
    _KEY_VALUE_LINE,
    ENVIRONMENT_MODES,
    REMOVE,
    _choice,
    _key_value_lines,
    _lines,
    _Reader,
    _scalar_text,
)

# The YAML/JSON form of `environment`: a flat mapping of names to scalars.
ENVIRONMENT_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": {"type": ["string", "number", "boolean"]},
}


@dataclass(frozen=True)
class FunctionSettings:
    """Desired function configuration: the given rows of ``surface`` (not given: leave as is),
    the environment, the tags and the function-wide concurrency and code signing."""

    configuration: Mapping[str, Any] = field(default_factory=dict)  # input id -> parsed value, for the rows given
    environment: Mapping[str, str] | None = None
    environment_mode: str = "merge"
    tags: Mapping[str, str] = field(default_factory=dict)
    reserved_concurrency: int | None = None  # function-wide; see remove_reserved_concurrency
    remove_reserved_concurrency: bool = False  # reserved-concurrency: none
    code_signing: str | None = None  # a code-signing configuration's ARN; "" removes it; None: leave it

    def _text(self, name: str) -> str | None:
        value = self.configuration.get(name)
        return None if value is None else str(value)

    def _integer(self, name: str) -> int | None:
        value = self.configuration.get(name)
        return None if value is None else int(value)

    @property
    def handler(self) -> str | None:
        return self._text("handler")

    @property
    def runtime(self) -> str | None:
        return self._text("runtime")

    @property
    def role(self) -> str | None:
        return self._text("role")

    @property
    def architecture(self) -> str | None:
        return self._text("architecture")

    @property
    def memory(self) -> int | None:
        return self._integer("memory")

    @property
    def timeout(self) -> int | None:
        return self._integer("timeout")

    @property
    def description(self) -> str | None:
        return self._text("description")

    @property
    def layers(self) -> tuple[str, ...] | None:
        layers = self.configuration.get("layers")
        return None if layers is None else tuple(layers)

    @property
    def snapstart(self) -> bool | None:
        applied = self.configuration.get("snapstart")
        return None if applied is None else applied == surface.BY_INPUT["snapstart"].on


def parse_environment(value: str) -> dict[str, str]:
    """``KEY=VALUE`` lines, or a YAML/JSON mapping (validated with jsonschema)."""
    lines = _lines(value)
    if lines and all(_KEY_VALUE_LINE.match(line) for line in lines):
        return _key_value_lines(value, "variable")
    try:
        loaded = load_yaml(value)  # bounded: no aliases, no deep nesting
    except yaml.YAMLError:
        raise ValueError("is neither KEY=VALUE lines nor a YAML/JSON mapping") from None
    import jsonschema  # here, not at the top: most runs never need it, and it costs start-up

    try:
        jsonschema.validate(loaded, ENVIRONMENT_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        detail = f"the value of '{where}' must be a string, number or boolean" if where else "it must be a mapping"
        raise ValueError(f"is not a flat mapping of names to values: {detail}") from None
    return {str(k): _scalar_text(v) for k, v in loaded.items()}


def environment_problems(variables: Mapping[str, str]) -> list[str]:
    """What Lambda would refuse in a complete set of variables (names only, never values)."""
    name_pattern = api_field("lambda", "EnvironmentVariableName").pattern
    problems = []
    for key in variables:
        if key in RESERVED_ENV_KEYS or key.startswith(RESERVED_ENV_PREFIX):
            problems.append(f"'{key}' is reserved by Lambda and cannot be set; rename it")
        elif not full_match(name_pattern, key):
            problems.append(f"'{key}' is not a valid name: start with a letter, then letters, digits or '_' (at least 2 characters)")
    size = sum(len(k.encode()) + len(v.encode()) for k, v in variables.items())
    if size > ENV_TOTAL_BYTES:
        problems.append(f"the variables take {size} bytes; Lambda allows {ENV_TOTAL_BYTES} bytes of names and values in total")
    return problems


def _read_environment(reader: _Reader) -> dict[str, str] | None:
    variables = reader.parse("environment", parse_environment)
    if variables is None:
        return None
    for problem in environment_problems(variables):
        reader.fail("environment", problem)
    return variables


def _read_tags(reader: _Reader) -> dict[str, str]:
    tags = reader.parse("tags", lambda v: _key_value_lines(v, "tag")) or {}
    for key, value in tags.items():
        if key.lower().startswith("aws:"):
            reader.fail("tags", f"tag '{key}' uses the reserved 'aws:' prefix")
        elif len(key) > 128 or len(value) > 256:
            reader.fail("tags", f"tag '{key}' is too long", "keys may have 128 characters, values 256")
    return tags


def _read_function(reader: _Reader) -> FunctionSettings:
    return FunctionSettings(
        configuration=_read_configuration(reader),
        environment=_read_environment(reader),
        environment_mode=reader.parse("environment-mode", _choice(ENVIRONMENT_MODES)) or "merge",
        tags=_read_tags(reader),
        reserved_concurrency=None if reader.raw("reserved-concurrency") == REMOVE else reader.api_number("reserved-concurrency"),
        remove_reserved_concurrency=reader.raw("reserved-concurrency") == REMOVE,
        code_signing="" if reader.raw("code-signing-config-arn") == REMOVE else reader.api_text("code-signing-config-arn"),
    )


def _read_configuration(reader: _Reader) -> dict[str, Any]:
    """Every row of the configuration surface that was given, checked against the model."""
    given: dict[str, Any] = {}
    for row in surface.ROWS:
        value = reader.parse(row.input, partial(surface.parse, row), f"for example: {row.example}" if row.example else "")
        if value is not None:
            given[row.input] = value
    # Without log-format, the function's own format decides, once it is read (the planner checks that).
    if "log-format" in given and (problem := surface.logging_problem(given, {}, "")):
        reader.fail("application-log-level" if given.get("application-log-level") else "system-log-level", problem)
    return given
