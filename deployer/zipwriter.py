"""The zip container (PKWARE APPNOTE 6.3.x) around members that are already compressed.

Contract: ``write_zip(members)`` lays out the given ``Member`` records in the order given:
a local file header and the data for each, then the central directory and its end record,
with the zip64 records when sizes, offsets or the number of entries need them. Every
field comes from the member (name, CRC-32, sizes, method, mode); times are fixed at
1980-01-01 00:00, so the same members always give the same bytes. Python's ``zipfile``
cannot take members compressed elsewhere (in parallel, with zlib-ng), hence this writer;
its output is checked against ``zipfile`` and ``unzip -t``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

STORED, DEFLATED = 0, 8
_UTF8_NAMES = 0x0800  # general purpose bit 11: the name is UTF-8
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_DOS_TIME = 0  # 00:00:00
_MADE_BY = (3 << 8) | 20  # unix, so external_attr carries the mode; spec 2.0
LIMIT_32 = 0xFFFFFFFF
LIMIT_16 = 0xFFFF


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes  # the stored or deflated bytes
    crc: int
    size: int  # uncompressed
    method: int  # STORED or DEFLATED
    mode: int  # unix mode bits, e.g. 0o100644


def _zip64_extra(values: Sequence[int]) -> bytes:
    return struct.pack("<HH", 0x0001, 8 * len(values)) + b"".join(struct.pack("<Q", v) for v in values)


def write_zip(members: Sequence[Member], limit_32: int = LIMIT_32, limit_16: int = LIMIT_16) -> bytes:
    """The archive's bytes. ``limit_32`` / ``limit_16`` are the format's field limits; a test
    lowers them to take the zip64 paths without writing gigabytes."""
    parts: list[bytes] = []  # joined once at the end: growing one buffer would copy it again and again
    central = bytearray()
    offset = 0
    for member in members:
        name = member.name.encode("utf-8")
        flags = 0 if name.isascii() else _UTF8_NAMES
        big = member.size >= limit_32 or len(member.data) >= limit_32
        local_extra = _zip64_extra([member.size, len(member.data)]) if big else b""
        version = 45 if big or offset >= limit_32 else 20
        header = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50, version, flags, member.method, _DOS_TIME, _DOS_DATE, member.crc,
            LIMIT_32 if big else len(member.data), LIMIT_32 if big else member.size, len(name), len(local_extra),
        ) + name + local_extra  # fmt: skip
        parts += (header, member.data)
        wide = [v for v in (member.size, len(member.data), offset) if v >= limit_32]
        central_extra = _zip64_extra(wide) if wide else b""
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50, _MADE_BY, version, flags, member.method, _DOS_TIME, _DOS_DATE, member.crc,
            len(member.data) if len(member.data) < limit_32 else LIMIT_32,
            member.size if member.size < limit_32 else LIMIT_32,
            len(name), len(central_extra), 0, 0, 0, member.mode << 16,
            offset if offset < limit_32 else LIMIT_32,
        )  # fmt: skip
        central += name + central_extra
        offset += len(header) + len(member.data)
    start, count = offset, len(members)
    parts.append(bytes(central))
    if count >= limit_16 or start >= limit_32 or len(central) >= limit_32:
        end64 = start + len(central)
        parts.append(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, _MADE_BY, 45, 0, 0, count, count, len(central), start))
        parts.append(struct.pack("<IIQI", 0x07064B50, 0, end64, 1))
    entries = count if count < limit_16 else LIMIT_16  # the sentinels send readers to the zip64 record
    parts.append(struct.pack(
        "<IHHHHIIH",
        0x06054B50, 0, 0, entries, entries,
        len(central) if len(central) < limit_32 else LIMIT_32, start if start < limit_32 else LIMIT_32, 0,
    ))  # fmt: skip
    return b"".join(parts)
