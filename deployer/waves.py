"""Waves: one artifact to many regions and accounts, wave by wave, each baked before the next.

Contract: ``run_waves(waves, entries, fleet, io, connect, clock, env)`` deploys every function of
``entries`` to every target of the first wave in parallel (the one engine, ``pipeline.deploy``,
each target's rollout strategy included; the package is built once for the whole run, and a
container image resolved once to the one digest every target deploys; every target is reached,
its credentials and alarms checked, before the first wave: ``reach_targets``), then
bakes the wave: for ``bake`` seconds, every ``health-interval``, the health gates of every
target (its alarms, in its region; ``max-error-rate`` on the version behind its alias). Only a
wave that deployed everywhere and baked healthy lets the next one start. A failed deploy, a
rollout that rolled back, a gate that tripped or a cancellation (SIGTERM) fails the wave: no
later wave starts, the failed wave's targets go back to the versions they served before, and
with ``wave-failure: rollback`` every finished wave too, newest first. Each rollback is guarded
by the alias's RevisionId and never touches an alias someone else moved (that is reported).

State lives on the aliases, not on the runner: a target that moved records, in its alias's
description, the wave, the version it moved to and the one it left (``WaveMark``), and
``baked`` once its wave's bake passed. So a re-run of the same commit costs reads only where
nothing changed, skips the bakes that passed, and still knows where a resumed target came from.
It returns one ``WaveRun`` per wave and the timeline; ``report_waves`` renders them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial

from .aws import Services
from .deploy_file import Entry
from .errors import Cancelled, ConflictError, DeployError, Problem
from .fleet import FunctionRun, Stop, StoppableClock, run_functions
from .github import Reporter
from .model import AliasState, Result
from .naming import session_name
from .ownership import WaveMark, wave_mark, with_wave_mark
from .pipeline import Connect, Packages, deploy, health_gate
from .progress import Progress
from .rollout import Clock, SystemClock
from .schedule import format_duration
from .settings import ChainedCredentials, FleetSettings, OidcCredentials, Settings
from .settings.code import IMAGE_REGION_HINT, image_region_problem
from .settings.inputs import DEFAULT_ROLE_DURATION
from .settings.waves import Target, Wave, Waves
from .signals import on_stop_signals

DONE_STATUSES = ("deployed", "unchanged")


@dataclass(frozen=True)
class TargetRun:
    """One function in one target of one wave."""

    wave: str
    target: Target
    function: str  # as the deploy file names it
    status: str  # the deploy's status (deployed, unchanged, rolled-back...), failed, skipped or not-started
    function_name: str = ""  # as Lambda is asked for it
    version: str = ""
    # What the alias served before the wave moved it: "" when the wave created it, the version
    # itself when the wave did not move it (nothing to undo).
    before: str = ""
    account: str = ""
    alias: str = ""
    seconds: float = 0.0
    bake: str = ""  # passed | already baked | tripped | cancelled | not run
    gate: str = ""  # why the bake (or the deploy) failed
    rolled_back: str = ""  # what the wave's failure did to it
    problems: tuple[Problem, ...] = ()
    bug: bool = False
    result: Result | None = None  # the target's own deploy, as its summary and its rollout's analysis tell it

    @property
    def done(self) -> bool:
        return self.status in DONE_STATUSES


@dataclass(frozen=True)
class WaveEvent:
    at: float  # seconds since the run started
    wave: str
    what: str


@dataclass(frozen=True)
class WaveRun:
    wave: Wave
    status: str  # deployed | failed | rolled-back | kept | not-started
    targets: tuple[TargetRun, ...] = ()
    bake: str = ""  # passed | already baked | tripped: why | cancelled | not run
    started: float = 0.0
    baked_from: float = 0.0
    ended: float = 0.0
    reason: str = ""  # why this wave failed; "" for a wave that did not (a rolled-back finished wave included)


@dataclass(frozen=True)
class WavesOutcome:
    runs: tuple[WaveRun, ...]
    events: tuple[WaveEvent, ...]


@dataclass
class _Timeline:
    clock: Callable[[], float]
    started: float = field(default=0.0)
    events: list[WaveEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def now(self) -> float:
        return self.clock() - self.started

    def mark(self, wave: str, what: str, log: Callable[[str], None]) -> None:
        self.events.append(WaveEvent(round(self.now(), 1), wave, what))
        log(f"wave {wave}: {what}")


def target_settings(settings: Settings, target: Target, env: Mapping[str, str]) -> Settings:
    """A function's settings for one target: its region, and the credentials that reach its account."""
    credentials = settings.credentials
    role = target.role_arn
    if role and (credentials is None or credentials.role_arn != role):
        if isinstance(credentials, OidcCredentials):
            credentials = replace(credentials, role_arn=role)
        elif env.get("ACTIONS_ID_TOKEN_REQUEST_URL") and env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
            name = session_name(settings.git.repository, settings.git.run_id)
            url, token = env["ACTIONS_ID_TOKEN_REQUEST_URL"], env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
            credentials = OidcCredentials(role, name, DEFAULT_ROLE_DURATION, "sts.amazonaws.com", url, token)
        else:  # no token: the wave's role is assumed from the run's own credentials
            credentials = ChainedCredentials(role, session_name(settings.git.repository, settings.git.run_id), DEFAULT_ROLE_DURATION)
    return replace(settings, region=target.region, credentials=credentials)


def _account_of(result: Result | None) -> str:
    parts = (result.function_arn if result else "").split(":")
    return parts[4] if len(parts) > 4 else ""


@dataclass(frozen=True)
class _Placed:
    """A function's settings in a target, and how to reach it."""

    entry: Entry
    target: Target
    settings: Settings


def run_waves(
    waves: Waves,
    entries: list[Entry],
    fleet: FleetSettings,
    io: Reporter,
    connect: Connect,
    clock: Clock | None,
    env: Mapping[str, str],
) -> WavesOutcome:
    clock = clock or SystemClock()
    stop = Stop()
    packages = Packages()
    reach_targets(waves, entries, fleet, io, connect, env, packages)
    timeline = _Timeline(time.monotonic if isinstance(clock, SystemClock) else clock.monotonic)
    finished: list[WaveRun] = []
    with on_stop_signals(lambda name: stop.set(f"cancelled by {name}")):
        stoppable = StoppableClock(clock, stop)
        for index, wave in enumerate(waves.waves):
            placed = [_Placed(entry, target, target_settings(entry.settings, target, env)) for target in wave.targets for entry in entries]
            ran = _deploy_wave(wave, placed, fleet, io, connect, stoppable, stop, packages, timeline)
            if ran.status == "deployed":
                ran = _bake(ran, placed, io, connect, stoppable, timeline)
            if ran.status == "deployed":
                finished.append(ran)
                continue
            # The wave failed: put it back, then (by default) every finished wave, newest first.
            rolled = _roll_back(ran, placed, io, connect, timeline)
            done: list[WaveRun] = []
            for earlier in reversed(finished):
                if waves.failure == "rollback":
                    earlier_placed = [_Placed(e, t, target_settings(e.settings, t, env)) for t in earlier.wave.targets for e in entries]
                    done.insert(0, _roll_back(earlier, earlier_placed, io, connect, timeline))
                else:
                    done.insert(0, replace(earlier, status="kept"))
            if waves.failure == "halt" and finished:
                timeline.mark(wave.name, "halted: the finished waves keep the new version (wave-failure: halt)", io.info)
            rest = [WaveRun(later, "not-started") for later in waves.waves[index + 1 :]]
            return WavesOutcome((*done, rolled, *rest), tuple(timeline.events))
    return WavesOutcome(tuple(finished), tuple(timeline.events))


@dataclass(frozen=True)
class _Reached:
    """What reaching one function's target found: its image's digest ("" without one), or its problems."""

    entry: Entry
    target: Target
    digest: str = ""
    problems: tuple[Problem, ...] = ()


def _reach(entry: Entry, target: Target, io: Reporter, connect: Connect, env: Mapping[str, str]) -> _Reached:
    settings = target_settings(entry.settings, target, env)
    where = f"{entry.name} in {target.describe()}"
    try:
        services = connect(settings, io)
        services.identity.account()  # the credentials work in this target (asked once, kept by the gateway)
        if settings.templated:
            settings = settings.filled(target.region, services.identity.account)
        if settings.rollout.alarms:
            services.cloudwatch.alarm_states(settings.rollout.alarms)
        image = settings.code.image_uri or ""
        if image and (problem := image_region_problem(image, target.region)):
            return _Reached(entry, target, problems=(Problem(f"{where}: {problem}", hint=IMAGE_REGION_HINT, input="image-uri"),))
        return _Reached(entry, target, services.ecr.image_digest(image) if image else "")
    except DeployError as error:
        return _Reached(entry, target, problems=tuple(replace(p, what=f"{where}: {p.what}") for p in error.problems))


def reach_targets(
    waves: Waves, entries: list[Entry], fleet: FleetSettings, io: Reporter, connect: Connect, env: Mapping[str, str], packages: Packages
) -> None:
    """Every target, reached before the first wave changes anything (reads only, ``max-parallel``
    at a time): its credentials work (the account they act in), its alarms exist in its region,
    and a container image is one artifact. ``DeployError`` lists every target that cannot be
    deployed, so a role that cannot be assumed in the last wave, or an alarm missing in one
    region, stops the run before the first wave moved, not after it baked.

    Lambda pulls an image only from ECR in the function's own region, so each target names its
    own copy (``{region}``, ``{account}`` in image-uri); every copy must be the same image, one
    digest, and each target then deploys that digest, whatever a tag points at by the time its
    wave starts."""
    pairs = [(entry, target) for entry in entries for target in waves.targets]
    with ThreadPoolExecutor(max_workers=fleet.max_parallel, thread_name_prefix="reach") as pool:
        reached = list(pool.map(lambda pair: _reach(pair[0], pair[1], io, connect, env), pairs))
    problems = [problem for each in reached for problem in each.problems]
    for entry in entries:
        digests: dict[str, list[str]] = {}
        for each in reached:
            if each.entry is entry and each.digest:
                digests.setdefault(each.digest, []).append(each.target.describe())
        if len(digests) > 1:
            where = "; ".join(f"sha256:{digest[:12]} in {', '.join(targets)}" for digest, targets in digests.items())
            problems.append(
                Problem(
                    f"{entry.name}: image-uri names different images in the targets ({where}); one artifact goes to every target",
                    hint="push the same image to every region, or let ECR replication copy it (it keeps the digest)",
                    input="image-uri",
                )
            )
        elif len(digests) == 1 and not problems:
            digest, targets = next(iter(digests.items()))
            packages.pin_image(entry.settings.function_name, digest)
            io.info(f"{entry.name}: one image, sha256:{digest}, in all {len(targets)} targets; each deploys it by digest")
    if problems:
        raise DeployError(*problems)
    io.info(f"every target reached before the first wave: {', '.join(t.describe() for t in waves.targets)}")


def _deploy_wave(
    wave: Wave,
    placed: list[_Placed],
    fleet: FleetSettings,
    io: Reporter,
    connect: Connect,
    clock: StoppableClock,
    stop: Stop,
    packages: Packages,
    timeline: _Timeline,
) -> WaveRun:
    started = timeline.now()
    if stop.event.is_set():
        not_run = tuple(_not_run(wave, p, stop.reason) for p in placed)
        return WaveRun(wave, "failed", not_run, "not run", started, started, started, stop.reason)
    timeline.mark(wave.name, f"deploying to {', '.join(t.describe() for t in wave.targets)}", io.info)
    entries = [Entry(_name(p), p.entry.inputs, p.settings) for p in placed]
    runs: list[FunctionRun[Result]] = run_functions(
        replace(fleet, display=f"wave {wave.name}"), entries, io, connect, clock, partial(deploy, packages=packages), stop=stop
    )
    targets = tuple(_target_run(wave, p, run) for p, run in zip(placed, runs, strict=True))
    failed = [t for t in targets if not t.done]
    if failed or stop.event.is_set():
        why = stop.reason if stop.event.is_set() and not failed else "; ".join(f"{_name_of(t)}: {t.status}" for t in failed)
        timeline.mark(wave.name, f"failed: {why}", io.info)
        return WaveRun(wave, "failed", targets, "not run", started, timeline.now(), timeline.now(), why)
    timeline.mark(wave.name, f"{len(targets)} deployed", io.info)
    return WaveRun(wave, "deployed", targets, "", started, timeline.now(), timeline.now())


def _target_run(wave: Wave, placed: _Placed, run: FunctionRun[Result]) -> TargetRun:
    result = run.ended.value
    base = TargetRun(
        wave.name,
        placed.target,
        placed.entry.name,
        run.status if result is None else result.status,
        function_name=placed.settings.function_name,
        alias=placed.settings.alias,
        seconds=round(run.seconds, 1),
        problems=run.ended.problems,
        bug=run.ended.code == 2,
    )
    if result is None:
        return replace(base, gate="; ".join(p.render() for p in run.ended.problems))
    reason = result.rollout.reason if result.rollout and result.rollout.reason else ""
    return replace(base, version=result.version, before=result.previous_version, account=_account_of(result), gate=reason, result=result)


def _not_run(wave: Wave, placed: _Placed, why: str) -> TargetRun:
    return TargetRun(
        wave.name, placed.target, placed.entry.name, "skipped", placed.settings.function_name, alias=placed.settings.alias, gate=why
    )


def _name(placed: _Placed) -> str:
    return f"{placed.entry.name}@{placed.target.describe()}"


def _name_of(run: TargetRun) -> str:
    return f"{run.function}@{run.target.describe()}"


def _bake(ran: WaveRun, placed: list[_Placed], io: Reporter, connect: Connect, clock: StoppableClock, timeline: _Timeline) -> WaveRun:
    """The wave's health gates for ``bake`` seconds; the aliases record the wave, then that it baked."""
    wave = ran.wave
    reach = {_name(p): (p, connect(p.settings, io)) for p in placed}
    aliases = {name: services.lambda_.get_alias(p.settings.function_name, p.settings.alias) for name, (p, services) in reach.items()}
    targets = tuple(_with_record(run, aliases.get(_name_of(run))) for run in ran.targets)
    if all(t.bake == "already baked" for t in targets):
        timeline.mark(wave.name, "already baked for these versions: the bake is not repeated", io.info)
        return replace(ran, targets=targets, bake="already baked", ended=timeline.now())
    try:  # where each target came from, on its alias, before the bake: a re-run after a cancel still knows
        targets = tuple(_record(t, reach[_name_of(t)][1], aliases.get(_name_of(t)), baked=False) for t in targets)
    except DeployError as error:
        return _bake_failed(ran, targets, f"recording the wave on an alias failed: {error}", timeline, io)
    baked_from = timeline.now()
    # A bake after 100% has no stable version serving beside the new one: no canary analysis.
    gates = {name: health_gate(p.settings, services, clock.now) for name, (p, services) in reach.items()}
    if not any(p.settings.rollout.alarms or p.settings.rollout.max_error_rate is not None for p in placed):
        io.warning(f"wave {wave.name} has no health gate (alarms, max-error-rate): its bake only waits")
    timeline.mark(wave.name, f"baking {format_duration(round(wave.bake))} under the health gates", io.info)
    since = clock.now()
    deadline = clock.monotonic() + wave.bake
    interval = min((p.settings.rollout.health_interval for p in placed), default=10.0)
    progress = Progress(clock.monotonic)
    try:
        while True:
            for run in targets:
                verdict = gates[_name_of(run)].check(run.version, run.before or run.version, since)
                if not verdict.healthy:
                    where = f"{run.function} in {run.target.describe()}"
                    return _bake_failed(ran, targets, f"{verdict.reason} ({where}; {verdict.summary})", timeline, io, _name_of(run))
            left = deadline - clock.monotonic()
            if left <= 0:
                break
            if progress.due():
                io.info(f"wave {wave.name}: healthy, {format_duration(round(left))} of bake left")
            clock.sleep(min(interval, left))
    except Cancelled as cancelled:
        return _bake_failed(ran, targets, str(cancelled) or "cancelled", timeline, io, status="cancelled")
    except DeployError as error:
        return _bake_failed(ran, targets, f"a health check failed: {error}", timeline, io)
    try:
        targets = tuple(_record(t, reach[_name_of(t)][1], None, baked=True) for t in targets)
    except DeployError as error:
        return _bake_failed(ran, targets, f"recording the bake on an alias failed: {error}", timeline, io)
    timeline.mark(wave.name, "bake passed", io.info)
    passed = tuple(replace(t, bake="passed") for t in targets)
    return replace(ran, targets=passed, bake="passed", baked_from=baked_from, ended=timeline.now())


def _with_record(run: TargetRun, alias: AliasState | None) -> TargetRun:
    """What the alias says of this wave: where a target that did not move now came from, and whether it baked."""
    mark = wave_mark(alias.description) if alias is not None else None
    if alias is None or mark is None or mark.version != run.version or alias.weights:
        return run
    before = mark.before if run.before == run.version else run.before  # a target this run found moved: the mark knows from where
    return replace(run, before=before, bake="already baked" if mark.baked else run.bake)


def _record(run: TargetRun, services: Services, alias: AliasState | None, baked: bool) -> TargetRun:
    """Write the wave's mark on the alias (guarded by its RevisionId); nothing when it already says so."""
    lambda_ = services.lambda_
    current = alias if alias is not None else lambda_.get_alias(run.function_name, run.alias)
    if current is None:
        raise DeployError.of(f"alias '{run.alias}' of {run.function} in {run.target.describe()} is gone")
    mark = WaveMark(run.wave, run.version, run.before, baked)
    if wave_mark(current.description) == mark:
        return run
    lambda_.point_alias(
        run.function_name, run.alias, current.version, current.revision_id, dict(current.weights), with_wave_mark(current.description, mark)
    )
    return run


def _bake_failed(
    ran: WaveRun, targets: tuple[TargetRun, ...], why: str, timeline: _Timeline, io: Reporter, culprit: str = "", status: str = "tripped"
) -> WaveRun:
    timeline.mark(ran.wave.name, f"bake {status}: {why}", io.info)
    marked = tuple(replace(t, bake=status, gate=why if _name_of(t) == culprit or not culprit else t.gate) for t in targets)
    return replace(ran, status="failed", targets=marked, bake=f"{status}: {why}", ended=timeline.now(), reason=why)


def _roll_back(ran: WaveRun, placed: list[_Placed], io: Reporter, connect: Connect, timeline: _Timeline) -> WaveRun:
    """Every target of the wave that serves this run's version goes back to the one it served before."""
    by_name = {_name(p): p for p in placed}
    targets = []
    for run in ran.targets:
        placed_run = by_name.get(_name_of(run))
        if placed_run is None or not run.done or not run.version:
            targets.append(replace(run, rolled_back=run.rolled_back or ("nothing to undo" if not run.done else "")))
            continue
        targets.append(replace(run, rolled_back=_put_back(run, connect(placed_run.settings, io), io)))
    status = "rolled-back" if ran.status != "not-started" else ran.status
    timeline.mark(ran.wave.name, "rolled back: " + "; ".join(f"{_name_of(t)} {t.rolled_back}" for t in targets), io.info)
    return replace(ran, status=status, targets=tuple(targets))


def _put_back(run: TargetRun, services: Services, io: Reporter) -> str:
    lambda_ = services.lambda_
    where = f"{run.function} in {run.target.describe()}"
    try:
        alias = lambda_.get_alias(run.function_name, run.alias)
        if alias is None:
            return "alias gone: nothing to undo"
        if run.before == run.version:
            return "nothing to undo: it served this version before"
        if alias.version != run.version or alias.weights:
            io.warning(f"{where}: alias {run.alias} serves version {alias.version} now, not {run.version}: someone moved it; left alone")
            return f"left alone: someone moved it to version {alias.version}"
        if not run.before:
            lambda_.delete_alias(run.function_name, run.alias)
            return "alias removed (this deploy created it)"
        lambda_.point_alias(run.function_name, run.alias, run.before, alias.revision_id, {}, with_wave_mark(alias.description, None))
    except ConflictError:
        io.warning(f"{where}: alias {run.alias} changed while it was being rolled back; left alone")
        return "left alone: it changed meanwhile"
    except DeployError as error:
        io.warning(f"{where}: could not roll alias {run.alias} back to version {run.before}: {error}")
        return f"NOT rolled back ({error}): run rollback for it"
    return f"back on version {run.before}"
