"""The engine: settings -> state -> artifact -> plan -> execute | dry-run -> result.

Contract: ``deploy(settings, services, io, clock)`` runs one function's command through the
stages, each in a log group and timed, once for every command: read the state (a preview
first claims its alias; then the read-only ``preflight``), package or locate the code (a
deploy only), plan by the command (``make_plan``; ``make_finish_plan`` for promote and
rollback; ``make_cleanup_plan``), then walk the plan with the ``Executor`` or, in a dry run,
the ``DryRunExecutor``, and return the ``Result``. ``prepare`` stops once the plan exists
(what ``diff`` renders). Nothing mutating happens before the plan exists, so every input
problem and every refusal is said before AWS changes.

``run(settings, io, connect, clock, work)`` is one function's run with every way it can end
turned into an ``Ended`` (0 done, 1 a ``DeployError`` or a cancel, 2 a bug, with its
traceback); the commands and the fleet run it, and report what it says.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Generic, TypeVar

from .analysis import Analysis
from .aws import Connector, Services, Wants, remember_secrets
from .errors import Cancelled, DeployError, Problem
from .executor import DryRunExecutor, Executor, Outcome
from .github import Reporter
from .health import HealthGate
from .images import pinned
from .limits import DIRECT_UPLOAD_BYTES, MB, UNZIPPED_BYTES
from .livecode import compare_files, live_package
from .model import Command, DeleteAlias, FunctionState, Plan, Result
from .oidc import web_identity
from .package import Artifact, build_artifact, located
from .planner import TAG_PREFIX, make_cleanup_plan, make_finish_plan, make_plan, routes_by_weight
from .preflight import preflight
from .previews import claim_preview_alias, previews_to_remove
from .rollout import Clock, RolloutContext, SystemClock, Traffic
from .settings import Settings
from .settings.code import IMAGE_REGION_HINT, image_region_problem
from .signals import cancel_on_signals

T = TypeVar("T")
Connect = Callable[[Settings, Reporter], Services]
Work = Callable[[Settings, Services, Reporter, "Clock | None"], T]
BUG_REPORT = "this is a bug in lambda-deploy, not in your inputs; please report it with this log"


class Stages:
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


def health_gate(settings: Settings, services: Services, now: Callable[[], datetime], analysis: Analysis | None = None) -> HealthGate:
    """The health gates these settings ask for, on the alias: alarms, ``max-error-rate`` and,
    with ``analysis``, the new version judged against the stable one (only while both serve)."""
    rollout = settings.rollout
    return HealthGate(
        services.cloudwatch,
        settings.function_name,
        settings.alias,
        rollout.alarms,
        rollout.max_error_rate,
        rollout.min_invocations,
        now,
        analysis,
    )


def traffic(settings: Settings, services: Services, clock: Clock, log: Callable[[str], None], log_group: str = "") -> Traffic:
    """How the alias moves, under which gates; ``log_group`` is where a rollout reads its cold starts."""
    rollout = settings.rollout
    gate = health_gate(settings, services, clock.now, rollout.analysis)
    context = RolloutContext(settings.function_name, rollout.health_interval, settings.wait_timeout, settings.git.run_id, log_group)
    # With CodeDeploy, the alarms travel with the deployment and CodeDeploy acts on them;
    # the action itself watches the error rate and the canary analysis while it follows.
    watched = rollout.max_error_rate is not None or rollout.analysis.on
    rate_gate = (
        HealthGate(
            services.cloudwatch,
            settings.function_name,
            settings.alias,
            (),
            rollout.max_error_rate,
            rollout.min_invocations,
            clock.now,
            rollout.analysis,
        )
        if rollout.engine == "codedeploy" and watched
        else None
    )
    return Traffic(services.lambda_, services.codedeploy, gate, context, clock, log, rate_gate, services.logs)


def read_state(settings: Settings, services: Services, io: Reporter) -> FunctionState:
    cleanup = settings.command is Command.CLEANUP
    rollout = settings.rollout
    wants = Wants(
        aliases=settings.keep_versions > 0 or cleanup,
        url=settings.function_url != "none" or cleanup,
        # A rollout onto an alias with provisioned concurrency (set here or by hand) waits for READY.
        provisioned=settings.ships_code and (routes_by_weight(rollout) or rollout.provisioned_concurrency is not None),
        previous=rollout.previous_alias,
        code_signing=settings.ships_code and settings.function.code_signing is not None,
        rollback_to=rollout.to_alias if settings.command is Command.ROLLBACK else None,
    )
    state = services.lambda_.read_state(settings.function_name, settings.alias, wants)
    # Values read back are as secret as the ones given: no message from AWS may show them.
    remember_secrets(value for config in (state.latest, state.serving, state.published) if config for value in config.environment.values())
    if state.latest is None:
        if settings.ships_code:
            io.info(f"function {settings.function_name} does not exist yet; it will be created")
    else:
        published = state.published.version if state.published else "none"
        io.info(f"$LATEST code {state.latest.code_sha256}, newest published version {published}")
        alias = state.alias
        where = (
            "does not exist yet"
            if alias is None
            else f"→ {alias.version}" + (f" (+{alias.canary[1]:.0%} on {alias.canary[0]})" if alias.canary else "")
        )
        io.info(f"alias {settings.alias}: {where}")
    preflight(settings, services, io)
    return state


@dataclass(frozen=True)
class Prepared:
    """A function's run up to its plan: what ``diff`` renders, and what ``deploy`` executes."""

    settings: Settings  # with a preview's claimed alias
    state: FunctionState
    artifact: Artifact | None  # None for the commands that ship no code
    plan: Plan
    stages: Stages


def connect_with(connector: Connector) -> Connect:
    """How each function of a run reaches AWS: its region, its wait, its role (GitHub's OIDC
    token for role-to-assume), through the run's one ``Connector``."""

    def connect(settings: Settings, io: Reporter) -> Services:
        return connector.services(settings.region, settings.wait_timeout, web_identity(settings.credentials, io.mask), io.info)

    return connect


class Packages:
    """Each function's package, built once for the whole run: every target of a wave, and every
    wave, ships the same bytes (one CodeSha256). Thread-safe: targets deploy in parallel, and
    the first to need a function's package builds it while the others wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._built: dict[str, Artifact] = {}
        self._images: dict[str, str] = {}

    def pin_image(self, function_name: str, digest: str) -> None:
        """The image digest every target of ``function_name`` deploys, resolved once before the
        first wave: a tag pushed during a bake cannot send another image to the later waves."""
        with self._lock:
            self._images[function_name] = digest

    def image(self, function_name: str) -> str | None:
        with self._lock:
            return self._images.get(function_name)

    def get(self, function_name: str, build: Callable[[], Artifact], io: Reporter) -> Artifact:
        with self._lock:
            lock = self._locks.setdefault(function_name, threading.Lock())
        with lock:
            built = self._built.get(function_name)
            if built is not None:
                io.info(f"the run's package of {function_name}: {built.file_count} files, CodeSha256 {built.sha256} (built once)")
                return built
            self._built[function_name] = artifact = build()
            return artifact


def prepare(settings: Settings, services: Services, io: Reporter, clock: Clock | None = None, packages: Packages | None = None) -> Prepared:
    """Read, package (a deploy; once per run with ``packages``), and plan by the command; nothing is changed."""
    if settings.templated:  # a bucket or role per region (and account): this target's
        settings = settings.filled(settings.region, services.identity.account)
    remember_secrets((settings.function.environment or {}).values())
    stages = Stages(io, time.monotonic)  # stage times are reported in real time
    deploying = settings.ships_code
    # Package first when the function's state cannot change the package (no requirements to
    # vendor for its runtime): a package that is too big then fails before any AWS call.
    early = (
        deploying
        and settings.code.kind == "package"
        and (settings.requirements is None or bool(settings.function.runtime and settings.function.architecture))
    )
    packages = packages or Packages()
    artifact = packages.get(settings.function_name, lambda: _package(settings, None, stages, io), io) if early else None
    with stages.stage("Read current state"):
        settings = claim_preview_alias(settings, services, io)
        state = read_state(settings, services, io)
    if deploying and artifact is None:
        if settings.code.kind == "package":
            artifact = packages.get(settings.function_name, lambda: _package(settings, state, stages, io), io)
        else:
            artifact = _locate(settings, services, stages, io, packages.image(settings.function_name))
    if artifact is not None and _same_files_as_adopted(settings, state, artifact, services, io):
        artifact = replace(artifact, sha256=state.latest.code_sha256 if state.latest else artifact.sha256)
    with stages.stage("Plan"):
        match settings.command:
            case Command.PROMOTE | Command.ROLLBACK:
                plan = make_finish_plan(settings, state)
            case Command.CLEANUP:
                if state.latest is None:
                    io.notice(f"function {settings.function_name} does not exist: there is nothing to clean up")
                plan = make_cleanup_plan(settings, state, previews_to_remove(settings, state, services, io))
            case _:
                plan = make_plan(settings, artifact.sha256 if artifact else "", state)
        for step in plan.steps:
            io.info(step.describe())
    return Prepared(settings, state, artifact, plan, stages)


def deploy(settings: Settings, services: Services, io: Reporter, clock: Clock | None = None, packages: Packages | None = None) -> Result:
    """One function's command, end to end: ``prepare``, then the plan walked (or, in a dry run, rendered)."""
    prepared = prepare(settings, services, io, clock, packages)
    settings, state, plan, stages = prepared.settings, prepared.state, prepared.plan, prepared.stages
    latest = state.latest
    log_group = str((latest.raw.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{latest.name}") if latest else ""
    moving = traffic(settings, services, clock or SystemClock(), io.info, log_group)
    titles = {Command.CLEANUP: "Clean up", Command.PROMOTE: "Promote", Command.ROLLBACK: "Roll back"}
    title = titles.get(settings.command, "Deploy")
    with stages.stage("Dry run" if settings.dry_run else title):
        executor = DryRunExecutor(state, io.info) if settings.dry_run else Executor(services, moving, prepared.artifact, state, io.info)
        outcome = executor.run(plan)
        _report_lifecycle(settings, plan, outcome, io)
    return _result(settings, prepared, outcome, services)


def _same_files_as_adopted(settings: Settings, state: FunctionState, artifact: Artifact, services: Services, io: Reporter) -> bool:
    """True when a function lambda-deploy has never deployed (no tag of ours) runs this package's
    very files in other zip bytes (a console upload, ``init --download-code``): its code is then
    left as it is. The live package is read only then: an ordinary deploy pays nothing."""
    latest = state.latest
    if latest is None or not artifact.zip_bytes or artifact.location is not None or latest.code_sha256 == artifact.sha256:
        return False
    if any(tag.startswith(TAG_PREFIX) for tag in state.tags) or latest.package_type != "Zip":
        return False
    location = services.lambda_.code_location(settings.function_name).get("Location")
    if not location:
        return False
    try:
        files = compare_files(live_package(str(location)), artifact.zip_bytes)
    except DeployError as error:  # only a saving is lost: the package is uploaded as for any code change
        io.info(f"{error.problems[0].what}; the package is uploaded")
        return False
    if files.any:
        return False
    io.info(f"the live code holds this package's {artifact.file_count} files in other zip bytes: the code is left as it is")
    return True


def _locate(settings: Settings, services: Services, stages: Stages, io: Reporter, digest: str | None = None) -> Artifact:
    """Code that is already where Lambda takes it from: its hash as Lambda will report it.
    ``digest``: the image this run resolved once for every target (waves)."""
    code = settings.code
    with stages.stage("Resolve the artifact"):
        if code.image_uri:
            if problem := image_region_problem(code.image_uri, settings.region):  # a target of a wave (diff) that needs {region}
                raise DeployError.about("image-uri", problem, IMAGE_REGION_HINT)
            if digest is None:
                digest = services.ecr.image_digest(code.image_uri)
            # Sent by digest: a tag moved after this read changes nothing of what Lambda pulls.
            exact = pinned(code.image_uri, digest)
            io.info(f"image {code.image_uri}: digest sha256:{digest}; deployed as {exact}")
            return located({"ImageUri": exact}, digest, "image")
        bucket, key = settings.s3_bucket or "", code.s3_key or ""
        location = {"S3Bucket": bucket, "S3Key": key, **({"S3ObjectVersion": code.s3_object_version} if code.s3_object_version else {})}
        sha256 = services.s3.object_sha256(bucket, key, code.s3_object_version)
        io.info(f"s3://{bucket}/{key}{f' version {code.s3_object_version}' if code.s3_object_version else ''}: CodeSha256 {sha256}")
        return located(location, sha256, "s3 object")


def _package(settings: Settings, state: FunctionState | None, stages: Stages, io: Reporter) -> Artifact:
    with stages.stage("Package"):
        wanted, latest = settings.function, state.latest if state else None
        runtime = wanted.runtime or (latest.runtime if latest else "")
        architecture = wanted.architecture or (latest.architecture if latest else "x86_64")
        artifact = build_artifact(settings.source, settings.exclude, settings.requirements, runtime, architecture)
        io.info(f"{artifact.kind} {settings.source.name or settings.source}: {artifact.file_count} files, {artifact.size:,} bytes")
        io.info(f"CodeSha256 {artifact.sha256}")
        check_package_size(artifact, settings.s3_bucket)
    return artifact


def check_package_size(artifact: Artifact, bucket: str | None) -> None:
    """Lambda's package limits, before anything is uploaded (Developer Guide, "Lambda quotas")."""
    if artifact.unzipped_size > UNZIPPED_BYTES:
        raise DeployError.about(
            "source",
            f"the package unzips to {artifact.unzipped_size / MB:.1f} MB; Lambda allows {UNZIPPED_BYTES / MB:.0f} MB unzipped "
            "(layers included), uploaded directly or through S3",
            "leave out what the function does not need with exclude, or move dependencies into layers or a container image",
        )
    if artifact.size > DIRECT_UPLOAD_BYTES and not bucket:
        raise DeployError.about(
            "source",
            f"the package is {artifact.size / MB:.1f} MB zipped; Lambda takes at most {DIRECT_UPLOAD_BYTES / MB:.0f} MB uploaded directly",
            "set s3-bucket: the package then goes to S3 and Lambda takes it from there",
        )


def _report_lifecycle(settings: Settings, plan: Plan, outcome: Outcome, io: Reporter) -> None:
    deploying = settings.command is Command.DEPLOY
    if settings.function.reserved_concurrency == 0 and deploying:
        io.warning(f"reserved concurrency 0 throttles every invocation of {settings.function_name}")
    for step in plan.steps:
        if isinstance(step, DeleteAlias):
            io.info(f"{'would remove' if settings.dry_run else 'removed'} alias {step.name} (it pointed at version {step.version})")
    if settings.function_url == "public" and deploying:
        io.warning(f"the function URL of alias {settings.alias} is public: anyone on the internet can call it ({outcome.function_url})")
    for version, reason in outcome.pruned.skipped:
        if reason == "already deleted":
            io.info(f"version {version} was already deleted")
        else:
            io.warning(f"version {version} was kept: {reason}")


def _result(settings: Settings, prepared: Prepared, outcome: Outcome, services: Services) -> Result:
    plan, rollout = prepared.plan, outcome.rollout
    removed = tuple((step.name, step.version) for step in plan.steps if isinstance(step, DeleteAlias))
    if settings.dry_run:
        status = "planned"
    elif settings.command is Command.CLEANUP:
        status = "cleaned-up"
    elif rollout is not None:
        status = rollout.status
    else:
        status = "deployed" if plan.mutates else "unchanged"
    gone = settings.command is Command.CLEANUP  # the aliases are gone: no version or alias ARN to report
    return Result(
        status=status,
        function_arn=outcome.function_arn,
        version="" if gone else rollout.version if rollout else outcome.version,
        previous_version=plan.previous_version,
        alias=settings.alias,
        alias_arn="" if gone else outcome.alias_arn,
        code_sha256=prepared.artifact.sha256 if prepared.artifact else plan.code_after,
        changed=plan.publishes and not settings.dry_run,
        plan=plan,
        calls=services.calls.snapshot(),
        timings=tuple(prepared.stages.timings),
        rollout=rollout,
        function_url=outcome.function_url,
        pruned=outcome.pruned,
        previous_alias=outcome.previous_alias,
        artifact=describe_artifact(settings),
        removed=removed,
    )


def describe_artifact(settings: Settings) -> str:
    code = settings.code
    if code.image_uri:
        return code.image_uri
    if code.s3_key:
        return f"s3://{settings.s3_bucket}/{code.s3_key}" + (f" (version {code.s3_object_version})" if code.s3_object_version else "")
    return ""


@dataclass(frozen=True)
class Ended(Generic[T]):
    """How one function's run ended: the exit code it stands for, what it made, its problems."""

    code: int  # 0 done, 1 a deploy or input error (or a cancel), 2 a bug in lambda-deploy
    value: T | None = None
    problems: tuple[Problem, ...] = ()
    trace: str = ""  # a bug's traceback

    @property
    def result(self) -> T | None:
        return self.value


def run(settings: Settings, io: Reporter, connect: Connect, clock: Clock | None = None, work: Work[T] | None = None) -> Ended[T]:
    """One function's run (``work``: ``deploy`` unless given) with every way it can end turned
    into an ``Ended``; nothing is reported here. A rollout that rolled back is exit 1."""
    act: Work[T] = work or deploy  # type: ignore[assignment]
    try:
        with cancel_on_signals():
            value = act(settings, connect(settings, io), io, clock)
    except DeployError as error:
        return Ended(1, None, error.problems)
    except Cancelled as name:
        return Ended(
            1, None, (Problem(f"cancelled by {name} before any traffic moved; the alias was not changed by this run", "lambda-deploy"),)
        )
    except Exception:  # noqa: BLE001 - a bug, reported as one
        return bug()
    if isinstance(value, Result) and value.rollout is not None and value.failed:
        return Ended(1, value, (Problem(f"{value.status}: {value.rollout.reason}", f"alias '{value.alias}'"),))
    return Ended(0, value)


def bug() -> Ended[T]:
    """Inside an ``except``: the bug as an ``Ended`` that says so, with its traceback."""
    kind, value, _ = sys.exc_info()
    problem = Problem(f"internal error {kind.__name__ if kind else 'Exception'}: {value}", "lambda-deploy", BUG_REPORT)
    return Ended(2, None, (problem,), traceback.format_exc())
