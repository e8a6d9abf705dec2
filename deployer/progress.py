"""How often a long wait says where it is.

Contract: ``Progress(monotonic, every)``: ``due()`` is True at the first check, then at most
once per ``every`` seconds of ``monotonic``, and always when ``last`` is set. A 30-minute bake
checked every 10 s then says where it stands once a minute instead of 180 times; every check
still counts, and what changes the run (an unhealthy check, a shift, a rollback) is logged by
its caller whenever it happens, never held back here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

EVERY = 60.0  # seconds between two "still healthy" lines of one wait


@dataclass
class Progress:
    monotonic: Callable[[], float]
    every: float = EVERY
    _said: float | None = field(default=None, init=False)

    def due(self, last: bool = False) -> bool:
        now = self.monotonic()
        if last or self._said is None or now - self._said >= self.every:
            self._said = now
            return True
        return False
