"""The pipeline: settings -> state -> artifact -> plan -> execute | dry-run -> report.

Contract: ``deploy(settings, gateway, io)`` runs the stages in order, each inside a
log group and timed; ``main(inputs, env, io)`` is what the action and the CLI both
call. It returns the exit code: 0 done, 1 a ``DeployError`` (shown as errors, never
a traceback), 2 a bug in lambda-deploy. Nothing mutating happens before the plan
exists, so every input problem is reported before AWS changes.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from . import report
from .aws import LambdaGateway
from .errors import DeployError, Problem
from .executor import DryRunExecutor, Executor
from .github import Reporter
from .limits import DIRECT_UPLOAD_BYTES
from .model import Result
from .package import build_artifact
from .planner import make_plan
from .settings import Settings, load_settings

Connect = Callable[[Settings, Callable[[str], None]], LambdaGateway]
BUG_REPORT = "this is a bug in lambda-deploy, not in your inputs; please report it with this log"


def connect_to_aws(settings: Settings, log: Callable[[str], None]) -> LambdaGateway:
    return LambdaGateway.connect(settings.region, settings.wait_timeout, log=log)


class _Stages:
    """Runs each stage in a log group and records how long it took."""

    def __init__(self, io: Reporter, clock: Callable[[], float]) -> None:
        self._io = io
        self._clock = clock
        self.timings: list[tuple[str, float]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = self._clock()
        with self._io.group(name):
            try:
                yield
            finally:
                self.timings.append((name, self._clock() - started))


def deploy(settings: Settings, gateway: LambdaGateway, io: Reporter, clock: Callable[[], float] = time.monotonic) -> Result:
    stages = _Stages(io, clock)
    with stages.stage("Read current state"):
        state = gateway.read_state(settings.function_name, settings.alias)
        if state.latest is None:
            io.info(f"function {settings.function_name} does not exist yet; it will be created")
        else:
            published = state.published.version if state.published else "none"
            io.info(f"$LATEST code {state.latest.code_sha256}, newest published version {published}")
            io.info(f"alias {settings.alias}: " + (f"→ {state.alias.version}" if state.alias else "does not exist yet"))
    with stages.stage("Package"):
        wanted = settings.function
        runtime = wanted.runtime or (state.latest.runtime if state.latest else "")
        architecture = wanted.architecture or (state.latest.architecture if state.latest else "x86_64")
        artifact = build_artifact(settings.source, settings.exclude, settings.requirements, runtime, architecture)
        io.info(f"{artifact.kind} {settings.source.name or settings.source}: {artifact.file_count} files, {artifact.size:,} bytes")
        io.info(f"CodeSha256 {artifact.sha256}")
        if artifact.size > DIRECT_UPLOAD_BYTES:
            raise DeployError.of(
                f"the package is {artifact.size / 1e6:.1f} MB; Lambda takes at most {DIRECT_UPLOAD_BYTES / 1e6:.1f} MB uploaded directly",
                "input 'source'",
                "leave out what the function does not need with exclude, or move dependencies into a layer",
            )
    with stages.stage("Plan"):
        plan = make_plan(settings, artifact.sha256, state)
        for step in plan.steps:
            io.info(step.describe())
    with stages.stage("Dry run" if settings.dry_run else "Deploy"):
        executor = DryRunExecutor(state, io.info) if settings.dry_run else Executor(gateway, artifact, state, io.info)
        outcome = executor.run(plan)
    status = "planned" if settings.dry_run else ("deployed" if plan.mutates else "unchanged")
    return Result(
        status=status,
        function_arn=outcome.function_arn,
        version=outcome.version,
        previous_version=plan.previous_version,
        alias=settings.alias,
        alias_arn=outcome.alias_arn,
        code_sha256=artifact.sha256,
        changed=plan.publishes and not settings.dry_run,
        plan=plan,
        calls=gateway.calls.snapshot(),
        timings=tuple(stages.timings),
    )


def main(inputs: Mapping[str, str], env: Mapping[str, str], io: Reporter, connect: Connect = connect_to_aws) -> tuple[int, Result | None]:
    """Run one deploy end to end; returns the exit code and the result, if any."""
    try:
        settings = load_settings(inputs, env)
        for secret in settings.secrets:
            io.mask(secret)
        result = deploy(settings, connect(settings, io.info), io)
        io.outputs(report.outputs(result))
        io.summary(report.markdown(result))
    except DeployError as error:
        for problem in error.problems:
            io.error(problem)
        io.summary(report.failure_markdown(error))
        return 1, None
    except Exception as bug:  # noqa: BLE001 - the last line of defence: say it is a bug
        with io.group("Internal error details"):
            io.info(traceback.format_exc())
        io.error(Problem(f"internal error {type(bug).__name__}: {bug}", "lambda-deploy", BUG_REPORT))
        return 2, None
    return 0, result
