"""The pipeline: settings -> state -> artifact -> plan -> execute | dry-run -> report.

Contract: ``deploy(settings, gateway, io)`` runs the stages in order, each inside a
log group and timed; ``main(inputs, env, io)`` is what the action and the CLI both
call. It returns the exit code: 0 done, 1 a ``DeployError`` (shown as errors, never
a traceback), 2 a bug in lambda-deploy. Nothing mutating happens before the plan
exists, so every input problem is reported before AWS changes.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from types import FrameType

from . import report
from .aws import Services, Wants, WebIdentity, remember_secrets
from .errors import Cancelled, DeployError, Problem, RunnerFileError
from .executor import DryRunExecutor, Executor, Outcome
from .github import Reporter
from .health import HealthGate
from .images import pinned
from .limits import DIRECT_UPLOAD_BYTES, MB, UNZIPPED_BYTES
from .model import AliasState, FunctionState, Plan, Preview, Result, RolloutOutcome
from .oidc import fetch_id_token
from .ownership import choose_preview_alias, owner_of, owns
from .package import Artifact, build_artifact, located
from .planner import make_cleanup_plan, make_plan, routes_by_weight
from .pr_comment import CommentError, post_preview_comment
from .rollout import HOOK_PREFIX, Clock, RolloutContext, SystemClock, Traffic, busy_group, function_name_of
from .settings import OidcCredentials, Settings, load_settings

Connect = Callable[[Settings, Reporter], Services]
BUG_REPORT = "this is a bug in lambda-deploy, not in your inputs; please report it with this log"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def connect_to_aws(settings: Settings, io: Reporter) -> Services:
    return connect(settings.region, settings.wait_timeout, settings.credentials, io)


def connect(region: str, wait_timeout: float, credentials: OidcCredentials | None, io: Reporter) -> Services:
    """The AWS services for ``region``, with the ambient credentials or ``role-to-assume``'s."""
    return Services.connect(region, wait_timeout, log=io.info, identity=web_identity(credentials, io), mask=io.mask)


def web_identity(oidc: OidcCredentials | None, io: Reporter) -> WebIdentity | None:
    """``role-to-assume``: GitHub's OIDC token, fetched (and masked) whenever botocore needs one."""
    if oidc is None:
        return None

    def token() -> str:
        value = fetch_id_token(oidc.request_url, oidc.request_token, oidc.audience)
        io.mask(value)
        return value

    return WebIdentity(oidc.role_arn, oidc.session_name, oidc.duration, token)


@contextmanager
def on_stop_signals(handler: Callable[[str], None]) -> Iterator[None]:
    """Call ``handler`` with the signal's name on SIGTERM (the runner cancelling the job)
    or SIGINT while the block runs, then put the old handlers back. Only the main thread
    receives signals, so elsewhere (a fleet's worker) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        handler(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def cancel_on_signals() -> Iterator[None]:
    """Turn the runner's SIGTERM (or a Ctrl-C) into ``Cancelled`` so a rollout can restore
    the alias. Only the first signal raises: a second one must not interrupt the rollback."""
    fired = False

    def cancel(name: str) -> None:
        nonlocal fired
        if not fired:
            fired = True
            raise Cancelled(name)

    with on_stop_signals(cancel):
        yield


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


def _traffic(settings: Settings, services: Services, clock: Clock, log: Callable[[str], None]) -> Traffic:
    rollout = settings.rollout
    gate = HealthGate(
        services.cloudwatch,
        settings.function_name,
        settings.alias,
        rollout.alarms,
        rollout.max_error_rate,
        rollout.min_invocations,
        clock.now,
    )
    context = RolloutContext(settings.function_name, rollout.health_interval, settings.wait_timeout, settings.git.run_id)
    # With CodeDeploy, the alarms travel with the deployment and CodeDeploy acts on them;
    # the action itself watches only the error rate while it follows the deployment.
    rate_gate = (
        HealthGate(
            services.cloudwatch, settings.function_name, settings.alias, (), rollout.max_error_rate, rollout.min_invocations, clock.now
        )
        if rollout.engine == "codedeploy" and rollout.max_error_rate is not None
        else None
    )
    return Traffic(services.lambda_, services.codedeploy, gate, context, clock, log, rate_gate)


def _preflight(settings: Settings, services: Services, io: Reporter) -> None:
    """Read-only checks of what the rollout will rely on, before anything moves."""
    rollout = settings.rollout
    if rollout.alarms:
        states = services.cloudwatch.alarm_states(rollout.alarms)
        io.info("alarms: " + ", ".join(f"{name} {state}" for name, state in states.items()))
        firing = ", ".join(sorted(name for name, state in states.items() if state == "ALARM"))
        if firing and rollout.command == "promote":
            raise DeployError.about(
                "alarms",
                f"refusing to promote while alarm {firing} is in ALARM",
                "roll the canary back with 'command: rollback', or promote once the alarm is OK",
            )
        if firing and rollout.command == "deploy":
            # The gate would fail at once and blame the new version; start from a quiet baseline.
            raise DeployError.about(
                "alarms",
                f"alarm {firing} is already in ALARM before anything moved; nothing was changed",
                "deploy once the alarm is back to OK, or leave it out of alarms if it is unrelated",
            )
    if rollout.engine == "codedeploy" and rollout.command == "deploy":
        _preflight_codedeploy(settings, services, io)
    if rollout.engine == "codedeploy" and rollout.command in ("promote", "rollback"):
        _refuse_while_codedeploy_shifts(settings, services)


def _refuse_while_codedeploy_shifts(settings: Settings, services: Services) -> None:
    """CodeDeploy moves the alias itself while a deployment runs: a hand on it now would fight that deployment."""
    rollout = settings.rollout
    if active := services.codedeploy.active(rollout.codedeploy_application or "", rollout.codedeploy_group or ""):
        raise DeployError.about(
            "command",
            f"refusing to {rollout.command} alias '{settings.alias}' while {active[0].describe()} shifts it; nothing was changed",
            f"let the deployment finish, or stop it with its automatic rollback: aws deploy stop-deployment --deployment-id "
            f"{active[0].id} --auto-rollback-enabled",
        )


def _preflight_codedeploy(settings: Settings, services: Services, io: Reporter) -> None:
    """The deployment group must run Lambda deployments; what would make the hand-off fail
    later, or leave a failure unrolled-back, is said now."""
    rollout = settings.rollout
    application, group_name = rollout.codedeploy_application or "", rollout.codedeploy_group or ""
    group = services.codedeploy.group(application, group_name)
    if active := services.codedeploy.active(application, group_name):
        raise busy_group(group_name, active[0], "nothing was published and the alias was not moved")
    if group.compute_platform != "Lambda":
        raise DeployError.of(
            f"CodeDeploy deployment group '{group_name}' of application '{application}' is for the "
            f"'{group.compute_platform or 'unknown'}' compute platform, not Lambda; nothing was changed",
            "inputs 'codedeploy-application' / 'codedeploy-group'",
            "name an application created with compute platform Lambda, and its deployment group",
        )
    if not group.rollback_events:
        io.warning(
            f"CodeDeploy deployment group '{group_name}' does not roll back by itself. lambda-deploy asks this deployment to "
            "roll back on failure, alarm and stop, and moves the alias back itself if no rollback happens; enable automatic "
            "rollback on the group too, for deployments started elsewhere"
        )
    for input_id, hook in (("before-traffic-hook", rollout.before_traffic_hook), ("after-traffic-hook", rollout.after_traffic_hook)):
        if hook and not function_name_of(hook).startswith(HOOK_PREFIX):
            io.warning(
                f"{input_id} '{hook}' does not start with {HOOK_PREFIX}: the managed policy AWSCodeDeployRoleForLambda lets "
                f"CodeDeploy invoke only functions named {HOOK_PREFIX}*, so the deployment would fail unless the group's "
                "service role may invoke this function (lambda:InvokeFunction on it)"
            )


def _read_state(settings: Settings, services: Services, io: Reporter) -> FunctionState:
    cleanup = settings.command == "cleanup"
    rollout = settings.rollout
    wants = Wants(
        aliases=settings.keep_versions > 0 or cleanup,
        url=settings.function_url != "none" or cleanup,
        # A rollout onto an alias with provisioned concurrency (set here or by hand) waits for READY.
        provisioned=settings.command == "deploy" and (routes_by_weight(rollout) or rollout.provisioned_concurrency is not None),
        previous=rollout.previous_alias,
        code_signing=settings.command == "deploy" and settings.function.code_signing is not None,
    )
    state = services.lambda_.read_state(settings.function_name, settings.alias, wants)
    # Values read back are as secret as the ones given: no message from AWS may show them.
    remember_secrets(value for config in (state.latest, state.serving, state.published) if config for value in config.environment.values())
    if state.latest is None:
        if not cleanup:
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
    _preflight(settings, services, io)
    return state


def _command(settings: Settings, state: FunctionState, services: Services, traffic: Traffic, io: Reporter) -> RolloutOutcome | None:
    """``promote`` or ``rollback`` of the alias's canary; None in a dry run."""
    alias = state.alias
    command = settings.rollout.command
    if state.latest is None or alias is None:
        raise DeployError.about(
            "alias",
            f"cannot {command}: alias '{settings.alias}' of function '{settings.function_name}' does not exist",
            "check function-name, alias and aws-region",
        )
    to_version = settings.rollout.to_version
    if settings.rollout.to_alias is not None:
        to_version = _version_of(services, settings, settings.rollout.to_alias)
        io.info(f"alias {settings.rollout.to_alias} points at version {to_version}")
    if alias.canary is None and (command == "promote" or to_version is None):
        raise _no_canary(alias, command)
    if to_version is not None:
        _check_version_exists(services, settings, to_version)
    canary = alias.canary[0] if alias.canary else alias.version
    target = canary if command == "promote" else (to_version or alias.version)
    if settings.dry_run:
        io.info(f"would point alias {alias.name} wholly at version {target} and clear its weights")
        return None
    return traffic.finish(alias, target, command)


def _no_canary(alias: AliasState, command: str) -> DeployError:
    hint = "deploy with canary-weight first" if command == "promote" else "give to-version to point the alias at a given version"
    return DeployError.about(
        "command",
        f"cannot {command}: no canary is in progress on alias '{alias.name}' (it points wholly at version {alias.version})",
        hint,
    )


def _version_of(services: Services, settings: Settings, name: str) -> str:
    """Blue/green: the version that an alias (such as previous) points at."""
    found = services.lambda_.get_alias(settings.function_name, name)
    if found is None:
        raise DeployError.about(
            "to-version",
            f"alias '{name}' of function '{settings.function_name}' does not exist",
            "deploy with previous-alias first, or give a version number",
        )
    return found.version


def _check_version_exists(services: Services, settings: Settings, version: str) -> None:
    if not services.lambda_.version_exists(settings.function_name, version):
        raise DeployError.about(
            "to-version",
            f"version {version} of function '{settings.function_name}' does not exist",
            "give a published version number (see the function's Versions tab)",
        )


def _command_plan(settings: Settings, state: FunctionState) -> Plan:
    previous = state.alias.version if state.alias else ""
    code = state.latest.code_sha256 if state.latest else ""
    return Plan(settings.function_name, settings.alias, (), code, code, (), previous, previous)


def claim_preview_alias(settings: Settings, services: Services, io: Reporter) -> Settings:
    """A derived (preview) alias: the one this pull request or branch owns, else the derived
    name when it is free, else a distinct fallback (``ownership.choose_preview_alias``).
    A cleanup claims nothing: it removes every alias this preview owns (``_previews_to_remove``)."""
    owner = settings.owner
    if not settings.alias_derived or owner is None or settings.command == "cleanup":  # a cleanup removes every alias it owns
        return settings
    base, fallback = settings.alias, owner.fallback(settings.alias)
    existing = {name: services.lambda_.get_alias(settings.function_name, name) for name in (base, fallback)}
    reserved = frozenset(name for name in (settings.rollout.previous_alias,) if name)
    chosen = choose_preview_alias(base, owner, existing, reserved)
    if chosen != base:
        taken = existing[base]
        whose = owner_of(taken) if taken is not None else "the previous-alias"
        io.notice(f"alias {base} is {whose}, not the preview of {owner.describe()}; this preview uses alias {chosen}")
    return replace(settings, alias=chosen)


def deploy(settings: Settings, services: Services, io: Reporter, clock: Clock | None = None) -> Result:
    clock = clock or SystemClock()
    remember_secrets((settings.function.environment or {}).values())
    stages = _Stages(io, time.monotonic)  # stage times are reported in real time
    # Package first when the function's state cannot change the package (no requirements to
    # vendor for its runtime): a package that is too big then fails before any AWS call.
    early = (
        settings.command == "deploy"
        and settings.code.kind == "package"
        and (settings.requirements is None or bool(settings.function.runtime and settings.function.architecture))
    )
    artifact = _package(settings, None, stages, io) if early else None
    with stages.stage("Read current state"):
        settings = claim_preview_alias(settings, services, io)
        state = _read_state(settings, services, io)
    traffic = _traffic(settings, services, clock, io.info)
    if settings.command in ("promote", "rollback"):
        with stages.stage(settings.command.capitalize()):
            rollout = _command(settings, state, services, traffic, io)
        plan = _command_plan(settings, state)
        arn = state.latest.unqualified_arn if state.latest else ""
        outcome = Outcome(arn, plan.previous_version, state.alias.arn if state.alias else "", rollout)
        return _result(settings, plan, outcome, plan.code_after, services, stages)
    if settings.command == "cleanup":
        return _cleanup(settings, state, services, traffic, io, stages)
    if artifact is None:
        artifact = _package(settings, state, stages, io) if settings.code.kind == "package" else _locate(settings, services, stages, io)
    with stages.stage("Plan"):
        plan = make_plan(settings, artifact.sha256, state)
        for step in plan.steps:
            io.info(step.describe())
    with stages.stage("Dry run" if settings.dry_run else "Deploy"):
        executor = DryRunExecutor(state, io.info) if settings.dry_run else Executor(services, traffic, artifact, state, io.info)
        outcome = executor.run(plan)
        _report_lifecycle(settings, outcome, io)
    result = _result(settings, plan, outcome, artifact.sha256, services, stages)
    if settings.diff and state.latest is not None and artifact.zip_bytes and plan.code_before != plan.code_after:
        from .commands.diff import compare_files, live_package

        location = services.lambda_.code_location(settings.function_name).get("Location")
        if location:
            found = compare_files(live_package(str(location)), artifact.zip_bytes)
            result = replace(result, files=(found.added, found.removed, found.changed))
    return result


def _locate(settings: Settings, services: Services, stages: _Stages, io: Reporter) -> Artifact:
    """Code that is already where Lambda takes it from: its hash as Lambda will report it."""
    code = settings.code
    with stages.stage("Resolve the artifact"):
        if code.image_uri:
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


def _package(settings: Settings, state: FunctionState | None, stages: _Stages, io: Reporter) -> Artifact:
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


def _cleanup(settings: Settings, state: FunctionState, services: Services, traffic: Traffic, io: Reporter, stages: _Stages) -> Result:
    """``command: cleanup``: remove the preview aliases, their URLs and permissions, then prune."""
    with stages.stage("Plan"):
        if state.latest is None:
            io.notice(f"function {settings.function_name} does not exist: there is nothing to clean up")
        previews = _previews_to_remove(settings, state, services, io)
        plan = make_cleanup_plan(settings, state, previews)
        for step in plan.steps:
            io.info(step.describe())
    with stages.stage("Dry run" if settings.dry_run else "Clean up"):
        executor = DryRunExecutor(state, io.info) if settings.dry_run else Executor(services, traffic, None, state, io.info)
        outcome = executor.run(plan)
        _report_lifecycle(settings, outcome, io)
    # The aliases are gone: no version or alias ARN to report, only what was removed.
    removed = Outcome(outcome.function_arn, "", "", None, outcome.function_url, outcome.pruned)
    result = _result(settings, plan, removed, plan.code_after, services, stages)
    gone = tuple((p.name, p.alias.version) for p in previews if p.alias is not None)
    for name, version in gone:
        io.info(f"{'would remove' if settings.dry_run else 'removed'} alias {name} (it pointed at version {version})")
    return replace(result, removed=gone)


def _previews_to_remove(settings: Settings, state: FunctionState, services: Services, io: Reporter) -> tuple[Preview, ...]:
    """A derived (preview) cleanup removes every alias marked as this pull request's (or branch's)
    preview, whatever branch name made it; a named alias is that alias alone (refused by the plan
    if it is not a preview this run may remove). What is already gone is a notice."""
    named = Preview(settings.alias, state.alias, state.lifecycle.url, state.lifecycle.statements)
    if state.latest is not None and state.alias is None:
        io.notice(f"alias {settings.alias} does not exist (already removed?); removing only what is left of it")
    if not (settings.alias_derived and settings.owner is not None):
        return (named,) if state.latest is not None else ()
    owner = settings.owner
    owned = [alias for alias in state.lifecycle.aliases if owns(owner, alias)]
    if state.alias is not None and not owns(owner, state.alias):
        io.notice(f"alias {settings.alias} is {owner_of(state.alias)}, not the preview of {owner.describe()}: it is left alone")
    if not owned:
        io.notice(f"no alias of function {settings.function_name} is the preview of {owner.describe()}: there is nothing to remove")
    previews = [named if alias.name == settings.alias else _preview_parts(services, settings.function_name, alias) for alias in owned]
    if state.alias is None and (named.url is not None or named.statements):  # what a half-finished cleanup left
        previews.append(named)
    return tuple(previews)


def _preview_parts(services: Services, function_name: str, alias: AliasState) -> Preview:
    gateway = services.lambda_
    return Preview(alias.name, alias, gateway.function_url(function_name, alias.name), gateway.url_statements(function_name, alias.name))


def _report_lifecycle(settings: Settings, outcome: Outcome, io: Reporter) -> None:
    if settings.function.reserved_concurrency == 0 and settings.command == "deploy":
        io.warning(f"reserved concurrency 0 throttles every invocation of {settings.function_name}")
    if settings.function_url == "public" and settings.command == "deploy":
        io.warning(f"the function URL of alias {settings.alias} is public: anyone on the internet can call it ({outcome.function_url})")
    for version, reason in outcome.pruned.skipped:
        if reason == "already deleted":
            io.info(f"version {version} was already deleted")
        else:
            io.warning(f"version {version} was kept: {reason}")


def _result(settings: Settings, plan: Plan, outcome: Outcome, code_sha256: str, services: Services, stages: _Stages) -> Result:
    rollout = outcome.rollout
    if settings.dry_run:
        status = "planned"
    elif settings.command == "cleanup":
        status = "cleaned-up"
    elif rollout is not None:
        status = rollout.status
    else:
        status = "deployed" if plan.mutates else "unchanged"
    return Result(
        status=status,
        function_arn=outcome.function_arn,
        version=rollout.version if rollout else outcome.version,
        previous_version=plan.previous_version,
        alias=settings.alias,
        alias_arn=outcome.alias_arn,
        code_sha256=code_sha256,
        changed=plan.publishes and not settings.dry_run,
        plan=plan,
        calls=services.calls.snapshot(),
        timings=tuple(stages.timings),
        rollout=rollout,
        function_url=outcome.function_url,
        pruned=outcome.pruned,
        previous_alias=outcome.previous_alias,
        artifact=describe_artifact(settings),
    )


def describe_artifact(settings: Settings) -> str:
    code = settings.code
    if code.image_uri:
        return code.image_uri
    if code.s3_key:
        return f"s3://{settings.s3_bucket}/{code.s3_key}" + (f" (version {code.s3_object_version})" if code.s3_object_version else "")
    return ""


DIFF_COMMENT_TITLE = "What merging this would change in production"


def comment_on_pull_request(settings: Settings, result: Result, io: Reporter, diff_body: str = "") -> None:
    """The pull request's preview comment (or, for ``command: diff``, the comment saying what
    merging would change), another reporter beside the summary. It never fails the deploy:
    what goes wrong is a warning that names the fix."""
    if settings.comment_skipped:
        io.notice(settings.comment_skipped)
    target = settings.comment
    if target is None or (result.status == "planned" and not diff_body):
        return
    git = settings.git
    run_url = f"{git.server_url}/{git.repository}/actions/runs/{git.run_id}" if git.server_url and git.run_id else ""
    marker = report.comment_marker(result.plan.function_name, result.alias)
    if diff_body:
        marker = marker.replace("preview:", "diff:")
        body = f"{diff_body}\n\n<sub>lambda-deploy{f', [run]({run_url})' if run_url else ''}</sub>\n{marker}"
    else:
        body = report.comment_markdown(result, git.sha, run_url)
    try:
        posted = post_preview_comment(target, body, marker)
    except CommentError as error:
        hint = (
            "give the job 'permissions: pull-requests: write' (a pull request from a fork only gets a read-only token)"
            if error.status in (401, 403, 404)
            else "the deploy itself is done; the comment is tried again on the next run"
        )
        io.warning(f"could not comment on pull request #{target.number}: {error}. {hint}")
        return
    for other in posted.ignored:
        io.info(f"{other} carries lambda-deploy's marker but was not written with this token: left alone")
    io.info(f"preview comment {posted.done} on pull request #{target.number}")


@dataclass(frozen=True)
class Ended:
    """How one function's run ended: the exit code it stands for, its result, its problems."""

    code: int  # 0 done, 1 a deploy or input error, 2 a bug in lambda-deploy
    result: Result | None
    problems: tuple[Problem, ...] = ()


def bug(io: Reporter) -> Ended:
    """The last line of defence, inside an ``except``: say it is a bug, with the traceback."""
    kind, value, _ = sys.exc_info()
    with io.group("Internal error details"):
        io.info(traceback.format_exc())
    problem = Problem(f"internal error {kind.__name__ if kind else 'Exception'}: {value}", "lambda-deploy", BUG_REPORT)
    io.error(problem)
    return Ended(2, None, (problem,))


def run(settings: Settings, io: Reporter, connect: Connect = connect_to_aws, clock: Clock | None = None) -> Ended:
    """One function's deploy (or command) with every way it can end turned into an exit code;
    problems are reported on ``io`` as they happen. The fleet runs this for each function."""
    try:
        with cancel_on_signals():
            result = deploy(settings, connect(settings, io), io, clock)
    except DeployError as error:
        for problem in error.problems:
            io.error(problem)
        return Ended(1, None, error.problems)
    except Cancelled as signal_name:
        problem = Problem(f"cancelled by {signal_name} before any traffic moved; the alias was not changed by this run", "lambda-deploy")
        io.error(problem)
        return Ended(1, None, (problem,))
    except Exception:  # noqa: BLE001 - a bug, reported as one
        return bug(io)
    if result.rollout is not None and result.failed:
        problem = Problem(f"{result.status}: {result.rollout.reason}", f"alias '{result.alias}'")
        io.error(problem)
        return Ended(1, result, (problem,))
    return Ended(0, result)


def main(
    inputs: Mapping[str, str], env: Mapping[str, str], io: Reporter, connect: Connect = connect_to_aws, clock: Clock | None = None
) -> tuple[int, Result | None]:
    """Run one deploy end to end; returns the exit code and the result, if any."""
    try:
        settings = load_settings(inputs, env)
    except DeployError as error:
        for problem in error.problems:
            io.error(problem)
        io.summary(report.failure_markdown(error))
        return 1, None
    for secret in settings.secrets:
        io.mask(secret)
    ended = run(settings, io, connect, clock)
    try:
        report_ended(settings, ended, io)
    except RunnerFileError as error:
        done = f"; what this run did stands: {report.one_line(ended.result)}" if ended.result else ""
        io.error(replace(error.problems[0], what=error.problems[0].what + done))
        return 1, ended.result
    except Exception:  # noqa: BLE001 - writing the outputs failed: a bug, reported as one
        return bug(io).code, None
    return ended.code, ended.result


def report_ended(settings: Settings, ended: Ended, io: Reporter) -> None:
    """Summary, the pull-request comment, then the outputs, for one function's run: outputs
    last, so that a runner file that cannot be written stops nothing else from being said."""
    result = ended.result
    if result is not None and settings.diff:
        from .commands import diff

        difference = diff.of(result)
        io.summary(diff.markdown(difference))
        comment_on_pull_request(settings, result, io, diff.markdown(difference, DIFF_COMMENT_TITLE))
        io.outputs({**report.outputs(result), "changed": "true" if difference.differs else "false"})
    elif result is not None:
        io.summary(report.markdown(result))
        comment_on_pull_request(settings, result, io)
        io.outputs(report.outputs(result))
    elif ended.code == 1:
        io.summary(report.failure_markdown(DeployError(*ended.problems)))
