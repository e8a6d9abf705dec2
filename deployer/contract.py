"""action.yml, the action's contract, read at run time where its words are needed.

Contract: ``declared_inputs()`` gives each input's description and default as action.yml
declares them, so the CLI's ``--help`` and the deploy file's JSON Schema describe each
input in the very words of the action's metadata and cannot drift from it. An install
without action.yml (a bare wheel) gets an empty mapping: the flags and the file still
work, without their descriptions.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

ACTION_YML = Path(__file__).resolve().parent.parent / "action.yml"


@cache
def declared_inputs(path: Path = ACTION_YML) -> dict[str, dict[str, Any]]:
    try:
        declared = yaml.safe_load(path.read_text(encoding="utf-8"))["inputs"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return {}
    return {str(name): dict(spec or {}) for name, spec in declared.items()}
