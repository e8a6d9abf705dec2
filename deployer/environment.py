"""A function's environment variables: read from one input, checked as Lambda checks them, never shown (pure).

Contract: ``parse(text)`` decides the form first and never splits a value: JSON when the text
starts with ``{``, else a YAML mapping (bounded: no aliases, no deep nesting) whose names hold
no ``=``, else ``KEY=VALUE`` lines (split at the first ``=``, so values may hold ``=``, as base64
and connection strings do). ``problems(variables)`` is what Lambda would refuse in a complete
set: reserved or invalid names, and the 4 KB limit measured as Lambda measures it, on the
variables' JSON text; it lists the biggest variables by name and size. No message here ever
quotes a value; a name that does not look like a name (it may be part of a value written on
the wrong line) is referred to by its position.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from .bounded import TooComplex, load_json, load_yaml
from .limits import ENV_TOTAL_BYTES, RESERVED_ENV_KEYS, RESERVED_ENV_PREFIX, api_field, full_match

LIMIT = ENV_TOTAL_BYTES
_KEY_VALUE = re.compile(r"^\s*([^=\s][^=]*?)\s*=(.*)$")
_NAMELIKE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
BIGGEST = 5  # how many of the biggest variables a size problem names


def parse(text: str) -> dict[str, str]:
    """The variables ``text`` gives; ValueError says what is wrong, never with a value in it."""
    stripped = text.strip()
    if not stripped:
        return {}
    if stripped.startswith("{"):
        try:
            return _mapping(load_json(stripped), "JSON object")
        except TooComplex as error:
            raise ValueError(str(error)) from None
    mapping = _yaml_mapping(stripped)
    if mapping is not None:
        return _mapping(mapping, "YAML mapping")
    return _key_value_lines(stripped)


def _yaml_mapping(text: str) -> dict[Any, Any] | None:
    """The text as a YAML mapping, or None when it is not one. ``A=1`` lines read as one YAML
    string; a line such as ``URL=https://x?a=b: c`` reads as a mapping whose name holds ``=``:
    those are KEY=VALUE lines, so such a mapping does not count."""
    try:
        loaded = load_yaml(text)
    except TooComplex as error:  # YAML beyond doubt (an alias, deep nesting): say so, with the line
        raise ValueError(str(error)) from None
    except yaml.YAMLError:
        return None
    if not isinstance(loaded, dict) or any("=" in str(name) for name in loaded):
        return None
    return loaded


def _mapping(loaded: Any, form: str) -> dict[str, str]:
    if not isinstance(loaded, dict):
        raise ValueError(f"is not a {form} of names to values")
    variables: dict[str, str] = {}
    for position, (name, value) in enumerate(loaded.items(), start=1):
        if isinstance(value, bool):
            variables[str(name)] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            variables[str(name)] = str(value)
        else:
            raise ValueError(f"the value of {shown_name(str(name), position)} must be text, a number or true/false, not a list or mapping")
    return variables


def _key_value_lines(text: str) -> dict[str, str]:
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        found = _KEY_VALUE.match(line)
        if not found:
            raise ValueError(
                f"line {number} is not KEY=VALUE (the text is read as KEY=VALUE lines: it is neither a JSON object, "
                "which starts with '{', nor a YAML mapping)"
            )
        name, value = found.group(1), found.group(2).strip()
        if name in variables:
            raise ValueError(f"variable {shown_name(name, number)} is given twice (line {number})")
        variables[name] = value
    return variables


def shown_name(name: str, position: int) -> str:
    """A variable's name for a message: itself when it looks like a name, else where it is."""
    return f"'{name}'" if _NAMELIKE.fullmatch(name) else f"the name at position {position}"


def measured(variables: Mapping[str, str]) -> int:
    """Bytes of the variables as Lambda measures them for its 4 KB limit: their JSON text."""
    return len(json.dumps(dict(variables), separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def problems(variables: Mapping[str, str]) -> list[str]:
    """What Lambda would refuse in a complete set of variables (names and sizes, never values)."""
    name_pattern = api_field("lambda", "EnvironmentVariableName").pattern
    found = []
    for position, name in enumerate(variables, start=1):
        if name in RESERVED_ENV_KEYS or name.startswith(RESERVED_ENV_PREFIX):
            found.append(f"{shown_name(name, position)} is reserved by Lambda and cannot be set; rename it")
        elif not full_match(name_pattern, name):
            rule = "start with a letter, then letters, digits or '_' (at least 2 characters)"
            found.append(f"{shown_name(name, position)} is not a valid name: {rule}")
    size = measured(variables)
    if size > LIMIT:
        # Each variable's share of the JSON text: "NAME":"value" and its comma.
        shares = ((measured({name: value}) - 1, position, name) for position, (name, value) in enumerate(variables.items(), 1))
        sizes = sorted(shares, reverse=True)
        biggest = ", ".join(f"{shown_name(name, position)} ({share:,} bytes)" for share, position, name in sizes[:BIGGEST])
        found.append(
            f"the variables take {size:,} bytes as Lambda measures them (their JSON text); Lambda allows {LIMIT:,} bytes, "
            f"so {size - LIMIT:,} too many. The biggest: {biggest}"
        )
    return found


def merged(given: Mapping[str, str] | None, current: Mapping[str, str], mode: str) -> dict[str, str] | None:
    """The complete set to send: ``given`` over ``current`` (``merge``) or ``given`` alone
    (``replace``); None when nothing was given."""
    if given is None:
        return None
    return dict(given) if mode == "replace" else {**current, **given}
