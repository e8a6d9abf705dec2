"""The deploy-file inputs (config, only, max-parallel, fail-fast): how a fleet is run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..model import Command
from .inputs import MAX_PARALLEL, Reader, boolean, integer_in
from .workspace import in_workspace


@dataclass(frozen=True)
class FleetSettings:
    """How a deploy file is run: which file, which of its functions, how many at once."""

    config: Path
    display: str  # the file as the user named it, for annotations
    only: str | None
    max_parallel: int
    fail_fast: bool
    listing: bool  # command: list


def load_fleet_settings(inputs: Mapping[str, str], env: Mapping[str, str]) -> FleetSettings | None:
    """The deploy-file inputs; None when ``config`` is not given (a single-function run)."""
    reader = Reader(inputs)
    value = reader.given("config")
    if value is None:
        if reader.given("only"):
            reader.fail("only", "only applies with config", "give the deploy file in config")
        if reader.problems:
            raise InputError(*reader.problems)
        return None
    base = Path(env.get("GITHUB_WORKSPACE") or ".")
    path = in_workspace(reader, "config", value, base)
    if path is not None and not path.is_file():
        reader.fail("config", f"'{value}' is not a file under {base}", "give the path of the deploy file, relative to the workspace")
    fleet = FleetSettings(
        config=path or base / value,
        display=value,
        only=reader.given("only"),
        max_parallel=reader.parse("max-parallel", integer_in(1, MAX_PARALLEL, "functions")) or 4,
        fail_fast=bool(reader.parse("fail-fast", boolean)),
        listing=reader.raw("command") == Command.LIST,
    )
    if reader.problems:
        raise InputError(*reader.problems)
    return fleet


def load_waves_fleet(inputs: Mapping[str, str]) -> FleetSettings:
    """How a single function's targets run when it is given waves without a deploy file."""
    reader = Reader(inputs)
    fleet = FleetSettings(
        config=Path("."),
        display="the waves input",
        only=None,
        max_parallel=reader.parse("max-parallel", integer_in(1, MAX_PARALLEL, "functions")) or 4,
        fail_fast=bool(reader.parse("fail-fast", boolean)),
        listing=False,
    )
    if reader.problems:
        raise InputError(*reader.problems)
    return fleet
