"""The runner's cancel (SIGTERM) and a Ctrl-C (SIGINT), as a ``Cancelled`` a rollout can act on.

Contract: ``on_stop_signals(handler)`` calls ``handler`` with the signal's name while a block
runs, then puts the old handlers back; only the main thread receives signals, so elsewhere (a
fleet's worker) it does nothing. ``cancel_on_signals()`` turns the first signal into
``Cancelled`` (a second one must not interrupt the rollback that the first one started).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from .errors import Cancelled

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def on_stop_signals(handler: Callable[[str], None]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        handler(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def cancel_on_signals() -> Iterator[None]:
    fired = False

    def cancel(name: str) -> None:
        nonlocal fired
        if not fired:
            fired = True
            raise Cancelled(name)

    with on_stop_signals(cancel):
        yield
