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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .aws import LambdaGateway
from .errors import Cancelled, ConflictError, DeployError, Problem
from .model import (
    CreateFunction,
    FunctionState,
    HandOffToCodeDeploy,
    OpenCanary,
    Plan,
    PointAlias,
    PublishVersion,
    ReuseVersion,
    RolloutOutcome,
    ShiftTraffic,
    SmokeTest,
    Step,
    TagFunction,
    UpdateCode,
    UpdateConfiguration,
)
from .package import Artifact
from .rollout import Traffic

NEW_VERSION = "(new)"


@dataclass(frozen=True)
class Outcome:
    function_arn: str
    version: str
    alias_arn: str
    rollout: RolloutOutcome | None = None  # set when traffic moved by a rollout, or was stopped


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
        return Outcome(arn, plan.reused_version or NEW_VERSION, _alias_arn(arn, plan.alias))


@dataclass
class _Progress:
    """What the walk has established so far (mutable while one plan runs)."""

    arn: str
    revision: str
    version: str
    alias_arn: str
    audit: str
    touched: bool = False  # whether $LATEST changed, so its RevisionId must be re-read


class Executor:
    def __init__(
        self, gateway: LambdaGateway, traffic: Traffic, artifact: Artifact, state: FunctionState, log: Callable[[str], None]
    ) -> None:
        self._aws = gateway
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
        )
        for index, step in enumerate(plan.steps):
            self._log(step.describe())
            try:
                ended = self._do(step, plan, progress)
            except ConflictError:
                raise  # says itself what was and was not done
            except DeployError as error:
                raise DeployError(*error.problems, interruption(plan, index, progress.version)) from None
            except Cancelled as signal_name:
                cancelled = Problem(f"cancelled by {signal_name}", "lambda-deploy")
                raise DeployError(cancelled, interruption(plan, index, progress.version)) from None
            if ended is not None:
                return ended
        return Outcome(progress.arn, progress.version, progress.alias_arn)

    def _do(self, step: Step, plan: Plan, progress: _Progress) -> Outcome | None:
        """Carry out one step; a traffic step's outcome ends the walk."""
        name = plan.function_name
        artifact = self._artifact
        match step:
            case CreateFunction(params=params):
                created = self._aws.create_function(params, artifact.code, artifact.sha256)
                progress.arn, progress.touched = created.unqualified_arn, True
            case UpdateCode(architecture=architecture):
                with self._guard(name, plan):
                    self._aws.update_code(name, artifact.code, artifact.sha256, progress.revision, architecture)
                progress.touched = True
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
            case PointAlias(name=alias, revision_id=alias_revision):
                try:
                    moved = self._aws.point_alias(name, alias, progress.version, alias_revision)
                except ConflictError:
                    raise ConflictError.of(
                        f"alias '{alias}' was changed by someone else while we deployed; version {progress.version} is "
                        "published but the alias was left as it is",
                        f"alias '{alias}'",
                        "check who else deploys this function, then run again",
                    ) from None
                progress.alias_arn = moved.arn
            case SmokeTest(payload=payload, expect=expect):
                verdict = self._traffic.smoke(progress.version, payload, expect)
                if not verdict.healthy:
                    stable = plan.previous_version
                    reason = f"smoke test failed, so no traffic moved: {verdict.reason}"
                    return self._ended(progress, RolloutOutcome("aborted", stable, stable, progress.version, reason))
            case ShiftTraffic() as shift:
                return self._ended(progress, self._traffic.shift(shift, progress.version))
            case OpenCanary() as canary:
                return self._ended(progress, self._traffic.open_canary(canary, progress.version))
            case HandOffToCodeDeploy() as hand_off:
                return self._ended(progress, self._traffic.hand_off(hand_off, progress.version, progress.audit))
        return None

    @staticmethod
    def _ended(progress: _Progress, rollout: RolloutOutcome) -> Outcome:
        return Outcome(progress.arn, progress.version, progress.alias_arn, rollout)

    def _refresh_revision(self, name: str, progress: _Progress) -> None:
        if progress.touched:
            progress.revision = self._aws.configuration(name).revision_id

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
        case UpdateConfiguration() | TagFunction():
            state = f"$LATEST holds the new code and may hold part of the new configuration, not published; {untouched}"
        case PublishVersion():
            state = f"a version holding the new code may have been published, but no alias points at it; {untouched}"
        case PointAlias():
            state = f"version {version} is published; alias '{alias}' may point at it already or still at {before}"
        case SmokeTest():
            state = f"version {version} is published; no traffic had moved to it, {untouched}"
        case _:
            state = f"version {version} is published; its traffic step did not finish (the error above says where the alias is)"
    rerun = (
        f"reuses version {version} (nothing is published twice) and moves the alias"
        if published and version
        else "compares again and does only what is missing: nothing that landed is uploaded twice, at most one version is "
        "published, then the alias moves"
    )
    return Problem(
        f"stopped at step {index + 1} of {len(plan.steps)} ({step.describe()})",
        f"function '{plan.function_name}'",
        f"State now: {state}. Running the same deploy again {rerun}",
    )
