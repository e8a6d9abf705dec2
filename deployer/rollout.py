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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from .analysis import Check, ColdStarts
from .aws import INIT_QUERY, ActiveDeployment, CodeDeployGateway, DeploymentStatus, LambdaGateway, LogsGateway, init_durations, same_weights
from .errors import Cancelled, ConflictError, DeployError, GroupBusy, ProvisioningFailed, TransientError
from .health import HealthGate, Verdict, judge_smoke
from .model import (
    TRACE_PREFIX,
    AliasState,
    Command,
    FinishCanary,
    HandOffToCodeDeploy,
    OpenCanary,
    RolloutOutcome,
    ShiftTraffic,
    TimelineEvent,
)
from .ownership import DESCRIPTION_MAX, TRACE_OWNER, marker_of
from .progress import Progress
from .schedule import Stage, format_duration


class RestoreFailed(DeployError):
    """The alias could not be put back on stable: the message says what is left to undo."""


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


def trace(stable: str, canary: str, run_id: str, owned_by: str = "") -> str:
    """The alias's description while weights are set. A preview's ownership marker rides along
    (``ownership.TRACE_OWNER``), so a rollout a killed runner left behind still says whose it is."""
    run = f", run {run_id}" if run_id else ""
    note = f"{TRACE_PREFIX}: stable {stable}, canary {canary}{run}"
    owner = marker_of(owned_by)
    kept = f"{note}{TRACE_OWNER}{owner}"
    return kept if owner and len(kept) <= DESCRIPTION_MAX else note


class _Timeline:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._start = clock.monotonic()
        self.started = clock.now()
        self.events: list[TimelineEvent] = []
        self.checks: list[Check] = []

    def mark(self, weight: float, event: str, detail: str) -> None:
        self.events.append(TimelineEvent(self._clock.monotonic() - self._start, weight, event, detail))

    def check(self, weight: float, verdict: Verdict, percentile: str) -> None:
        """One health check's side-by-side reading, for the rollout's picture and the analysis output."""
        if verdict.compared is not None:
            new, stable = verdict.compared
            at = round(self._clock.monotonic() - self._start, 1)
            self.checks.append(Check(at, weight, new, stable, verdict.gates, percentile))


@dataclass(frozen=True)
class _Move:
    """One alias on its way from ``stable`` to ``target``; ``description`` is the alias's own,
    restored when the move ends."""

    name: str
    stable: str
    target: str
    description: str | None  # None: leave the description as it is


@dataclass(frozen=True)
class RolloutContext:
    function_name: str
    health_interval: float
    wait_timeout: float
    run_id: str
    log_group: str = ""  # where the function logs: the rollout's cold starts are read there (report only)


class Traffic:
    def __init__(
        self,
        aws: LambdaGateway,
        codedeploy: CodeDeployGateway,
        gate: HealthGate,
        context: RolloutContext,
        clock: Clock,
        log: Callable[[str], None],
        rate_gate: HealthGate | None = None,
        logs: LogsGateway | None = None,
    ) -> None:
        """``rate_gate`` watches max-error-rate and the canary analysis while a CodeDeploy deployment runs;
        ``logs`` reads the rollout's cold starts (report only)."""
        self._aws = aws
        self._logs = logs
        self._percentile = gate.percentile
        self._rate_gate = rate_gate
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
        return self._analysed(self._shift(step, target, timeline), timeline)

    def _analysed(self, outcome: RolloutOutcome, timeline: _Timeline) -> RolloutOutcome:
        """The outcome with its health checks side by side, and the cold starts of both versions
        in the rollout's window (one Logs Insights query; report only, so a failure is a note)."""
        if not timeline.checks:
            return outcome
        colds: tuple[ColdStarts, ...] = ()
        if self._logs is not None and self._context.log_group:
            start, end = int(timeline.started.timestamp()), int(self._clock.now().timestamp()) + 1
            try:
                rows = self._logs.query(self._context.log_group, start, end, INIT_QUERY, self._clock.sleep)
            except (DeployError, Cancelled) as error:
                self._log(f"cold starts not read ({error}); they are only reported")
            else:
                found = init_durations(rows)
                colds = tuple(ColdStarts.of(v, found[v]) for v in (outcome.canary, outcome.stable) if v in found)
        return replace(outcome, analysis=tuple(timeline.checks), cold_starts=colds)

    def _shift(self, step: ShiftTraffic, target: str, timeline: _Timeline) -> RolloutOutcome:
        since = self._clock.now()
        move = _Move(step.name, step.stable, target, step.description)
        revision = step.revision_id
        note = trace(step.stable, target, self._context.run_id, step.description)
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
        except RestoreFailed:  # a roll-back that did not land is said as it is, not attempted a second time
            raise
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
        progress = Progress(self._clock.monotonic)
        while True:
            verdict = self._gate.check(target, stable, since)
            timeline.check(stage.weight, verdict, self._percentile)
            remaining = max(0.0, deadline - self._clock.monotonic())
            if not verdict.healthy:
                timeline.mark(stage.weight, "unhealthy", f"{verdict.reason}; {verdict.summary}")
                self._log(f"UNHEALTHY at {stage.weight:.0%}: {verdict.reason}; {verdict.summary}")
                return verdict
            if progress.due(last=remaining <= 0):
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

    def _restore(self, move: _Move, revision: str, ours: Callable[[AliasState], bool] | None = None) -> None:
        """Put the alias wholly back on stable. This is the one call that must land.

        A failure that outlasts botocore's own retries (an outage) is tried again for a
        while before the run gives up and says exactly what is left to undo. A stale
        RevisionId is not always someone else's doing: when the answer to our own last
        move was lost, the alias holds that move and the RevisionId it made. Then the
        alias is in a state this run asked for, and the restore goes on from there.
        """
        for attempt in range(1, RESTORE_ATTEMPTS + 1):
            try:
                fresh = self._restore_once(move, revision, ours or self._ours)
            except ConflictError:
                raise
            except TransientError as error:  # only what may pass is tried again: a refusal is said at once
                if attempt == RESTORE_ATTEMPTS:
                    raise RestoreFailed.of(
                        f"could not put alias '{move.name}' back on version {move.stable} after {RESTORE_ATTEMPTS} tries ({error}); "
                        f"it may still route part of its traffic to version {move.target}",
                        f"alias '{move.name}'",
                        f"as soon as AWS is reachable, run 'command: rollback' for alias {move.name} (it points the alias wholly "
                        f"at version {move.stable})",
                    ) from None
                self._log(f"restoring alias {move.name} failed ({error}); trying again in {RESTORE_PAUSE:g}s")
                self._clock.sleep(RESTORE_PAUSE)
                continue
            except DeployError as error:
                raise RestoreFailed.of(
                    f"could not put alias '{move.name}' back on version {move.stable}: {error}; "
                    f"it may still route part of its traffic to version {move.target}",
                    f"alias '{move.name}'",
                    f"fix what AWS refused, then run 'command: rollback' for alias {move.name} (it points the alias wholly at "
                    f"version {move.stable})",
                ) from None
            if fresh is None:
                return
            revision = fresh
        raise ConflictError.of(f"alias '{move.name}' kept changing while it was being restored", f"alias '{move.name}'")

    def _restore_once(self, move: _Move, revision: str, ours: Callable[[AliasState], bool]) -> str | None:
        """One restore; None when it landed, or the RevisionId to go on from when the alias
        holds a state this run asked for (``ours``). Someone else's state is a ``ConflictError``."""
        name = self._context.function_name
        try:
            self._aws.point_alias(name, move.name, move.stable, revision, {}, move.description)
            return None
        except ConflictError:
            current = self._aws.get_alias(name, move.name)
            if current is None or not ours(current):
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
        note = trace(step.stable, target, self._context.run_id, step.description)
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

    def finish(self, step: FinishCanary) -> RolloutOutcome:
        """``promote`` or ``rollback``: the alias goes wholly to ``target``, weights cleared."""
        alias, target, command = step.alias, step.target, step.command
        timeline = _Timeline(self._clock)
        self._aws.point_alias(self._context.function_name, alias.name, target, alias.revision_id, {}, _untraced(alias))
        canary = alias.canary[0] if alias.canary else ""
        if command == Command.PROMOTE:
            timeline.mark(1.0, "promoted", f"100% of traffic on version {target}")
            return RolloutOutcome("promoted", target, alias.version, target, "", tuple(timeline.events))
        timeline.mark(0.0, "rolled back", f"100% of traffic on version {target}")
        return RolloutOutcome("rolled-back", target, target, canary, "rolled back on request", tuple(timeline.events), requested=True)

    # --- CodeDeploy ------------------------------------------------------------------

    def hand_off(self, step: HandOffToCodeDeploy, target: str, description: str) -> RolloutOutcome | None:
        timeline = _Timeline(self._clock)
        outcome = self._hand_off(step, target, description, timeline)
        return self._analysed(outcome, timeline) if outcome is not None else None

    def _hand_off(self, step: HandOffToCodeDeploy, target: str, description: str, timeline: _Timeline) -> RolloutOutcome | None:
        """Create the CodeDeploy deployment and follow it to its end, then report what the alias
        really holds. CodeDeploy rolls a Lambda deployment back by redeploying the previous
        version as a second deployment, which takes time and can fail: a ``Stopped`` or
        ``Failed`` status is not a rollback. So the rollback deployment is followed too, the
        alias is read, and if it is not wholly on the stable version the action puts it back
        itself, guarded by the RevisionId it last saw in a state this deployment makes, or says
        exactly what the alias holds. None: there is nothing to shift (the new version is the
        alias's own), so no deployment is made (CodeDeploy would fail it)."""
        if target == step.stable:
            self._log(f"alias {step.name} already serves version {target}: no CodeDeploy deployment")
            return None
        appspec = build_appspec(self._context.function_name, step, target)
        try:
            deployment = self._codedeploy.create_deployment(
                step.application, step.group, step.config_name, appspec, description, step.alarms
            )
        except GroupBusy:  # another deployment took the group after the preflight looked
            active = self._codedeploy.active(step.application, step.group)
            if not active:
                raise
            raise busy_group(step.group, active[0], f"version {target} is published, and alias '{step.name}' was not moved") from None
        timeline.mark(0.0, "Created", f"CodeDeploy deployment {deployment} ({step.config_name})")
        self._log(f"CodeDeploy deployment {deployment} created: {step.config_name}, version {step.stable} → {target}")
        move = _Move(step.name, step.stable, target, None)
        watch = _Watch(move)
        # The shift takes the schedule's time; each lifecycle hook may take up to an hour (CodeDeploy's
        # own limit); wait-timeout is the slack on top.
        hooks = sum(1 for hook in (step.before_hook, step.after_hook) if hook)
        allowed = step.schedule_seconds + HOOK_ALLOWANCE * hooks + self._context.wait_timeout
        self._log(
            f"following it for up to {format_duration(round(allowed))}: the schedule {format_duration(round(step.schedule_seconds))}, "
            f"{hooks} hook(s) at up to {format_duration(HOOK_ALLOWANCE)} each, and wait-timeout"
        )
        try:
            status, stopped_because = self._follow(deployment, self._clock.monotonic() + allowed, watch, timeline)
        except Cancelled:
            reason = f"the run was cancelled; {self._stop(deployment)}"
            timeline.mark(0.0, "Stopped", reason)
            return self._after_codedeploy(watch, deployment, reason, timeline, CANCEL_GRACE)
        if status is not None and status.status == "Succeeded":
            return self._succeeded(move, deployment, timeline)
        if status is None:
            reason = stopped_because
        else:
            detail = "; ".join(part for part in (status.error, status.rollback_message) if part) or "no reason given"
            reason = f"CodeDeploy deployment {deployment} {status.status.lower()}: {detail}"
        return self._after_codedeploy(watch, deployment, reason, timeline, self._context.wait_timeout)

    def _stop(self, deployment: str) -> str:
        """StopDeployment with automatic rollback; what happened, in words."""
        try:
            self._codedeploy.stop(deployment)
        except DeployError as error:
            return f"stopping CodeDeploy deployment {deployment} failed too ({error}): it may still be running"
        return f"CodeDeploy deployment {deployment} was stopped with automatic rollback"

    def _follow(self, deployment: str, deadline: float, watch: _Watch, timeline: _Timeline) -> tuple[DeploymentStatus | None, str]:
        """Poll until the deployment ends: (its status, ""); or (None, why) once the action
        stopped it itself: the error rate crossed max-error-rate, time ran out, or the
        deployment could no longer be read. A read that fails with what may pass (throttling,
        a 5xx, a lost connection, after botocore's own retries) is tried again with backoff for
        as long as the time allows: the deployment is never left to run unsupervised because
        one read failed."""
        move = watch.move
        since, seen, failures = self._clock.now(), "Created", 0
        while True:
            try:
                status = self._codedeploy.deployment(deployment)
            except TransientError as error:
                failures += 1
                left = deadline - self._clock.monotonic()
                if left <= 0:
                    reason = f"CodeDeploy deployment {deployment} could not be read before time ran out ({error}); {self._stop(deployment)}"
                    timeline.mark(0.0, "Stopped", reason)
                    return None, reason
                pause = min(self._context.health_interval * 2 ** min(failures - 1, 5), left)
                self._log(f"reading CodeDeploy deployment {deployment} failed ({error}); trying again in {pause:g}s")
                self._clock.sleep(pause)
                continue
            except DeployError as error:  # refused (access denied, say): following is impossible
                reason = f"CodeDeploy deployment {deployment} cannot be followed ({error}); {self._stop(deployment)}"
                timeline.mark(0.0, "Stopped", reason)
                return None, reason
            failures = 0
            before = watch.share
            share = self._observe(watch)
            if status.status != seen:
                seen = status.status
                timeline.mark(1.0 if seen == "Succeeded" else before, seen, status.error or status.rollback_message or "")
                self._log(f"CodeDeploy deployment {deployment}: {status.status}")
            if share is not None and not status.finished:  # CodeDeploy moved the weight: the step is shown as it happens
                timeline.mark(share, "shifted", f"CodeDeploy routes {share:.0%} of alias {move.name} to version {move.target}")
                self._log(f"CodeDeploy routes {share:.0%} of alias {move.name} to version {move.target}")
            if status.finished:
                return status, ""
            if self._rate_gate is not None and status.status == "InProgress":
                verdict = self._rate_gate.check(move.target, move.stable, since)
                timeline.check(watch.share, verdict, self._percentile)
                self._log(f"error rate of version {move.target}: {verdict.summary}")
                if not verdict.healthy:
                    reason = f"{verdict.reason} ({verdict.summary}); {self._stop(deployment)}"
                    timeline.mark(0.0, "Stopped", reason)
                    return None, reason
            if self._clock.monotonic() >= deadline:
                reason = f"CodeDeploy deployment {deployment} did not finish in time; {self._stop(deployment)}"
                timeline.mark(0.0, "Stopped", reason)
                return None, reason
            self._clock.sleep(self._context.health_interval)

    def _observe(self, watch: _Watch) -> float | None:
        """Remember the alias's RevisionId while it is in a state this deployment makes; the new
        version's share of traffic when CodeDeploy has set a share not seen before (None otherwise)."""
        try:
            alias = self._aws.get_alias(self._context.function_name, watch.move.name)
        except DeployError:
            return None  # the next poll looks again; the restore falls back on what was seen before
        return watch.saw(alias)

    def _succeeded(self, move: _Move, deployment: str, timeline: _Timeline) -> RolloutOutcome:
        alias = self._aws.get_alias(self._context.function_name, move.name)
        if alias is not None and alias.version == move.target and not alias.weights:
            return RolloutOutcome("deployed", move.target, move.stable, move.target, "", tuple(timeline.events))
        reason = f"CodeDeploy deployment {deployment} succeeded, but {holds(alias, move.name)}"
        return RolloutOutcome("aborted", alias.version if alias else "", move.stable, move.target, reason, tuple(timeline.events))

    def _after_codedeploy(self, watch: _Watch, deployment: str, reason: str, timeline: _Timeline, budget: float) -> RolloutOutcome:
        """Follow CodeDeploy's rollback as far as ``budget`` allows; then the alias must be
        wholly on stable, by CodeDeploy's hand or by ours. Ours is guarded by the RevisionId last
        seen in a state of this deployment: an alias someone else set meanwhile is left as it is."""
        move = watch.move
        deadline = self._clock.monotonic() + budget
        status = self._await(deployment, deadline)
        if status is not None and status.rollback_id:
            self._log(f"CodeDeploy rolls back with deployment {status.rollback_id}; waiting for it to end")
            rollback = self._await(status.rollback_id, deadline)
            ended = rollback.status if rollback else "unknown: it could not be read"
            timeline.mark(
                0.0,
                f"rollback {ended}",
                f"CodeDeploy deployment {status.rollback_id}" + (f": {rollback.error}" if rollback and rollback.error else ""),
            )
            why = (
                f"its rollback deployment {status.rollback_id} ended {rollback.status}"
                if rollback is not None and rollback.finished
                else f"its rollback deployment {status.rollback_id} had not ended in time ({ended})"
            )
        elif status is None:
            why = f"CodeDeploy deployment {deployment} could not be read"
        else:
            why = f"CodeDeploy started no rollback deployment (deployment {deployment} {status.status})"
        alias = self._aws.get_alias(self._context.function_name, move.name)
        if _wholly(alias, move.stable):
            return self._rolled_back(move, f"{reason}. The alias is wholly on version {move.stable} again", timeline)
        if alias is not None and not watch.revision:
            raise DeployError.of(
                f"{reason}; {why}, and lambda-deploy never saw alias '{move.name}' while CodeDeploy shifted it, so it cannot tell "
                f"CodeDeploy's moves from anyone else's and leaves it as it is: {holds(alias, move.name)}",
                f"alias '{move.name}'",
                f"check the deployment in the CodeDeploy console; to put the alias wholly on version {move.stable}, run "
                f"'command: rollback' for it",
            )
        if alias is None or alias.revision_id != watch.revision:
            # Not the alias as this deployment last left it: someone else's change, left as it is.
            raise self._changed_by_someone_else(reason, alias)
        self._log(f"{why}, and {holds(alias, move.name)}: moving it back to version {move.stable} itself")
        try:
            # The guard is the RevisionId seen in this deployment's own state, never one read just now.
            self._restore(move, watch.revision, ours=lambda _: False)
        except ConflictError:
            now = self._aws.get_alias(self._context.function_name, move.name)
            if _wholly(now, move.stable):  # CodeDeploy's rollback landed meanwhile
                return self._rolled_back(move, f"{reason}. The alias is wholly on version {move.stable} again", timeline)
            raise self._changed_by_someone_else(reason, now) from None
        except DeployError as error:
            now = self._aws.get_alias(self._context.function_name, move.name)
            if _wholly(now, move.stable):  # CodeDeploy's rollback landed meanwhile
                return self._rolled_back(move, f"{reason}. The alias is wholly on version {move.stable} again", timeline)
            raise DeployError.of(
                f"{reason}; {why}, and lambda-deploy could not move the alias back ({error}): {holds(now, move.name)}",
                f"alias '{move.name}'",
                f"run 'command: rollback' for alias {move.name} (it points the alias wholly at version {move.stable})",
            ) from None
        return self._rolled_back(
            move, f"{reason}; {why}, so lambda-deploy put alias {move.name} wholly back on version {move.stable} itself", timeline
        )

    def _rolled_back(self, move: _Move, done: str, timeline: _Timeline) -> RolloutOutcome:
        timeline.mark(0.0, "rolled back", done)
        return RolloutOutcome("rolled-back", move.stable, move.stable, move.target, done, tuple(timeline.events))

    @staticmethod
    def _changed_by_someone_else(reason: str, alias: AliasState | None) -> DeployError:
        if alias is None:
            return ConflictError.of(f"{reason}; and the alias no longer exists", "alias", "check who deleted it")
        told = f"its description: '{alias.description}'" if alias.description else "its description is empty"
        return ConflictError.of(
            f"{reason}; then someone else changed alias '{alias.name}' ({told}): {holds(alias, alias.name)}. lambda-deploy left "
            "their change as it is",
            f"alias '{alias.name}'",
            "check the alias; to put it back on the stable version, run 'command: rollback' for it",
        )

    def _await(self, deployment: str, deadline: float) -> DeploymentStatus | None:
        """The deployment's status once it ends or time runs out; None when it cannot be read at all.
        Reads that fail with what may pass are tried again while time allows."""
        status: DeploymentStatus | None = None
        while True:
            try:
                status = self._codedeploy.deployment(deployment)
            except TransientError:
                pass
            except DeployError:
                return status
            if (status is not None and status.finished) or self._clock.monotonic() >= deadline:
                return status
            self._clock.sleep(min(self._context.health_interval, max(0.0, deadline - self._clock.monotonic())) or 0.1)


def _wholly(alias: AliasState | None, version: str) -> bool:
    return alias is not None and alias.version == version and not alias.weights


class _Watch:
    """What lambda-deploy knows of an alias CodeDeploy shifts for it: the RevisionId it last saw
    while the alias held a state this deployment makes (the stable version with part of the
    traffic on the target, or either version wholly). A restore is guarded by it, so that a
    change someone else made after it fails the guard and is left alone."""

    def __init__(self, move: _Move) -> None:
        self.move = move
        self.revision = ""
        self.share = 0.0  # of traffic on the target, as last seen

    def makes(self, alias: AliasState) -> bool:
        stable, target = self.move.stable, self.move.target
        return (alias.version == stable and set(alias.weights) <= {target}) or (alias.version == target and not alias.weights)

    def saw(self, alias: AliasState | None) -> float | None:
        """Note the alias as read; the target's share when it is a share between stable and target not seen before."""
        if alias is None or not self.makes(alias):
            return None
        self.revision = alias.revision_id
        share = alias.weights.get(self.move.target, 0.0) if alias.version == self.move.stable else 1.0
        if alias.version != self.move.stable or share == self.share:
            return None  # wholly on the target is said by CodeDeploy's Succeeded
        self.share = share
        return share


def busy_group(group: str, active: ActiveDeployment, done: str) -> GroupBusy:
    """CodeDeploy runs one deployment per group at a time: say which one holds it, and what to do."""
    return GroupBusy.of(
        f"{active.describe()} is still active in deployment group '{group}', and CodeDeploy runs one deployment per group "
        f"at a time; {done}",
        "inputs 'codedeploy-application' / 'codedeploy-group'",
        f"wait until it ends and run again, or stop it (with its automatic rollback): aws deploy stop-deployment "
        f"--deployment-id {active.id} --auto-rollback-enabled",
    )


# A Lambda deployment may take one hour per lifecycle hook on top of its schedule (CodeDeploy quotas).
HOOK_ALLOWANCE = 3600.0


# After SIGTERM the runner waits a few seconds before it kills the container: the rollback is
# followed for this long, and then the action moves the alias back itself.
CANCEL_GRACE = 6.0
HOOK_PREFIX = "CodeDeployHook_"


def holds(alias: AliasState | None, name: str) -> str:
    """What an alias routes, in words."""
    if alias is None:
        return f"alias '{name}' no longer exists"
    if alias.canary:
        version, weight = alias.canary
        return f"alias '{name}' routes {weight:.0%} to version {version} and the rest to version {alias.version}"
    return f"alias '{name}' points wholly at version {alias.version}"


def function_name_of(name_or_arn: str) -> str:
    """The plain function name of a name or an ARN (``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]``)."""
    return name_or_arn.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in name_or_arn else name_or_arn


def build_appspec(function_name: str, step: HandOffToCodeDeploy, target: str) -> str:
    """CodeDeploy's AppSpec (version 0.0) for moving one alias between two versions. The
    AppSpec reference documents ``Name`` as the function's name, so an ARN is reduced to it."""
    name = function_name_of(function_name)
    spec: dict[str, object] = {
        "version": 0.0,
        "Resources": [
            {
                name: {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {"Name": name, "Alias": step.name, "CurrentVersion": step.stable, "TargetVersion": target},
                }
            }
        ],
    }
    hooks = [{event: fn} for event, fn in (("BeforeAllowTraffic", step.before_hook), ("AfterAllowTraffic", step.after_hook)) if fn]
    if hooks:
        spec["Hooks"] = hooks
    return json.dumps(spec, sort_keys=True)


def _untraced(alias: AliasState) -> str | None:
    """Clear our rollout note from the alias's description, keeping a preview's ownership marker
    that rode along in it (so the pull request's cleanup still finds its alias); leave anyone
    else's description alone."""
    return marker_of(alias.description) if alias.description.startswith(TRACE_PREFIX) else None
