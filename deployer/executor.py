"""Plan -> AWS calls (``Executor``) or -> nothing at all (``DryRunExecutor``).

Contract: both walk the very same ``Plan`` and return an ``Outcome``. The executor
dispatches on step types, chains RevisionId guards from one call to the next, and
turns a failed guard into a ``ConflictError`` that says what was and was not done:
a concurrent change before our publish means nothing of ours was published and the
alias was left alone. A published version is checked to hold the artifact's
CodeSha256 before any alias moves. Any other failure or a cancellation part-way
names the step, the state it leaves the function in and what a re-run will do
(``interruption``). Traffic steps (smoke test, staged shift, canary, CodeDeploy)
are handed to ``rollout.Traffic``; their outcome ends the walk. The dry-run makes no
call of any kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from .aws import Services
from .errors import Cancelled, ConflictError, DeployError, Problem
from .model import (
    FAILED_STATUSES,
    CreateFunction,
    DeleteAlias,
    DeleteFunctionUrl,
    EnsureFunctionUrl,
    FinishCanary,
    FunctionState,
    GrantPublicUrl,
    HandOffToCodeDeploy,
    OpenCanary,
    Plan,
    PointAlias,
    PointPreviousAlias,
    Pruned,
    PruneVersions,
    PublishVersion,
    ReuseVersion,
    RevokeUrlPermissions,
    RolloutOutcome,
    SetCodeSigning,
    SetProvisionedConcurrency,
    SetReservedConcurrency,
    ShiftTraffic,
    SmokeTest,
    Step,
    TagFunction,
    UpdateCode,
    UpdateConfiguration,
    UploadToS3,
)
from .package import Artifact
from .planner import prune_candidates, referenced_versions
from .rollout import Traffic

NEW_VERSION = "(new)"
NEW_URL = "(created on deploy)"


@dataclass(frozen=True)
class Outcome:
    function_arn: str
    version: str
    alias_arn: str
    rollout: RolloutOutcome | None = None  # set when traffic moved by a rollout, or was stopped
    function_url: str = ""
    pruned: Pruned = field(default_factory=Pruned)
    previous_alias: tuple[str, str] | None = None


def _alias_arn(function_arn: str, alias: str) -> str:
    return f"{function_arn}:{alias}" if function_arn else ""


class DryRunExecutor:
    """Renders the plan's consequences without touching AWS."""

    def __init__(self, state: FunctionState, log: Callable[[str], None]) -> None:
        self._state = state
        self._log = log

    def run(self, plan: Plan) -> Outcome:
        for step in plan.steps:
            self._log(f"would {step.describe()}")
        arn = self._state.latest.arn if self._state.latest else ""
        current = self._state.lifecycle.url
        url = NEW_URL if any(isinstance(step, EnsureFunctionUrl) and step.current is None for step in plan.steps) else ""
        pruning = next((step.expected for step in plan.steps if isinstance(step, PruneVersions)), ())
        return Outcome(
            arn,
            plan.reused_version or NEW_VERSION,
            _alias_arn(arn, plan.alias),
            function_url=url or (current.url if current else ""),
            pruned=Pruned(deleted=pruning),
        )


@dataclass
class _Progress:
    """What the walk has established so far (mutable while one plan runs)."""

    arn: str
    revision: str
    version: str
    alias_arn: str
    audit: str
    touched: bool = False  # whether $LATEST changed, so its RevisionId must be re-read
    rollout: RolloutOutcome | None = None
    url: str = ""
    pruned: Pruned = field(default_factory=Pruned)
    previous: tuple[str, str] | None = None
    package: Mapping[str, str] | None = None  # the package's place in S3, once it is there

    def outcome(self) -> Outcome:
        return Outcome(self.arn, self.version, self.alias_arn, self.rollout, self.url, self.pruned, self.previous)


class Executor:
    def __init__(
        self, services: Services, traffic: Traffic, artifact: Artifact | None, state: FunctionState, log: Callable[[str], None]
    ) -> None:
        """``artifact`` is None for plans that upload nothing (cleanup)."""
        self._services = services
        self._aws = services.lambda_
        self._traffic = traffic
        self._artifact = artifact
        self._state = state
        self._log = log

    def run(self, plan: Plan) -> Outcome:
        latest = self._state.latest
        arn = latest.unqualified_arn if latest else ""
        version = plan.reused_version or ""
        progress = _Progress(
            arn=arn,
            revision=latest.revision_id if latest else "",
            version=version,
            alias_arn=self._state.alias.arn if self._state.alias else _alias_arn(arn, plan.alias),
            audit=f"lambda-deploy: version {version}",  # CodeDeploy's description; the publish note when we publish
            url=self._state.lifecycle.url.url if self._state.lifecycle.url else "",
        )
        for index, step in enumerate(plan.steps):
            self._log(step.describe())
            try:
                self._do(step, plan, progress)
            except ConflictError:
                raise  # says itself what was and was not done
            except DeployError as error:
                raise DeployError(*error.problems, interruption(plan, index, progress.version)) from None
            except Cancelled as signal_name:
                cancelled = Problem(f"cancelled by {signal_name}", "lambda-deploy")
                raise DeployError(cancelled, interruption(plan, index, progress.version)) from None
            if progress.rollout is not None and progress.rollout.status in FAILED_STATUSES:
                break  # traffic went back (or was stopped): nothing after it applies
        return progress.outcome()

    def _do(self, step: Step, plan: Plan, progress: _Progress) -> None:
        """Carry out one step, recording what it established in ``progress``."""
        name = plan.function_name
        match step:
            case UploadToS3(bucket=bucket, key=key):
                artifact = self._need_artifact()
                uploaded = self._services.s3.store(bucket, key, artifact.zip_bytes)
                self._log(
                    f"{'uploaded' if uploaded else 'already there, not uploaded again:'} s3://{bucket}/{key} ({artifact.size:,} bytes)"
                )
                progress.package = {"S3Bucket": bucket, "S3Key": key}
            case CreateFunction() | UpdateCode():
                self._upload(step, name, plan, progress)
            case UpdateConfiguration(params=params):
                self._refresh_revision(name, progress)
                with self._guard(name, plan):
                    self._aws.update_configuration(name, params, progress.revision)
                progress.touched = True
            case TagFunction(tags=tags):
                self._aws.tag(progress.arn, tags)
            case PublishVersion(description=description):
                progress.audit = description
                self._refresh_revision(name, progress)
                with self._guard(name, plan):
                    published = self._aws.publish(name, plan.code_after, progress.revision, description)
                progress.version = published.version
                # Trust, then verify: the version must hold this deploy's code before any alias moves.
                if published.code_sha256 != plan.code_after:
                    raise DeployError.of(
                        f"version {published.version} that Lambda just published holds code {published.code_sha256}, "
                        f"not this deploy's {plan.code_after}; alias '{plan.alias}' was left as it was",
                        f"function '{name}'",
                        "check who else deploys this function, then run again",
                    )
                self._log(f"published version {published.version} (CodeSha256 verified)")
            case ReuseVersion(version=reused):
                progress.version = reused
            case PointAlias() as point:
                self._point_alias(point, plan, progress)
            case PointPreviousAlias(name=previous, version=leaving, revision_id=previous_revision):
                try:
                    self._aws.point_alias(name, previous, leaving, previous_revision)
                except ConflictError:
                    raise ConflictError.of(
                        f"alias '{previous}' was changed by someone else; the main alias was not moved",
                        f"input 'previous-alias' ({previous})",
                        "check who else moves it, then run again",
                    ) from None
                progress.previous = (previous, leaving)
            case SetReservedConcurrency(wanted=wanted):
                self._aws.set_reserved(name, wanted)
            case SetCodeSigning(wanted=arn):
                self._aws.set_code_signing(name, arn)
            case SetProvisionedConcurrency(alias=alias, wanted=wanted):
                self._aws.set_provisioned(name, alias, wanted)
            case SmokeTest() | ShiftTraffic() | OpenCanary() | HandOffToCodeDeploy():
                progress.rollout = self._move_traffic(step, plan, progress)
            case FinishCanary() as finish:
                progress.rollout = self._traffic.finish(finish)
                progress.version = progress.rollout.version
            case _:
                self._lifecycle(step, name, progress)

    def _point_alias(self, step: PointAlias, plan: Plan, progress: _Progress) -> None:
        name, alias = plan.function_name, step.name
        try:
            moved = self._aws.point_alias(name, alias, progress.version, step.revision_id, description=step.description)
        except ConflictError:
            raise ConflictError.of(
                f"alias '{alias}' was changed by someone else while we deployed; version {progress.version} is "
                "published but the alias was left as it is",
                f"alias '{alias}'",
                "check who else deploys this function, then run again",
            ) from None
        except DeployError:
            if self._aws.version_exists(name, progress.version):
                raise
            raise self._vanished(plan, progress.version) from None
        progress.alias_arn = moved.arn
        if step.warm:
            self._aws.wait_warm(name, alias)

    def _need_artifact(self) -> Artifact:
        if self._artifact is None:
            raise AssertionError("a plan that uploads code needs an artifact")
        return self._artifact

    def _upload(self, step: CreateFunction | UpdateCode, name: str, plan: Plan, progress: _Progress) -> None:
        artifact = self._need_artifact()
        code = progress.package or artifact.code
        if isinstance(step, CreateFunction):
            created = self._aws.create_function(step.params, code, artifact.sha256)
            progress.arn = created.unqualified_arn
        else:
            with self._guard(name, plan):
                self._aws.update_code(name, code, artifact.sha256, progress.revision, step.architecture)
        progress.touched = True

    def _move_traffic(self, step: Step, plan: Plan, progress: _Progress) -> RolloutOutcome | None:
        """A traffic step's outcome; None when a smoke test passed and the walk goes on."""
        match step:
            case SmokeTest(payload=payload, expect=expect):
                verdict = self._traffic.smoke(progress.version, payload, expect)
                if verdict.healthy:
                    return None
                stable = plan.previous_version
                return RolloutOutcome(
                    "aborted", stable, stable, progress.version, f"smoke test failed, so no traffic moved: {verdict.reason}"
                )
            case ShiftTraffic() as shift:
                return self._traffic.shift(shift, progress.version)
            case OpenCanary() as canary:
                return self._traffic.open_canary(canary, progress.version)
            case HandOffToCodeDeploy() as hand_off:
                return self._traffic.hand_off(hand_off, progress.version, progress.audit)
        raise AssertionError(f"not a traffic step: {step}")

    def _lifecycle(self, step: Step, name: str, progress: _Progress) -> None:
        """The preview's URL and permissions, cleanup, and pruning."""
        match step:
            case EnsureFunctionUrl(alias=alias, auth_type=auth_type, current=current, cors=cors, invoke_mode=mode):
                progress.url = self._aws.ensure_function_url(name, alias, auth_type, current is not None, cors, mode).url
                self._log(f"function URL of alias {alias}: {progress.url}")
            case GrantPublicUrl(alias=alias, statements=statements):
                for statement in statements:
                    self._aws.grant(name, alias, statement)
            case RevokeUrlPermissions(alias=alias, statements=statements):
                for statement in statements:
                    self._aws.revoke(name, alias, statement)
            case DeleteFunctionUrl(alias=alias):
                self._aws.delete_function_url(name, alias)
                progress.url = ""
            case DeleteAlias(name=alias, description=description):
                held = self._aws.get_alias(name, alias)
                if held is not None and held.description != description:  # taken over since the plan was made
                    raise ConflictError.of(
                        f"alias '{alias}' changed hands while the cleanup ran (its description is now "
                        f"'{held.description}'); it was not deleted",
                        f"alias '{alias}'",
                        "check who else manages this alias",
                    )
                self._aws.delete_alias(name, alias)
            case PruneVersions(keep=keep, grace=grace):
                progress.pruned = self._prune(name, keep, grace)

    def _prune(self, name: str, keep: int, grace: float) -> Pruned:
        """Delete what ``prune_candidates`` picks from a fresh listing (ages by AWS's clock),
        looking at the aliases again right before each delete. Housekeeping: a failure here is
        reported, never fatal, and the next run prunes what is left."""
        deleted: list[str] = []
        skipped: list[tuple[str, str]] = []
        try:
            raw, ages = self._aws.listing(name)
            listed = [version["Version"] for version in raw]
            for version in prune_candidates(listed, self._aws.list_aliases(name), keep, ages, grace):
                if version in referenced_versions(self._aws.list_aliases(name)):
                    skipped.append((version, "an alias took it meanwhile"))
                    continue
                why = self._aws.delete_version(name, version)
                if why:
                    skipped.append((version, why))
                else:
                    deleted.append(version)
                self._log(f"version {version}: {why or 'deleted'}")
        except DeployError as error:
            skipped.append(("(the rest)", f"pruning stopped: {error}"))
        return Pruned(tuple(deleted), tuple(skipped))

    def _refresh_revision(self, name: str, progress: _Progress) -> None:
        if progress.touched:
            progress.revision = self._aws.configuration(name).revision_id

    @staticmethod
    def _vanished(plan: Plan, version: str) -> DeployError:
        """The version this run published was deleted before its alias moved: say so, and that a re-run publishes again."""
        before = f"version {plan.previous_version}" if plan.previous_version else "nothing (it does not exist yet)"
        return ConflictError.of(
            f"version {version}, which this deploy published, was deleted before alias '{plan.alias}' moved to it (another "
            f"deploy pruned it: keep-versions with a prune-grace shorter than a deploy takes, or 0); alias '{plan.alias}' still "
            f"points at {before}",
            f"function '{plan.function_name}'",
            "run the same deploy again: it publishes a new version and moves the alias. Keep prune-grace at its default (1h) "
            "on every workflow that prunes this function",
        )

    @staticmethod
    @contextmanager
    def _guard(name: str, plan: Plan) -> Iterator[None]:
        """A failed RevisionId/CodeSha256 guard before publishing: say nothing of ours shipped."""
        try:
            yield
        except ConflictError:
            raise ConflictError.of(
                f"function '{name}' was changed by another deploy while this one ran; nothing of ours was "
                f"published and alias '{plan.alias}' was left as it was",
                f"function '{name}'",
                "run the deploy again once the other one has finished",
            ) from None


def interruption(plan: Plan, index: int, version: str) -> Problem:
    """Where a plan stopped, what state that leaves the function in, and what a re-run does.

    Pure: derived from the plan and how far the walk got, so every fault (a lost
    connection, a refused call, a cancellation) gets the same truthful account.
    """
    step = plan.steps[index]
    alias = plan.alias
    before = f"version {plan.previous_version}" if plan.previous_version else "nothing (it does not exist yet)"
    untouched = f"alias '{alias}' still points at {before}"
    published = any(isinstance(done, PublishVersion) for done in plan.steps[:index]) or plan.reused_version is not None
    match step:
        case CreateFunction():
            state = f"the function may have been created with the new code, unpublished; {untouched}"
        case UpdateCode():
            state = f"$LATEST may hold the new code, uploaded but not published; {untouched}"
        case UpdateConfiguration() | TagFunction() | SetReservedConcurrency() | SetCodeSigning():
            state = f"$LATEST holds the new code and may hold part of the new configuration, not published; {untouched}"
        case PublishVersion():
            state = f"a version holding the new code may have been published, but no alias points at it; {untouched}"
        case PointAlias():
            state = f"version {version} is published; alias '{alias}' may point at it already or still at {before}"
        case SmokeTest() | PointPreviousAlias() | SetProvisionedConcurrency():
            state = f"version {version} is published; no traffic had moved to it, {untouched}"
        case EnsureFunctionUrl() | GrantPublicUrl() | RevokeUrlPermissions():
            state = f"version {version} is deployed to alias '{alias}'; its function URL may be only partly set up"
        case DeleteFunctionUrl() | DeleteAlias() | PruneVersions():
            state = f"the preview of alias '{alias}' is partly removed"
        case _:
            state = f"version {version} is published; its traffic step did not finish (the error above says where the alias is)"
    if not any(isinstance(done, PublishVersion | ReuseVersion) for done in plan.steps):  # a cleanup
        rerun = "removes only what is left"
    elif published and version:
        rerun = f"reuses version {version} (nothing is published twice) and does only what is missing"
    else:
        rerun = (
            "compares again and does only what is missing: nothing that landed is uploaded twice, at most one version is "
            "published, then the alias moves"
        )
    return Problem(
        f"stopped at step {index + 1} of {len(plan.steps)} ({step.describe()})",
        f"function '{plan.function_name}'",
        f"State now: {state}. Running the same deploy again {rerun}",
    )
