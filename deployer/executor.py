"""Plan -> AWS calls (``Executor``) or -> nothing at all (``DryRunExecutor``).

Contract: both walk the very same ``Plan`` and return an ``Outcome``. The executor
dispatches on step types, chains RevisionId guards from one call to the next, and
turns a failed guard into a ``ConflictError`` that says what was and was not done:
a concurrent change before our publish means nothing of ours was published and the
alias was left alone. Traffic steps (smoke test, staged shift, canary, CodeDeploy)
are handed to ``rollout.Traffic``; their outcome ends the walk. The dry-run makes no
call of any kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .aws import LambdaGateway
from .errors import ConflictError
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
        name = plan.function_name
        latest = self._state.latest
        revision = latest.revision_id if latest else ""
        arn = latest.unqualified_arn if latest else ""
        touched = False  # whether $LATEST changed, so its RevisionId must be re-read
        version = plan.reused_version or ""
        alias_arn = self._state.alias.arn if self._state.alias else _alias_arn(arn, plan.alias)
        audit = f"lambda-deploy: version {version}"  # CodeDeploy's description; the publish note when we publish
        for step in plan.steps:
            self._log(step.describe())
            match step:
                case CreateFunction(params=params):
                    created = self._aws.create_function(params, self._artifact.zip_bytes)
                    arn, touched = created.unqualified_arn, True
                case UpdateCode(architecture=architecture):
                    with self._guard(name, plan):
                        self._aws.update_code(name, self._artifact.zip_bytes, revision, architecture)
                    touched = True
                case UpdateConfiguration(params=params):
                    if touched:
                        revision = self._aws.configuration(name).revision_id
                    with self._guard(name, plan):
                        self._aws.update_configuration(name, params, revision)
                    touched = True
                case TagFunction(tags=tags):
                    self._aws.tag(arn, tags)
                case PublishVersion(description=description):
                    audit = description
                    if touched:
                        revision = self._aws.configuration(name).revision_id
                    with self._guard(name, plan):
                        published = self._aws.publish(name, plan.code_after, revision, description)
                    version = published.version
                    self._log(f"published version {version}")
                case ReuseVersion(version=reused):
                    version = reused
                case PointAlias(name=alias, revision_id=alias_revision):
                    try:
                        moved = self._aws.point_alias(name, alias, version, alias_revision)
                    except ConflictError:
                        raise ConflictError.of(
                            f"alias '{alias}' was changed by someone else while we deployed; version {version} is "
                            "published but the alias was left as it is",
                            f"alias '{alias}'",
                            "check who else deploys this function, then run again",
                        ) from None
                    alias_arn = moved.arn
                case SmokeTest(payload=payload, expect=expect):
                    verdict = self._traffic.smoke(version, payload, expect)
                    if not verdict.healthy:
                        stable = plan.previous_version
                        stopped = RolloutOutcome(
                            "aborted", stable, stable, version, f"smoke test failed, so no traffic moved: {verdict.reason}"
                        )
                        return Outcome(arn, version, alias_arn, stopped)
                case ShiftTraffic() as shift:
                    return Outcome(arn, version, alias_arn, self._traffic.shift(shift, version))
                case OpenCanary() as canary:
                    return Outcome(arn, version, alias_arn, self._traffic.open_canary(canary, version))
                case HandOffToCodeDeploy() as hand_off:
                    return Outcome(
                        arn,
                        version,
                        alias_arn,
                        self._traffic.hand_off(hand_off, version, audit),
                    )
        return Outcome(arn, version, alias_arn)

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
