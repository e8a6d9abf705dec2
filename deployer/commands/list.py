"""``list``: validate a deploy file and name its functions (for a job matrix); no AWS call.

Every function is validated as a deploy would validate it, but an alias is not needed: a
list names functions, it moves none. Output ``functions`` is a JSON array.
"""

from __future__ import annotations

from .. import report
from ..deploy_file import read_deploy_file
from ..errors import InputError
from ..settings import load_fleet_settings
from .base import Report, Request, Spec
from .functions import inputs_of


def run(request: Request) -> Report:
    inputs = inputs_of(request)
    fleet = load_fleet_settings(inputs, request.env)
    if fleet is None:
        raise InputError.about("config", "list needs a deploy file", "give the deploy file in config")
    names = [entry.name for entry in read_deploy_file(fleet, inputs, request.env, require_alias=False)]
    return Report(
        outputs={"functions": report.json_text(names)},
        summary=report.listing_markdown(fleet.display, names),
        payload={"functions": names},
        text="\n".join(names),
    )


SPEC = Spec("validate the deploy file (--config) and print its function names; no AWS call", run, in_action=True, inputs=("config", "only"))
