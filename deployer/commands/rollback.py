"""``rollback``: the alias goes wholly back to its stable version, or to ``to-version``.

``to-version`` is a published version number or an alias (blue/green: ``previous``), whose
version the alias goes back to; ``--to-alias`` says the same on the command line.
"""

from __future__ import annotations

from dataclasses import replace

from . import functions
from .base import Flag, Report, Request, Spec


def run(request: Request) -> Report:
    to_alias = request.flags.get("to_alias")
    if to_alias:
        request = replace(request, inputs={**request.inputs, "to-version": str(to_alias)})
    return functions.run(request)


SPEC = Spec(
    "move the alias wholly back to its stable version (or --to-version)",
    run,
    in_action=True,
    flags=(Flag("to-alias", "blue/green: go back to the version this alias points at (the same as --to-version ALIAS)"),),
)
