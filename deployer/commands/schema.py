"""``schema``: print the deploy file's JSON Schema (the one shipped as deployer/deploy-file.schema.json)."""

from __future__ import annotations

import json

from ..deploy_file import build_schema
from .base import Report, Request, Spec


def run(request: Request) -> Report:
    return Report(text=json.dumps(build_schema(), indent=2, ensure_ascii=False))


SPEC = Spec("print the deploy file's JSON Schema (deployer/deploy-file.schema.json)", run, inputs=(), json=False)
