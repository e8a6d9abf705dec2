"""What the action and the command line run: one function, or the functions of a deploy file.

Contract: ``main(inputs, env, io)`` reads the deploy-file inputs first; without ``config``
it is the single-function pipeline (``pipeline.main``; ``command: diff`` is its dry run
rendered in full, ``command: status`` reads what is live), with it the fleet above that
pipeline (``fleet.run_fleet``). It returns the exit code (0 done, 1 a deploy or input
error, 2 a bug in lambda-deploy) and a JSON-able account of what happened, for ``--json``.
Whatever escapes, at any stage, is reported as a bug (exit 2) here, once for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import report
from .errors import DeployError, RunnerFileError
from .github import Reporter
from .pipeline import Connect, bug, connect_to_aws
from .pipeline import main as run_function
from .rollout import Clock
from .settings import load_fleet_settings


def main(
    inputs: Mapping[str, str], env: Mapping[str, str], io: Reporter, connect: Connect | None = None, clock: Clock | None = None
) -> tuple[int, dict[str, Any]]:
    try:
        return _dispatch(inputs, env, io, connect, clock)
    except RunnerFileError as error:  # the runner's file, not a bug: the deploys themselves stand
        for problem in error.problems:
            io.error(problem)
        return 1, {}
    except Exception:  # noqa: BLE001 - the last line of defence, whatever stage it was: a bug, reported as one
        return bug(io).code, {}


def _status(inputs: Mapping[str, str], env: Mapping[str, str], io: Reporter) -> tuple[int, dict[str, Any]]:
    """``command: status``: what is live, in the job summary (and the log)."""
    from .commands import connect, status
    from .settings import load_access

    try:
        access = load_access(inputs, env)
        read = status.read_status(connect(access, io).lambda_, access.function_name, access.keep_versions, access.prune_grace)
    except DeployError as error:
        for problem in error.problems:
            io.error(problem)
        io.summary(report.failure_markdown(error))
        return 1, {}
    io.info(status.text(read))
    io.summary(status.markdown(read))
    return 0, status.as_json(read)


def _dispatch(
    inputs: Mapping[str, str], env: Mapping[str, str], io: Reporter, connect: Connect | None, clock: Clock | None
) -> tuple[int, dict[str, Any]]:
    try:
        fleet = load_fleet_settings(inputs, env)
    except DeployError as error:
        for problem in error.problems:
            io.error(problem)
        io.summary(report.failure_markdown(error))
        return 1, {}
    if fleet is None:
        if inputs.get("command", "").strip() == "status":
            return _status(inputs, env, io)
        code, result = run_function(inputs, env, io, connect or connect_to_aws, clock)
        payload = report.as_json(result) if result else {}
        if result is not None and inputs.get("command", "").strip() == "diff":
            from .commands import diff

            payload["difference"] = diff.as_json(diff.of(result))
        return code, payload
    from .fleet import run_fleet  # the layer above the pipeline, loaded only for a deploy file

    return run_fleet(fleet, inputs, env, io, connect, clock)
