"""Inputs that configure the function: handler, runtime, role, memory, timeout, description,
layers, environment (KEY=VALUE lines or a bounded YAML/JSON mapping; values never echoed),
tags, SnapStart, reserved concurrency, and every row of the configuration surface."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from .. import environment, surface
from .inputs import (
    REMOVE,
    Reader,
    key_value_lines,
    one_of,
)
from .table import ENVIRONMENT_MODES


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
    """The ``environment`` input's variables (``deployer.environment.parse``)."""
    return environment.parse(value)


def environment_problems(variables: Mapping[str, str]) -> list[str]:
    return environment.problems(variables)


def _read_environment(reader: Reader) -> dict[str, str] | None:
    variables = reader.parse("environment", parse_environment)
    if variables is None:
        return None
    for problem in environment_problems(variables):
        reader.fail("environment", problem, SIZE_HINT if "too many" in problem else "")
    return variables


SIZE_HINT = "keep big values out of the environment: read them at run time from SSM Parameter Store or Secrets Manager"


def _read_tags(reader: Reader) -> dict[str, str]:
    tags = reader.parse("tags", lambda v: key_value_lines(v, "tag")) or {}
    for key, value in tags.items():
        if key.lower().startswith("aws:"):
            reader.fail("tags", f"tag '{key}' uses the reserved 'aws:' prefix")
        elif len(key) > 128 or len(value) > 256:
            reader.fail("tags", f"tag '{key}' is too long", "keys may have 128 characters, values 256")
    return tags


def read_function(reader: Reader) -> FunctionSettings:
    return FunctionSettings(
        configuration=_read_configuration(reader),
        environment=_read_environment(reader),
        environment_mode=reader.parse("environment-mode", one_of(ENVIRONMENT_MODES)) or "merge",
        tags=_read_tags(reader),
        reserved_concurrency=None if reader.raw("reserved-concurrency") == REMOVE else reader.api_number("reserved-concurrency"),
        remove_reserved_concurrency=reader.raw("reserved-concurrency") == REMOVE,
        code_signing="" if reader.raw("code-signing-config-arn") == REMOVE else reader.api_text("code-signing-config-arn"),
    )


def _read_configuration(reader: Reader) -> dict[str, Any]:
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
