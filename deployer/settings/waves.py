"""Waves: where one artifact goes, in which order, and how long each wave bakes.

Contract: ``read_waves(text_or_document, failure, top_role, where)`` takes the ``waves`` list
(the deploy file's top-level key, or the ``waves`` input's YAML) and ``wave-failure``, checks
them against ``WAVES_SCHEMA`` (jsonschema) and the rules a schema cannot say (a region's
form, a target given twice, a bake's duration), and returns ``Waves``, or raises one
``InputError`` with every problem. A target is a region in an account: the wave's
``role-to-assume``, else the run's own (``top_role``), else the ambient credentials.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
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
Path_ = tuple[str | int, ...]
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
            "name": {
                "description": "Shown in the summary and the outputs: 1-64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit.",
                "type": "string",
                "pattern": r"^[A-Za-z0-9][\w.-]{0,63}$",
                "examples": ["one-box", "europe"],
            },
            "regions": {
                "description": "The wave's regions, deployed in parallel.",
                "type": "array",
                "minItems": 1,
                "items": {"type": "string"},
            },
            "role-to-assume": {
                "description": "Another account's deploy role for this wave (GitHub's OIDC token, or chained from the run's credentials): "
                "an IAM role ARN with a 12-digit account.",
                "type": "string",
                "pattern": ROLE_ARN,
                "examples": ["arn:aws:iam::222222222222:role/github-deploy"],
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


def pattern_message(error: Any) -> str:
    """A jsonschema error in words: a pattern's form as its description says it, with an
    example, instead of the regular expression."""
    shown = json.dumps(error.instance)[:80]
    if error.validator == "pattern" and error.schema.get("examples"):
        form = str(error.schema.get("description", "")).rpartition(": ")[2].rstrip(".")
        return f"{shown} is not of the expected form ({form}), for example {error.schema['examples'][0]}"
    return str(error.message)


def read_waves(
    document: Any, failure: str, top_role: str, where: Mapping[str, str] | None = None, line_of: Callable[[Path_], int] | None = None
) -> Waves:
    """Validated waves. ``where`` names, for each problem's key, the place to point at (in the
    deploy file), by default the ``waves`` input; ``line_of`` gives the deploy file's line of a
    path such as ``("waves", 1, "bake")``, so each problem points at its own line."""
    place = dict(where or {})
    problems: list[Problem] = []

    def fail(what: str, hint: str = "", key: str = "waves", path: Path_ = ()) -> None:
        line = line_of(path or (key,)) if line_of else 0
        problems.append(Problem(what, place.get(key, ""), hint, line=line, input="" if key in place else key))

    if failure not in WAVE_FAILURES:
        hint = "rollback rolls back every finished wave too; halt only the failed one"
        fail(f"'{failure}' is not one of: {', '.join(WAVE_FAILURES)}", hint, "wave-failure")
    validator = jsonschema.Draft202012Validator(WAVES_SCHEMA)
    for error in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
        key_path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        hint = "each wave has name, regions and optionally role-to-assume and bake"
        fail(f"waves{key_path}: {pattern_message(error)}", hint, path=("waves", *error.absolute_path))
    if problems:
        raise InputError(*problems)
    waves: list[Wave] = []
    seen: dict[Target, str] = {}
    names: set[str] = set()
    for index, item in enumerate(document):
        name = str(item["name"])
        if name in names:
            fail(f"wave '{name}' is given twice", "give each wave its own name", path=("waves", index, "name"))
        names.add(name)
        role = str(item.get("role-to-assume") or top_role)
        targets: list[Target] = []
        for number, region in enumerate(item["regions"]):
            at: Path_ = ("waves", index, "regions", number)
            if not REGION_PATTERN.match(str(region)):
                fail(f"wave '{name}': '{region}' is not a region", "give regions such as us-east-1 or eu-west-1", path=at)
                continue
            target = Target(str(region), role)
            if target in seen:
                fail(
                    f"wave '{name}': {target.describe()} is already in wave '{seen[target]}'",
                    "a region of an account is deployed once",
                    path=at,
                )
                continue
            seen[target] = name
            targets.append(target)
        bake = _bake(item.get("bake", 0), name, partial(fail, path=("waves", index, "bake")))
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
