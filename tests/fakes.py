"""Test doubles: an injected clock, and a console that keeps the summaries' Markdown.

``FakeClock`` makes a 30-minute rollout run in milliseconds: ``sleep`` advances time
at once and fires whatever the test scheduled with ``at`` (an alarm flipping, someone
moving the alias, a cancellation) as the time passes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TextIO

from deployer.github import ConsoleIO


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.start = datetime.now(UTC)
        self.sleeps: list[float] = []
        self._scheduled: list[tuple[float, Callable[[], None]]] = []

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)

    def at(self, seconds: float, action: Callable[[], None]) -> None:
        self._scheduled.append((seconds, action))
        self._scheduled.sort(key=lambda item: item[0])

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        while self._scheduled and self._scheduled[0][0] <= self.t:
            _, action = self._scheduled.pop(0)
            action()


class SummaryConsole(ConsoleIO):
    """The console as a terminal shows it, keeping the summaries' Markdown as the runner would get it."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self.summaries: list[str] = []

    def summary(self, markdown: str) -> None:
        self.summaries.append(markdown)
        super().summary(markdown)
