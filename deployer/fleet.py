"""Many functions from one deploy file: the one engine, run for each, in a bounded pool.

Contract: ``run_functions(fleet, entries, io, connect, clock, work, after)`` runs
``pipeline.run`` with ``work`` for every entry in a pool of ``max-parallel`` threads, so
rollouts bake at the same time. Each function logs with its name in front (``FunctionLog``),
has its own AWS clients and call counts, and fails alone: its problems are said on its own
lines as it ends, and ``after`` (the pull-request comment) runs for it then. With
``fail-fast`` the first failure skips the functions not started and cancels the running ones
(a rollout then rolls back); SIGTERM cancels them all the same way. It returns one
``FunctionRun`` per function, in the file's order; the command turns them into its report.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from .deploy_file import Entry
from .errors import Cancelled, Problem
from .github import Reporter
from .pipeline import Connect, Ended, Work, run
from .rollout import Clock, SystemClock
from .settings import FleetSettings
from .signals import on_stop_signals
from .text import counted

T = TypeVar("T")


@dataclass(frozen=True)
class FunctionRun(Generic[T]):
    name: str
    ended: Ended[T]
    seconds: float
    status: str  # the result's status, or failed | skipped | cancelled


class Stop:
    """Why the functions still to run should not (fail-fast, or a signal); thread-safe."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason = ""

    def set(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            self.event.set()


class StoppableClock:
    """The rollout's clock, whose sleeps end in ``Cancelled`` once the fleet stops, so a
    baking canary rolls back at once."""

    def __init__(self, clock: Clock, stop: Stop) -> None:
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


def run_functions(
    fleet: FleetSettings,
    entries: list[Entry],
    io: Reporter,
    connect: Connect,
    clock: Clock | None,
    work: Work[T],
    after: Callable[[Entry, Ended[T], Reporter], None] = lambda *_: None,
    stop: Stop | None = None,
) -> list[FunctionRun[T]]:
    """``stop`` given: the caller's (waves), which also owns the signal handlers; else this run's own."""
    owned = stop is None
    stop = stop or Stop()
    lock = threading.Lock()
    stoppable = StoppableClock(clock or SystemClock(), stop)
    fail_fast = ", fail-fast" if fleet.fail_fast else ""
    io.info(f"running {counted(len(entries), 'function')} from {fleet.display}, {fleet.max_parallel} at a time{fail_fast}")

    def one(entry: Entry) -> FunctionRun[T]:
        log = FunctionLog(io, entry.name, lock)
        if stop.event.is_set():
            log.info(f"skipped: {stop.reason}")
            return FunctionRun(entry.name, Ended(1, None, (Problem(f"skipped: {stop.reason}"),)), 0.0, "skipped")
        started = time.monotonic()
        ended = run(entry.settings, log, connect, stoppable, work)
        if ended.trace:
            log.info(ended.trace)
        for problem in ended.problems:
            log.error(problem)
        after(entry, ended, log)
        seconds = time.monotonic() - started
        value = ended.value
        status = str(getattr(value, "status", "")) or ("cancelled" if stop.event.is_set() else "failed" if ended.code else "done")
        if ended.code and fleet.fail_fast:
            stop.set(f"fail-fast: function '{entry.name}' failed")
        log.info(f"{status} in {seconds:.1f}s")
        return FunctionRun(entry.name, ended, seconds, status)

    handlers = on_stop_signals(lambda name: stop.set(f"cancelled by {name}")) if owned else nullcontext()
    with handlers, ThreadPoolExecutor(max_workers=fleet.max_parallel, thread_name_prefix="function") as pool:
        return list(pool.map(one, entries))
