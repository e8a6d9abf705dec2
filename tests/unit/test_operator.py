"""Pure parts of the operator commands: durations and versions in logs, following without
repeats, file differences, payloads."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from deployer.aws import LogEvent
from deployer.commands import diff, logs
from deployer.commands.invoke import read_payload
from deployer.errors import DeployError
from deployer.livecode import Files, compare_files
from tests.conftest import make_zip

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("10m", NOW - timedelta(minutes=10)),
        ("2h", NOW - timedelta(hours=2)),
        ("1d", NOW - timedelta(days=1)),
        ("2026-11-30T14:00:00Z", datetime(2026, 11, 30, 14, 0, tzinfo=UTC)),
        ("2026-11-30T14:00:00", datetime(2026, 11, 30, 14, 0, tzinfo=UTC)),
    ],
)
def test_since_takes_durations_and_timestamps(since: str, expected: datetime) -> None:
    assert logs.parse_since(since, NOW) == expected


def test_a_version_comes_from_the_stream_or_a_json_line() -> None:
    assert logs.version_of(LogEvent(0, "2026/11/30/[7]abc", "x", "1")) == "7"
    assert logs.version_of(LogEvent(0, "2026/11/30/[$LATEST]abc", "x", "1")) == "$LATEST"
    assert logs.version_of(LogEvent(0, "custom", '{"level": "INFO", "version": "3"}', "1")) == "3"
    assert logs.version_of(LogEvent(0, "custom", "plain text", "1")) == ""


class Growing:
    """A log group that gains an event between polls, and answers from startTime inclusive."""

    def __init__(self) -> None:
        self.events = [LogEvent(1000, "s/[1]a", "first", "e1")]

    def events_since(self, start: int) -> list[LogEvent]:
        return [e for e in self.events if e.timestamp >= start]

    def events_for(self, group: str, start_ms: int, pattern: str = "") -> list[LogEvent]:
        found = self.events_since(start_ms)
        self.events.append(LogEvent(1000 + len(self.events) * 10, "s/[1]a", f"event {len(self.events) + 1}", f"e{len(self.events) + 1}"))
        return found


def test_follow_prints_each_event_once_and_stops_after_its_rounds() -> None:
    group = Growing()
    shown: list[str] = []

    class Gateway:
        def events(self, group_name: str, start_ms: int, pattern: str = "") -> list[LogEvent]:
            return group.events_for(group_name, start_ms, pattern)

    sleeps: list[float] = []
    logs.follow(
        Gateway(), logs.Query("/aws/lambda/f", datetime.fromtimestamp(0, UTC)), lambda e: shown.append(e.message), sleeps.append, rounds=3
    )  # type: ignore[arg-type]
    assert shown == ["first", "event 2", "event 3"] and len(sleeps) == 2


def test_files_added_removed_and_changed() -> None:
    live = make_zip({"a.py": "1", "b.py": "2", "c.py": "3"})
    wanted = make_zip({"a.py": "1", "b.py": "two", "d.py": "4"})
    assert compare_files(live, wanted) == Files(added=("d.py",), removed=("c.py",), changed=("b.py",))


def test_the_same_files_in_other_zip_bytes_are_no_difference_but_a_lost_executable_bit_is() -> None:
    def zipped(mode: int, level: int) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
            info = zipfile.ZipInfo("bootstrap", date_time=(2020, 1, 1, 0, 0, 0))
            info.create_system, info.external_attr, info.compress_type = 3, (0o100000 | mode) << 16, zipfile.ZIP_DEFLATED
            archive.writestr(info, "#!/bin/sh\necho hi\n" * 20, compresslevel=level)
        return buffer.getvalue()

    assert zipped(0o755, 0) != zipped(0o755, 9)  # other bytes...
    assert not compare_files(zipped(0o755, 0), zipped(0o755, 9)).any  # ...the same files
    assert compare_files(zipped(0o755, 9), zipped(0o644, 9)).changed == ("bootstrap",)


def test_a_difference_as_json_and_its_exit_code() -> None:
    difference = diff.Difference("f", "live", ("memory: 128 → 256",), "a=", "b=", diff.Files(("x",), (), ()), ("step",), False, True)
    shown = diff.as_json(difference)
    assert shown["differs"] is True and shown["configuration"] == ["memory: 128 → 256"] and shown["files"]["added"] == ["x"]
    assert diff.exit_code(difference) == 3 and diff.exit_code(diff.Difference("f", "live", (), "a=", "a=")) == 0


def test_a_payload_is_json_or_a_file(tmp_path: object) -> None:
    assert read_payload('{"a": 1}') == '{"a": 1}' and read_payload("") == "{}"
    with pytest.raises(DeployError, match="is not valid JSON"):
        read_payload("{nope")
    with pytest.raises(DeployError, match="nests deeper than 32"):
        read_payload("[" * 100 + "]" * 100)
    with pytest.raises(DeployError, match="cannot read"):
        read_payload("@/nonexistent/event.json")
