"""How often a long wait says where it stands: the first check, then once per minute, and the last."""

from __future__ import annotations

from deployer.progress import Progress


def test_a_long_wait_speaks_at_the_first_check_then_once_a_minute_and_at_the_last() -> None:
    now = [0.0]
    progress = Progress(lambda: now[0])
    said = []
    for second in range(0, 300, 10):  # a five-minute bake checked every 10 s
        now[0] = float(second)
        if progress.due(last=second == 290):
            said.append(second)
    assert said == [0, 60, 120, 180, 240, 290]


def test_every_check_speaks_when_checks_are_a_minute_apart() -> None:
    now = [0.0]
    progress = Progress(lambda: now[0], every=60.0)
    spoken = []
    for minute in range(4):
        now[0] = minute * 60.0
        spoken.append(progress.due())
    assert spoken == [True, True, True, True]
