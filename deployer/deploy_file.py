"""The deploy file: many functions from one validated YAML file (a layer above the pipeline).

Contract: ``read_deploy_file(fleet, direct, env)`` reads the file (at most 1 MB) with
``bounded.load_yaml`` (``yaml.safe_load`` that refuses aliases and deep nesting first),
validates it against the JSON Schema shipped beside this module (draft 2020-12, each key
described in action.yml's words; ``build_schema`` makes it), then turns every function
into the same inputs the action takes and validates those with ``load_settings``. It
returns one ``Entry`` per function, or raises one ``DeployError`` with *every* problem
of *every* function, each pointing at the file and line from the YAML node marks.

A function's inputs are, from weakest to strongest: action.yml's defaults, the file's
``defaults:``, the inputs given to the action itself (an input equal to its action.yml
default counts as not given, since the runner passes every default), then the
function's own keys. Keys use the action's spelling; an unknown key is an error that
lists the allowed ones.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from . import surface
from .bounded import MAX_DEPLOY_FILE_BYTES, TooComplex, load_yaml
from .contract import declared_inputs
from .errors import DeployError, InputError, Problem
from .limits import api_field
from .model import Command
from .settings import DEFAULTS, FleetSettings, Settings, load_settings
from .settings.table import BY_ID, FILE_KEYS, INPUTS, WAVE_FAILURES
from .settings.waves import WAVES_SCHEMA, Waves, parse_waves_text, pattern_message, read_waves

SCHEMA_FILE = Path(__file__).with_name("deploy-file.schema.json")
# The keys a function (or the file's defaults) may have: every input but the run's own (table).
JSON_KEYS = frozenset(row.id for row in INPUTS if row.form == "json")

Path_ = tuple[str | int, ...]


def _surface_schema(row: surface.Row) -> dict[str, Any]:
    """A configuration row's schema, from its form and the model's allowed values."""
    text: dict[str, Any] = {"type": "string"}
    if row.form in surface.LIST_FORMS:
        return {"anyOf": [{"type": "array", "items": {"type": "string"}}, text]}
    if row.form == "integer":
        return {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+$"}]}
    if row.form == "number":
        return {"anyOf": [{"type": "number"}, {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"}]}
    if row.form in ("boolean", "switch"):
        return {"anyOf": [{"type": "boolean"}, {"enum": ["true", "false"]}]}
    shape = surface.member_shape(row.path)
    enum = api_field("lambda", (shape.member if row.form == "one" else shape).name).enum
    if enum:
        return {"enum": [*enum, *([surface.REMOVE] if row.removable else [])]}
    return text


def _key_schema(key: str) -> dict[str, Any]:
    """A key's schema, from its row of the input table (a setting's from its surface row)."""
    row = BY_ID[key]
    if row.row is not None:
        return _surface_schema(row.row)
    text: dict[str, Any] = {"type": "string"}
    scalar = {"type": ["string", "number", "boolean"]}
    enum = row.choices or (api_field(*row.api).enum if row.api else ())
    match row.form:
        case "integer" if key == "reserved-concurrency":
            return {"anyOf": [{"type": "integer", "minimum": 0}, {"enum": ["none"]}]}
        case "integer":
            return {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[0-9]+$"}]}
        case "boolean":
            return {"anyOf": [{"type": "boolean"}, {"enum": ["true", "false"]}]}
        case "list":
            return {"anyOf": [{"type": "array", "items": {"type": "string"}}, text]}
        case "mapping":
            return {"anyOf": [{"type": "object", "additionalProperties": scalar}, text]}
        case "json":
            return {}  # any JSON value
        case "number":
            return {"type": ["string", "number"]}
    return {"enum": list(enum)} if enum else text


def build_schema() -> dict[str, Any]:
    """The deploy file's JSON Schema, each key described in action.yml's words."""
    declared = declared_inputs()
    described = {key: str(declared.get(key, {}).get("description", "")) for key in FILE_KEYS}
    properties = {key: {"description": described[key], **_key_schema(key)} for key in FILE_KEYS}

    def described_run(key: str) -> str:
        return str(declared.get(key, {}).get("description", ""))

    settings = {"type": "object", "additionalProperties": False, "properties": properties}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/lambda-deploy/lambda-deploy/blob/main/deployer/deploy-file.schema.json",
        "title": "lambda-deploy deploy file",
        "description": "Many Lambda functions from one file: defaults shared by all, then each function with the action's inputs.",
        "type": "object",
        "additionalProperties": False,
        "required": ["functions"],
        "properties": {
            "defaults": {
                "description": "Inputs shared by every function; a function's own keys override them.",
                "$ref": "#/$defs/settings",
            },
            "functions": {
                "description": "The functions to deploy, each with function-name and the inputs that differ from the defaults.",
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/settings", "required": ["function-name"]},
            },
            "waves": WAVES_SCHEMA,
            "wave-failure": {"description": described_run("wave-failure"), "enum": list(WAVE_FAILURES)},
        },
        "$defs": {"settings": settings},
    }


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


@dataclass(frozen=True)
class Entry:
    """One function of the file, ready to run."""

    name: str
    inputs: Mapping[str, str]
    settings: Settings


@dataclass(frozen=True)
class DeployFile:
    """A validated deploy file: its functions, and the waves they go out in (None: one region)."""

    entries: list[Entry]
    waves: Waves | None = None


class _Lines:
    """Where each key and item of the YAML document is (1-based lines), from its node marks."""

    def __init__(self, text: str) -> None:
        self.lines: dict[Path_, int] = {}
        self.duplicates: list[tuple[Path_, int]] = []
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            self._walk(node, ())

    def _walk(self, node: yaml.Node, path: Path_) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if (*path, key) in self.lines:
                    self.duplicates.append(((*path, key), key_node.start_mark.line + 1))
                self.lines[(*path, key)] = key_node.start_mark.line + 1
                self._walk(value_node, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = item.start_mark.line + 1
                self._walk(item, (*path, index))

    def of(self, path: Path_) -> int:
        """The line of ``path``, or of its nearest ancestor the file has."""
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


def _as_input(key: str, value: Any) -> str:
    """A YAML value as the action would receive it: text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    if isinstance(value, dict) and key == "tags":
        return "\n".join(f"{name}={_as_input('', item)}" for name, item in value.items())
    if isinstance(value, dict | list) or (key in JSON_KEYS and not isinstance(value, str)):
        return json.dumps(value)
    return str(value)


def _label(path: Path_, names: Mapping[int, str]) -> str:
    if not path:
        return "the deploy file"
    if path[0] == "functions" and len(path) > 1 and isinstance(path[1], int):
        where = f"function '{names[path[1]]}'" if path[1] in names else f"functions[{path[1]}]"
        return where + (f", key '{'/'.join(str(p) for p in path[2:])}'" if len(path) > 2 else "")
    return str(path[0]) + (f", key '{'/'.join(str(p) for p in path[1:])}'" if len(path) > 1 else "")


def _schema_problems(document: Any, lines: _Lines, display: str, names: Mapping[int, str]) -> Iterator[Problem]:
    import jsonschema  # noqa: PLC0415 - loaded when a deploy file is read: single-function runs start faster without it

    validator = jsonschema.Draft202012Validator(schema())
    for found in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
        error = found
        path: Path_ = tuple(found.absolute_path)
        if error.validator == "additionalProperties":
            allowed = list(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - set(allowed)):
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = (f"did you mean '{close[0]}'? " if close else "") + "allowed keys: " + ", ".join(allowed)
                yield Problem(f"unknown key '{key}'", _label(path, names), hint, display, lines.of((*path, key)))
            continue
        deeper = [cause for cause in found.context or () if cause.relative_path]
        if found.validator == "anyOf" and deeper:  # a mapping with a bad value: point at the value
            error = jsonschema.exceptions.best_match(deeper)
            path = tuple(error.absolute_path)
        yield Problem(_schema_message(error), _label(path, names), "", display, lines.of(path))


def _schema_message(error: Any) -> str:
    shown = json.dumps(error.instance)[:80]
    if error.validator == "required":
        return str(error.message).replace("is a required property", "is required")
    if error.validator == "enum":
        return f"{shown} is not one of: {', '.join(str(v) for v in error.validator_value)}"
    if error.validator == "minItems":
        return "lists no function; give at least one under functions"
    if error.validator in ("anyOf", "type"):
        return f"{shown} is not {_kind_of(error.schema)}"
    return pattern_message(error)  # a pattern's form in words, not the regular expression


def _kind_of(schema_part: Mapping[str, Any]) -> str:
    kinds = {
        "integer": "a whole number",
        "string": "text",
        "array": "a list of text",
        "object": "a mapping",
        "boolean": "true or false",
        "number": "a number",
    }
    named = []
    for option in schema_part.get("anyOf", [schema_part]):
        if "enum" in option:
            named.append(" or ".join(json.dumps(v) for v in option["enum"]))
        types = option.get("type", [])
        named += [kinds[t] for t in ([types] if isinstance(types, str) else types)]
    return " or ".join(dict.fromkeys(named)) or "valid here"


def _given(direct: Mapping[str, str]) -> dict[str, str]:
    """Inputs given to the action itself: not empty and not just action.yml's default.
    ``command: list`` is the fleet's own; the other commands apply to every function."""
    given = {k: v for k, v in direct.items() if v.strip() and v != DEFAULTS.get(k) and "${{" not in v}
    if given.get("command") == Command.LIST:
        del given["command"]
    return given


def read_deploy_file(fleet: FleetSettings, direct: Mapping[str, str], env: Mapping[str, str], require_alias: bool = True) -> list[Entry]:
    """Every function of the file, validated; one ``DeployError`` with all problems otherwise."""
    return load_deploy_file(fleet, direct, env, require_alias).entries


def load_deploy_file(fleet: FleetSettings, direct: Mapping[str, str], env: Mapping[str, str], require_alias: bool = True) -> DeployFile:
    """The file's functions and waves, validated; one ``InputError`` with all problems otherwise."""
    display = fleet.display
    try:
        size = fleet.config.stat().st_size
        if size > MAX_DEPLOY_FILE_BYTES:
            raise InputError(
                Problem(
                    f"is {size:,} bytes; a deploy file may have {MAX_DEPLOY_FILE_BYTES:,}",
                    "the deploy file",
                    "split it into several files, or check that config names the right file",
                    display,
                    1,
                )
            )
        text = fleet.config.read_text(encoding="utf-8")
        document = load_yaml(text)  # bounded: no aliases, no deep nesting, before any tree is built
        lines = _Lines(text)
    except TooComplex as error:
        raise InputError(Problem(str(error), "the deploy file", "", display, error.line)) from None
    except UnicodeDecodeError as error:
        raise InputError(Problem(f"is not UTF-8 text ({error.reason})", "the deploy file", "", display, 1)) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        what = f"is not valid YAML: {getattr(error, 'problem', error)}"
        raise InputError(Problem(what, "the deploy file", "", display, line)) from None
    functions = document.get("functions") if isinstance(document, dict) else None
    names = {i: str(f.get("function-name")) for i, f in enumerate(functions or []) if isinstance(f, dict) and f.get("function-name")}
    problems = list(_schema_problems(document, lines, display, names))
    problems += [Problem(f"'{path[-1]}' is given twice", _label(path[:-1], names), "", display, line) for path, line in lines.duplicates]
    if problems:
        raise InputError(*problems)
    assert isinstance(document, dict) and isinstance(functions, list)  # the schema says so
    seen: dict[str, int] = {}
    for index, name in names.items():
        if name in seen:
            problems.append(
                Problem(
                    f"'{name}' is listed twice", f"functions[{index}]", "give each function once", display, lines.of(("functions", index))
                )
            )
        seen.setdefault(name, index)
    defaults = {key: _as_input(key, value) for key, value in (document.get("defaults") or {}).items()}
    given = _given(direct)
    waves = _waves(document, given, lines, display, problems)
    entries: list[Entry] = []
    for index, function in enumerate(functions):
        own = {key: _as_input(key, value) for key, value in function.items()}
        inputs = {**defaults, **given, **own}
        if "waves" in document or given.get("waves"):  # each target gives the region: one given here is a contradiction
            problems += _region_with_waves(index, names[index], (own, defaults, given), lines, display)
            first = waves.waves[0].targets[0].region if waves is not None and waves.waves[0].targets else "us-east-1"
            inputs["aws-region"] = first  # validated per target later
        try:
            entries.append(Entry(names[index], inputs, load_settings(inputs, env, require_alias)))
        except DeployError as error:
            for problem in error.problems:
                problems.append(_locate(problem, index, names[index], own, defaults, lines, display))
    if fleet.only is not None and fleet.only not in seen:
        problems.append(Problem(f"'{fleet.only}' is not a function of {display}", hint="the file has: " + ", ".join(seen), input="only"))
    if problems:
        raise InputError(*problems)
    return DeployFile([entry for entry in entries if fleet.only in (None, entry.name)], waves)


def _region_with_waves(
    index: int, name: str, sources: tuple[Mapping[str, str], Mapping[str, str], Mapping[str, str]], lines: _Lines, display: str
) -> list[Problem]:
    """``aws-region`` given to a function of a file with waves (in the function, the defaults
    or the inputs, whichever wins): a contradiction, pointed at where it was given."""
    own, defaults, given = sources
    for source, path in ((own, ("functions", index, "aws-region")), (defaults, ("defaults", "aws-region")), (given, ())):
        if source.get("aws-region"):
            where = f"function '{name}', key 'aws-region'" if path else "input 'aws-region'"
            hint = "remove aws-region, or the waves"
            return [Problem("cannot be given with waves: each wave names its regions", where, hint, display, lines.of(path) if path else 0)]
    return []


def _waves(document: Mapping[str, Any], given: Mapping[str, str], lines: _Lines, display: str, problems: list[Problem]) -> Waves | None:
    """The file's waves (or the waves input's); the run's own role is each wave's default."""
    failure = str(document.get("wave-failure") or given.get("wave-failure") or DEFAULTS["wave-failure"])
    if "waves" in document and given.get("waves"):
        where = lines.of(("waves",))
        problems.append(Problem("the deploy file has waves: too", "input 'waves'", "give waves in one place", display, where))
        return None
    if "waves" not in document and not given.get("waves"):
        return None
    raw = document["waves"] if "waves" in document else parse_waves_text(given["waves"])
    place = {"waves": "the deploy file, key 'waves'", "wave-failure": "the deploy file, key 'wave-failure'"} if "waves" in document else {}
    in_file = "waves" in document
    try:
        return read_waves(raw, failure, given.get("role-to-assume", ""), place, lines.of if in_file else None)
    except InputError as error:
        problems.extend(replace(problem, file=display) if in_file else problem for problem in error.problems)
        return None


def _locate(
    problem: Problem, index: int, name: str, own: Mapping[str, str], defaults: Mapping[str, str], lines: _Lines, display: str
) -> Problem:
    """A function's settings problem, pointed at the key in the file it came from."""
    key = problem.input
    path: Path_
    if key in own:
        where, path = f"function '{name}', key '{key}'", ("functions", index, key)
    elif key in defaults:
        where, path = f"defaults, key '{key}' (for function '{name}')", ("defaults", key)
    else:
        where, path = f"function '{name}'" + (f", {problem.place}" if problem.place else ""), ("functions", index)
    return Problem(problem.what, where, problem.hint, display, lines.of(path), problem.input, problem.terminal_hint)
