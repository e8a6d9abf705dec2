"""Parsing with bounds: YAML and JSON from users can neither hang nor crash the action (pure).

Contract: ``load_yaml(text)`` and ``load_json(text)`` return the parsed value, or raise
``TooComplex`` (a ``ValueError`` with the 1-based line) for text that nests deeper than
``MAX_DEPTH`` or, in YAML, uses an alias (``*name``). Both checks run over a flat stream
(PyYAML's event parser, a character scan for JSON) before any tree is built, so neither a
"billion laughs" file, a recursive anchor nor 20,000 nested brackets gets to the parts
that expand or recurse. YAML aliases are refused rather than expanded under a budget:
no input of this action needs one, and a refusal is easy to explain and to fix. The deploy
file's size is bounded by its reader (``MAX_DEPLOY_FILE_BYTES``).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

MAX_DEPTH = 32  # a deploy file nests 4 deep; a smoke payload rarely 10
MAX_DEPLOY_FILE_BYTES = 1024 * 1024
_OPENERS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSERS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class TooComplex(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` after checking the event stream: no alias, at most ``MAX_DEPTH`` deep."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, yaml.AliasEvent):
            raise TooComplex(
                f"uses the YAML alias '*{event.anchor}' (line {line}); aliases are not expanded here, so write the value out in full",
                line,
            )
        if isinstance(event, _OPENERS):
            depth += 1
            if depth > MAX_DEPTH:
                raise TooComplex(f"nests deeper than {MAX_DEPTH} levels (line {line})", line)
        elif isinstance(event, _CLOSERS):
            depth -= 1
    return yaml.safe_load(text)


def json_depth_problem(text: str) -> str:
    """Why ``text`` nests too deeply for JSON parsing, or "" (brackets inside strings do not count)."""
    depth, in_string, escaped, line = 0, False, False, 1
    for char in text:
        if char == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return f"nests deeper than {MAX_DEPTH} levels (line {line})"
        elif char in "]}":
            depth -= 1
    return ""


def load_json(text: str) -> Any:
    """``json.loads`` after the depth check; ``ValueError`` says what is wrong and where."""
    if problem := json_depth_problem(text):
        raise ValueError(problem)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})") from None
