"""Waves: where one artifact goes, in which order, and how long each wave bakes.

Contract: ``read_waves(text_or_document, failure, top_role, where)`` takes the ``waves`` list
(the deploy file's top-level key, or the ``waves`` input's YAML) and ``wave-failure``, checks
them against ``WAVES_SCHEMA`` (jsonschema) and the rules a schema cannot say (a region's
form, a target given twice, a bake's duration), and returns ``Waves``, or raises one
``InputError`` with every problem. A target is a region in an account: the wave's
``role-to-assume``, else the run's own (``top_role``), else the ambient credentials.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
import yaml

from ..bounded import TooComplex, load_yaml
from ..errors import InputError, Problem
from ..schedule import parse_duration
from .inputs import REGION_PATTERN
from .table import WAVE_FAILURES

MAX_BAKE = 24 * 3600.0  # a day: longer is a release train, not a bake
ROLE_ARN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$"
_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::([0-9]{12}):")

WAVES_SCHEMA: dict[str, Any] = {
    "description": "Waves of regions (and accounts), deployed in order; each bakes under the health gates before the next.",
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "regions"],
        "properties": {
            "name": {"description": "Shown in the summary and the outputs.", "type": "string", "pattern": r"^[A-Za-z0-9][\w.-]{0,63}$"},
            "regions": {
                "description": "The wave's regions, deployed in parallel.",
                "type": "array",
                "minItems": 1,
                "items": {"type": "string"},
            },
            "role-to-assume": {
                "description": "Another account's deploy role for this wave (GitHub's OIDC token, or chained from the run's credentials).",
                "type": "string",
                "pattern": ROLE_ARN,
            },
            "bake": {
                "description": "How long the health gates run after the wave's last alias moved (30s, 10m, 1h); 0 for none.",
                "type": ["string", "number"],
            },
        },
    },
}


@dataclass(frozen=True)
class Target:
    """A region in an account: where one copy of every function runs."""

    region: str
    role_arn: str = ""  # "" : the run's own credentials

    @property
    def account(self) -> str:
        """The account the role belongs to; "" for the run's own (learned when it is reached)."""
        match = _ACCOUNT.match(self.role_arn)
        return match.group(1) if match else ""

    def describe(self) -> str:
        return f"{self.region} ({self.account})" if self.account else self.region


@dataclass(frozen=True)
class Wave:
    name: str
    targets: tuple[Target, ...]
    bake: float  # seconds


@dataclass(frozen=True)
class Waves:
    waves: tuple[Wave, ...]
    failure: str = "rollback"  # rollback | halt

    @property
    def targets(self) -> tuple[Target, ...]:
        return tuple(target for wave in self.waves for target in wave.targets)


def parse_waves_text(text: str, input_id: str = "waves") -> Any:
    """The ``waves`` input's YAML, parsed with bounds (no aliases, no deep nesting)."""
    try:
        return load_yaml(text)
    except (TooComplex, yaml.YAMLError) as error:
        raise InputError(Problem(f"is not valid YAML: {getattr(error, 'problem', error)}", input=input_id)) from None


def read_waves(document: Any, failure: str, top_role: str, where: Mapping[str, str] | None = None) -> Waves:
    """Validated waves. ``where`` names, for each problem's key, the place to point at
    (the deploy file's line, or the input); by default the ``waves`` input."""
    place = dict(where or {})
    problems: list[Problem] = []

    def fail(what: str, hint: str = "", key: str = "waves") -> None:
        problems.append(Problem(what, place.get(key, ""), hint, input="" if key in place else key))

    if failure not in WAVE_FAILURES:
        hint = "rollback rolls back every finished wave too; halt only the failed one"
        fail(f"'{failure}' is not one of: {', '.join(WAVE_FAILURES)}", hint, "wave-failure")
    validator = jsonschema.Draft202012Validator(WAVES_SCHEMA)
    for error in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        fail(f"waves{path}: {error.message}", "each wave has name, regions and optionally role-to-assume and bake")
    if problems:
        raise InputError(*problems)
    waves: list[Wave] = []
    seen: dict[Target, str] = {}
    names: set[str] = set()
    for item in document:
        name = str(item["name"])
        if name in names:
            fail(f"wave '{name}' is given twice", "give each wave its own name")
        names.add(name)
        role = str(item.get("role-to-assume") or top_role)
        targets: list[Target] = []
        for region in item["regions"]:
            if not REGION_PATTERN.match(str(region)):
                fail(f"wave '{name}': '{region}' is not a region", "give regions such as us-east-1 or eu-west-1")
                continue
            target = Target(str(region), role)
            if target in seen:
                fail(f"wave '{name}': {target.describe()} is already in wave '{seen[target]}'", "a region of an account is deployed once")
                continue
            seen[target] = name
            targets.append(target)
        bake = _bake(item.get("bake", 0), name, fail)
        waves.append(Wave(name, tuple(targets), bake))
    if problems:
        raise InputError(*problems)
    return Waves(tuple(waves), failure)


def _bake(value: Any, wave: str, fail: Callable[[str], None]) -> float:
    try:
        seconds = float(value) if isinstance(value, int | float) else parse_duration(str(value))
    except ValueError as error:
        fail(f"wave '{wave}': bake {error}")
        return 0.0
    if not 0 <= seconds <= MAX_BAKE:
        fail(f"wave '{wave}': bake {value} is outside 0..{MAX_BAKE:g} seconds")
    return seconds
