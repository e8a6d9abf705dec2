"""Moving traffic: staged shifts under health gates, canaries, promote and rollback.

Contract: ``Traffic`` moves one alias between a ``stable`` and a ``target`` version and
returns a ``RolloutOutcome``; it never leaves the alias half-shifted by its own hand.
Each stage sets the weight with the alias's RevisionId, then bakes while the health
gate is checked every ``health-interval``; the last stage points the alias wholly at
the target and clears the weights. A failed gate, an AWS error or a cancellation
(``Cancelled``, raised by the signal handler) rolls back at once: the alias goes 100%
to stable with the weights cleared; that restore is tried again through a short
outage, and if it still cannot land, the error says what is left and how to undo it.
If someone else moves the alias meanwhile (a 412 on our RevisionId), the rollout stops
and leaves their change alone. While weights
are set, the alias's description names the rollout, so whatever a killed runner left
behind explains itself to the next run. Time comes from an injected ``Clock``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from .aws import CodeDeployGateway, LambdaGateway, same_weights
from .errors import Cancelled, ConflictError, DeployError, ProvisioningFailed
from .health import HealthGate, Verdict, judge_smoke
from .model import TRACE_PREFIX, AliasState, HandOffToCodeDeploy, OpenCanary, RolloutOutcome, ShiftTraffic, TimelineEvent
from .schedule import Stage, format_duration


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...
    def now(self) -> datetime: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def now(self) -> datetime:
        return datetime.now(UTC)


# A restore that fails after botocore's retries (about 5 attempts over a few seconds) is
# tried again this often, with this pause between: about a minute of outage is ridden out.
RESTORE_ATTEMPTS = 6
RESTORE_PAUSE = 10.0


def trace(stable: str, canary: str, run_id: str) -> str:
    run = f", run {run_id}" if run_id else ""
    return f"{TRACE_PREFIX}: stable {stable}, canary {canary}{run}"


class _Timeline:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._start = clock.monotonic()
        self.events: list[TimelineEvent] = []

    def mark(self, weight: float, event: str, detail: str) -> None:
        self.events.append(TimelineEvent(self._clock.monotonic() - self._start, weight, event, detail))


@dataclass(frozen=True)
class _Move:
    """One alias on its way from ``stable`` to ``target``; ``description`` is the alias's own,
    restored when the move ends."""

    name: str
    stable: str
    target: str
    description: str


@dataclass(frozen=True)
class RolloutContext:
    function_name: str
    health_interval: float
    wait_timeout: float
    run_id: str


class Traffic:
    def __init__(
        self,
        aws: LambdaGateway,
        codedeploy: CodeDeployGateway,
        gate: HealthGate,
        context: RolloutContext,
        clock: Clock,
        log: Callable[[str], None],
    ) -> None:
        self._aws = aws
        self._codedeploy = codedeploy
        self._gate = gate
        self._context = context
        self._clock = clock
        self._log = log
        self._attempted: list[tuple[str, dict[str, float]]] = []  # alias states this run asked for

    # --- before any traffic moves -------------------------------------------------

    def smoke(self, version: str, payload: str, expect: object) -> Verdict:
        invocation = self._aws.invoke(self._context.function_name, version, payload)
        verdict = judge_smoke(invocation, expect)
        self._log(f"smoke test of version {version}: {'passed' if verdict.healthy else 'FAILED'}; response {verdict.summary}")
        return verdict

    # --- native staged shift ------------------------------------------------------

    def shift(self, step: ShiftTraffic, target: str) -> RolloutOutcome:
        timeline = _Timeline(self._clock)
        since = self._clock.now()
        move = _Move(step.name, step.stable, target, step.description)
        revision = step.revision_id
        note = trace(step.stable, target, self._context.run_id)
        self._log(f"rollout: {step.strategy.describe()}")
        try:
            for stage in step.strategy.stages:
                if stage.weight >= 1.0:
                    break
                revision = self._set(move, step.stable, revision, {target: stage.weight}, note).revision_id
                timeline.mark(stage.weight, "shifted", f"{stage.weight:.0%} of traffic to version {target}")
                if step.warm and (cold := self._warm_up(step.name, stage.weight, timeline)):
                    return self._roll_back(move, revision, cold, timeline)
                self._log(f"shifted {stage.weight:.0%} of alias {step.name} to version {target}; baking {format_duration(stage.bake)}")
                verdict = self._bake(stage, target, step.stable, since, timeline)
                if not verdict.healthy:
                    return self._roll_back(move, revision, f"{verdict.reason} ({verdict.summary})", timeline)
            self._set(move, target, revision, {}, step.description)
            timeline.mark(1.0, "completed", f"100% of traffic on version {target}")
            self._log(f"alias {step.name} now points wholly at version {target}")
            return RolloutOutcome("deployed", target, step.stable, target, "", tuple(timeline.events))
        except ConflictError:
            return self._left_alone(move, timeline)
        except Cancelled:
            return self._roll_back(move, revision, "the run was cancelled (SIGTERM/SIGINT)", timeline)
        except DeployError as error:
            return self._roll_back(move, revision, f"the rollout hit an error: {error}", timeline)
        except BaseException:
            self._roll_back(move, revision, "lambda-deploy failed unexpectedly", timeline)
            raise

    def _set(self, move: _Move, version: str, revision: str, weights: Mapping[str, float], description: str) -> AliasState:
        """Move the alias, remembering the state we asked for (see ``_restore``)."""
        self._attempted.append((version, dict(weights)))
        return self._aws.point_alias(self._context.function_name, move.name, version, revision, weights, description)

    def _warm_up(self, alias: str, weight: float, timeline: _Timeline) -> str:
        """Wait for the alias's provisioned environments before the bake; the reason to roll
        back when Lambda reports FAILED, else ""."""
        try:
            self._aws.wait_warm(self._context.function_name, alias)
        except ProvisioningFailed as error:
            timeline.mark(weight, "not warm", str(error))
            return f"provisioned concurrency could not be allocated: {error}"
        timeline.mark(weight, "warm", "provisioned concurrency READY")
        return ""

    def _bake(self, stage: Stage, target: str, stable: str, since: datetime, timeline: _Timeline) -> Verdict:
        deadline = self._clock.monotonic() + stage.bake
        next_check = self._clock.monotonic()
        while True:
            verdict = self._gate.check(target, stable, since)
            remaining = max(0.0, deadline - self._clock.monotonic())
            if not verdict.healthy:
                timeline.mark(stage.weight, "unhealthy", f"{verdict.reason}; {verdict.summary}")
                self._log(f"UNHEALTHY at {stage.weight:.0%}: {verdict.reason}; {verdict.summary}")
                return verdict
            self._log(f"{stage.weight:.0%} on version {target}, {format_duration(round(remaining))} of bake left: {verdict.summary}")
            if remaining <= 0:
                timeline.mark(stage.weight, "healthy", verdict.summary)
                return verdict
            # A fixed cadence: the time a check takes does not stretch the interval.
            next_check += self._context.health_interval
            self._clock.sleep(max(0.0, min(next_check, deadline) - self._clock.monotonic()))

    def _roll_back(self, move: _Move, revision: str, reason: str, timeline: _Timeline) -> RolloutOutcome:
        self._log(f"rolling back: alias {move.name} → 100% version {move.stable} ({reason})")
        try:
            self._restore(move, revision)
        except ConflictError:
            return self._left_alone(move, timeline)
        timeline.mark(0.0, "rolled back", reason)
        return RolloutOutcome("rolled-back", move.stable, move.stable, move.target, reason, tuple(timeline.events))

    def _restore(self, move: _Move, revision: str) -> None:
        """Put the alias wholly back on stable. This is the one call that must land.

        A failure that outlasts botocore's own retries (an outage) is tried again for a
        while before the run gives up and says exactly what is left to undo. A stale
        RevisionId is not always someone else's doing: when the answer to our own last
        move was lost, the alias holds that move and the RevisionId it made. Then the
        alias is in a state this run asked for, and the restore goes on from there.
        """
        for attempt in range(1, RESTORE_ATTEMPTS + 1):
            try:
                fresh = self._restore_once(move, revision)
            except ConflictError:
                raise
            except DeployError as error:
                if attempt == RESTORE_ATTEMPTS:
                    raise DeployError.of(
                        f"could not put alias '{move.name}' back on version {move.stable} after {RESTORE_ATTEMPTS} tries ({error}); "
                        f"it may still route part of its traffic to version {move.target}",
                        f"alias '{move.name}'",
                        f"as soon as AWS is reachable, run 'command: rollback' for alias {move.name} (it points the alias wholly "
                        f"at version {move.stable})",
                    ) from None
                self._log(f"restoring alias {move.name} failed ({error}); trying again in {RESTORE_PAUSE:g}s")
                self._clock.sleep(RESTORE_PAUSE)
                continue
            if fresh is None:
                return
            revision = fresh
        raise ConflictError.of(f"alias '{move.name}' kept changing while it was being restored", f"alias '{move.name}'")

    def _restore_once(self, move: _Move, revision: str) -> str | None:
        """One restore; None when it landed, or the RevisionId to go on from when the alias
        holds a state this run asked for. Someone else's state is a ``ConflictError``."""
        name = self._context.function_name
        try:
            self._aws.point_alias(name, move.name, move.stable, revision, {}, move.description)
            return None
        except ConflictError:
            current = self._aws.get_alias(name, move.name)
            if current is None or not self._ours(current):
                raise
            return current.revision_id

    def _ours(self, alias: AliasState) -> bool:
        return any(alias.version == version and same_weights(alias.weights, weights) for version, weights in self._attempted)

    def _left_alone(self, move: _Move, timeline: _Timeline) -> RolloutOutcome:
        reason = (
            f"alias '{move.name}' was changed by someone else during the rollout; lambda-deploy stopped and left "
            "their change as it is. Check the alias, then promote, roll back or deploy again"
        )
        timeline.mark(0.0, "stopped", reason)
        current = self._aws.get_alias(self._context.function_name, move.name)
        return RolloutOutcome("aborted", current.version if current else "", move.stable, move.target, reason, tuple(timeline.events))

    # --- one-shot canary, promote, rollback -----------------------------------------

    def open_canary(self, step: OpenCanary, target: str) -> RolloutOutcome:
        timeline = _Timeline(self._clock)
        move = _Move(step.name, step.stable, target, step.description)
        note = trace(step.stable, target, self._context.run_id)
        try:
            revision = self._set(move, step.stable, step.revision_id, {target: step.weight}, note).revision_id
        except ConflictError:
            return self._left_alone(move, timeline)
        except DeployError as error:
            # The answer may be lost with the canary open: put the alias back where it was.
            return self._roll_back(move, step.revision_id, f"the canary could not be opened: {error}", timeline)
        if step.warm and (cold := self._warm_up(step.name, step.weight, timeline)):
            return self._roll_back(move, revision, cold, timeline)
        timeline.mark(step.weight, "canary opened", f"{step.weight:.0%} of traffic to version {target}")
        self._log(f"canary open: {step.weight:.0%} of alias {step.name} on version {target}; finish with command promote or rollback")
        return RolloutOutcome("canary", step.stable, step.stable, target, "", tuple(timeline.events))

    def finish(self, alias: AliasState, target: str, command: str) -> RolloutOutcome:
        """``promote`` or ``rollback``: the alias goes wholly to ``target``, weights cleared."""
        timeline = _Timeline(self._clock)
        self._aws.point_alias(self._context.function_name, alias.name, target, alias.revision_id, {}, _untraced(alias))
        canary = alias.canary[0] if alias.canary else ""
        if command == "promote":
            timeline.mark(1.0, "promoted", f"100% of traffic on version {target}")
            return RolloutOutcome("promoted", target, alias.version, target, "", tuple(timeline.events))
        timeline.mark(0.0, "rolled back", f"100% of traffic on version {target}")
        return RolloutOutcome("rolled-back", target, target, canary, "rolled back on request", tuple(timeline.events), requested=True)

    # --- CodeDeploy ------------------------------------------------------------------

    def hand_off(self, step: HandOffToCodeDeploy, target: str, description: str) -> RolloutOutcome:
        timeline = _Timeline(self._clock)
        appspec = build_appspec(self._context.function_name, step, target)
        deployment = self._codedeploy.create_deployment(step.application, step.group, step.config_name, appspec, description)
        timeline.mark(0.0, "Created", f"CodeDeploy deployment {deployment} ({step.config_name})")
        self._log(f"CodeDeploy deployment {deployment} created: {step.config_name}, version {step.stable} → {target}")
        # The shift itself takes the schedule's time; wait-timeout is the slack on top.
        deadline = self._clock.monotonic() + step.schedule_seconds + self._context.wait_timeout
        seen = "Created"
        try:
            while True:
                status = self._codedeploy.deployment(deployment)
                if status.status != seen:
                    seen = status.status
                    timeline.mark(1.0 if seen == "Succeeded" else 0.0, seen, status.error or status.rollback_message or "")
                self._log(f"CodeDeploy deployment {deployment}: {status.status}")
                if status.finished:
                    break
                if self._clock.monotonic() >= deadline:
                    self._codedeploy.stop(deployment)
                    allowed = format_duration(round(step.schedule_seconds + self._context.wait_timeout))
                    reason = f"CodeDeploy deployment {deployment} did not finish within {allowed}; it was stopped with automatic rollback"
                    timeline.mark(0.0, "Stopped", reason)
                    return RolloutOutcome("rolled-back", step.stable, step.stable, target, reason, tuple(timeline.events))
                self._clock.sleep(self._context.health_interval)
        except Cancelled:
            self._codedeploy.stop(deployment)
            reason = f"the run was cancelled; CodeDeploy deployment {deployment} was stopped with automatic rollback"
            timeline.mark(0.0, "Stopped", reason)
            return RolloutOutcome("rolled-back", step.stable, step.stable, target, reason, tuple(timeline.events))
        if status.status == "Succeeded":
            return RolloutOutcome("deployed", target, step.stable, target, "", tuple(timeline.events))
        detail = "; ".join(part for part in (status.error, status.rollback_message) if part) or "no reason given"
        outcome = "rolled-back" if status.rolled_back else "aborted"
        reason = f"CodeDeploy deployment {deployment} {status.status.lower()}: {detail}"
        return RolloutOutcome(outcome, step.stable, step.stable, target, reason, tuple(timeline.events))


def build_appspec(function_name: str, step: HandOffToCodeDeploy, target: str) -> str:
    """CodeDeploy's AppSpec (version 0.0) for moving one alias between two versions."""
    spec: dict[str, object] = {
        "version": 0.0,
        "Resources": [
            {
                function_name: {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {"Name": function_name, "Alias": step.name, "CurrentVersion": step.stable, "TargetVersion": target},
                }
            }
        ],
    }
    hooks = [{name: fn} for name, fn in (("BeforeAllowTraffic", step.before_hook), ("AfterAllowTraffic", step.after_hook)) if fn]
    if hooks:
        spec["Hooks"] = hooks
    return json.dumps(spec, sort_keys=True)


def _untraced(alias: AliasState) -> str | None:
    """Clear our rollout note from the alias's description; leave anyone else's alone."""
    return "" if alias.description.startswith(TRACE_PREFIX) else None
