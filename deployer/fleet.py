"""Many functions from one deploy file: the one pipeline, run for each, in a bounded pool.

Contract: ``run_fleet(fleet, inputs, env, io, connect, clock)`` validates the whole file
first (``deploy_file``: nothing runs unless every function is valid), then:

- ``command: list`` writes output ``functions`` (a JSON array, for ``strategy.matrix``)
  and makes no AWS call;
- ``only: NAME`` runs that one function exactly as a single-function run, with the
  single-function outputs (one job of a matrix);
- otherwise every function goes through ``pipeline.run`` in a pool of ``max-parallel``
  threads, so rollouts bake at the same time. Each function logs with its name in front,
  has its own AWS clients and call counts, and fails alone; with ``fail-fast`` the first
  failure skips the functions not started and cancels the running ones (a rollout then
  rolls back). SIGTERM cancels them all the same way. The functions share one session
  per region, so a role is assumed once.

It returns the exit code (2 if any function hit a bug, else 1 if any failed) and the
results by function, which become output ``results``, the summary's table and ``--json``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3

from . import report
from .aws import Services, open_session
from .deploy_file import Entry, read_deploy_file
from .errors import Cancelled, DeployError, Problem
from .github import Reporter
from .pipeline import Connect, Ended, comment_on_pull_request, main, on_stop_signals, run, web_identity
from .rollout import Clock, SystemClock
from .settings import FleetSettings, Settings


@dataclass(frozen=True)
class FunctionRun:
    name: str
    ended: Ended
    seconds: float
    status: str  # the result's status, or failed | skipped | cancelled


class _Stop:
    """Why the functions still to run should not (fail-fast, or a signal); thread-safe."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason = ""

    def set(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            self.event.set()


class _StoppableClock:
    """The rollout's clock, whose sleeps end in ``Cancelled`` once the fleet stops, so a
    baking canary rolls back at once."""

    def __init__(self, clock: Clock, stop: _Stop) -> None:
        self._clock = clock
        self._stop = stop

    def monotonic(self) -> float:
        return self._clock.monotonic()

    def now(self) -> datetime:
        return self._clock.now()

    def sleep(self, seconds: float) -> None:
        if self._stop.event.is_set():
            raise Cancelled(self._stop.reason)
        if isinstance(self._clock, SystemClock):
            if self._stop.event.wait(seconds):
                raise Cancelled(self._stop.reason)
            return
        self._clock.sleep(seconds)


class FunctionLog:
    """One function's view of the run's log: every line names the function. Groups cannot
    interleave in a step's log, so a group is a heading line; outputs and the summary are
    the fleet's to write."""

    def __init__(self, io: Reporter, name: str, lock: threading.Lock) -> None:
        self._io, self._name, self._lock = io, name, lock

    def _say(self, text: str) -> str:
        return "\n".join(f"[{self._name}] {line}" for line in text.splitlines() or [""])

    def mask(self, value: str) -> None:
        with self._lock:
            self._io.mask(value)

    def group(self, title: str) -> AbstractContextManager[None]:
        self.info(f"── {title}")
        return _nothing()

    def info(self, text: str) -> None:
        with self._lock:
            self._io.info(self._say(text))

    def notice(self, text: str) -> None:
        with self._lock:
            self._io.notice(self._say(text))

    def warning(self, text: str) -> None:
        with self._lock:
            self._io.warning(self._say(text))

    def error(self, problem: Problem) -> None:
        where = f"function '{self._name}'" + (f", {problem.place}" if problem.place else "")
        with self._lock:
            self._io.error(Problem(problem.what, where, problem.hint, problem.file, problem.line, problem.input))

    def outputs(self, values: Mapping[str, str]) -> None:
        return None

    def summary(self, markdown: str) -> None:
        return None


@contextmanager
def _nothing() -> Iterator[None]:
    yield


class _SharedConnect:
    """One session per region for the whole fleet (one role assumed, one refresh), and
    each function's clients made from it; sessions are not thread-safe, hence the lock."""

    def __init__(self, io: Reporter) -> None:
        self._io = io
        self._lock = threading.Lock()
        self._sessions: dict[str, boto3.session.Session] = {}

    def __call__(self, settings: Settings, io: Reporter) -> Services:
        with self._lock:
            session = self._sessions.get(settings.region)
            if session is None:
                session = open_session(settings.region, web_identity(settings.credentials, self._io), self._io.mask, self._io.info)
                self._sessions[settings.region] = session
        return Services.on(session, settings.wait_timeout, io.info, lock=self._lock)


def run_fleet(
    fleet: FleetSettings,
    inputs: Mapping[str, str],
    env: Mapping[str, str],
    io: Reporter,
    connect: Connect | None = None,
    clock: Clock | None = None,
) -> tuple[int, dict[str, Any]]:
    """Run the deploy file; the exit code and the results by function."""
    try:
        entries = read_deploy_file(fleet, inputs, env)
    except DeployError as error:
        for problem in error.problems:
            io.error(problem)
        io.summary(report.failure_markdown(error))
        return 1, {}
    for entry in entries:
        for secret in entry.settings.secrets:
            io.mask(secret)
    if fleet.listing:
        names = [entry.name for entry in entries]
        io.outputs({"functions": report.json_text(names)})
        io.summary(report.listing_markdown(fleet.display, names))
        return 0, {"functions": names}
    if fleet.only is not None:
        (entry,) = entries
        code, result = main(entry.inputs, env, io, connect or _SharedConnect(io), clock)
        return code, {entry.name: report.result_entry(result)} if result else {}
    runs = _run_all(fleet, entries, io, connect or _SharedConnect(io), clock or SystemClock())
    results = {each.name: report.fleet_entry(each.ended.result, each.status, each.ended.problems, each.seconds) for each in runs}
    if any(entry.settings.diff for entry in entries):  # command: diff, for every function of the file
        from .commands import diff

        for each in runs:
            if each.ended.result is not None:
                results[each.name]["difference"] = diff.as_json(diff.of(each.ended.result))
    io.outputs({"results": report.json_text(results), "status": "deployed" if all(r.ended.code == 0 for r in runs) else "failed"})
    io.summary(report.fleet_markdown(fleet.display, [(r.name, r.ended.result, r.status, r.seconds) for r in runs]))
    codes = [each.ended.code for each in runs]
    return (2 if 2 in codes else 1 if any(codes) else 0), results


def _run_all(fleet: FleetSettings, entries: list[Entry], io: Reporter, connect: Connect, clock: Clock) -> list[FunctionRun]:
    stop = _Stop()
    lock = threading.Lock()
    stoppable = _StoppableClock(clock, stop)
    io.info(
        f"deploying {len(entries)} functions from {fleet.display}, {fleet.max_parallel} at a time"
        + (", fail-fast" if fleet.fail_fast else "")
    )

    def one(entry: Entry) -> FunctionRun:
        log = FunctionLog(io, entry.name, lock)
        if stop.event.is_set():
            log.info(f"skipped: {stop.reason}")
            return FunctionRun(entry.name, Ended(1, None, (Problem(f"skipped: {stop.reason}"),)), 0.0, "skipped")
        started = time.monotonic()
        ended = run(entry.settings, log, connect, stoppable)
        if ended.result is not None:
            comment_on_pull_request(entry.settings, ended.result, log)
        seconds = time.monotonic() - started
        status = ended.result.status if ended.result else ("cancelled" if stop.event.is_set() else "failed")
        if ended.code and fleet.fail_fast:
            stop.set(f"fail-fast: function '{entry.name}' failed")
        log.info(f"{status} in {seconds:.1f}s")
        return FunctionRun(entry.name, ended, seconds, status)

    with (
        on_stop_signals(lambda name: stop.set(f"cancelled by {name}")),
        ThreadPoolExecutor(max_workers=fleet.max_parallel, thread_name_prefix="function") as pool,
    ):
        return list(pool.map(one, entries))
