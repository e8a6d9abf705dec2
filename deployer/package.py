"""Source -> a deterministic zip ``Artifact`` whose hash equals Lambda's ``CodeSha256``.

Contract: the same file contents, names and executable bits give the same bytes,
whatever the file times, the owner or the order the file system lists them in.
Entries are sorted, stamped 1980-01-01 and given mode 0644 (0755 when executable).
Members are deflated with zlib-ng in parallel threads, at a level a quick probe picks
(stored when they do not compress); the bytes depend on zlib-ng's version, which is pinned.
A ready ``.zip`` is used byte for byte. Symlinks are followed only while they stay
inside the source; one that escapes is refused, as is any entry that would escape
the archive root, and any file name that is not valid UTF-8 (listed, escaped).
``requirements`` are installed as manylinux wheels for the function's runtime and
architecture and zipped beside the code (code wins a clash).
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import hashlib
import io
import os
import posixpath
import re
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from zlib_ng import zlib_ng

from .errors import DeployError
from .settings import ALWAYS_EXCLUDED
from .zipwriter import DEFLATED, STORED, Member, write_zip

# How each member is compressed follows a quick probe: its first 4 KB deflated at level 1
# (on the benchmark tree, 16 KB probes cost 15% of the packager's time for the same bytes;
# on real code, 4 KB gives 0.1% more bytes).
# Above 97% of their size, the member is stored: deflating it in full would save next to
# nothing (wheels' .so files, images, archives). Below 20%, it is very redundant text, where
# zlib-ng's level 9 finds the long matches its lower levels miss, at little cost on such
# data. Otherwise level 5: measured on the generated benchmark tree, it takes half the time
# of level 6 for 0.3% more bytes, and zlib-ng's level 9 is slower and no tighter there.
PROBE_BYTES = 4 * 1024
STORE_RATIO = 0.97
REDUNDANT_RATIO = 0.2
COMPRESS_LEVEL = 5
REDUNDANT_LEVEL = 9
# Threads, not processes: the work is deflate (zlib-ng releases the GIL) and reading files.
WORKERS = os.cpu_count() or 2
BATCH = 32  # files per task
RAW = -15  # wbits for raw deflate: the zip format has its own header and CRC
_MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}
# The glibc of the runtime's OS: Amazon Linux 2023 (python3.12 and later) has 2.34, Amazon
# Linux 2 (earlier Pythons) 2.26 (Developer Guide, "Lambda runtimes").
GLIBC_AL2023, GLIBC_AL2 = 34, 26
OLDEST_GLIBC = 17  # manylinux2014 is manylinux_2_17


@dataclass(frozen=True)
class Artifact:
    zip_bytes: bytes
    sha256: str  # as Lambda reports CodeSha256: base64 SHA-256 of a zip, an image's digest in hex
    file_count: int
    kind: str  # "directory", "file", "zip", "image" or "s3 object"
    unzipped_size: int = 0  # what the package takes once Lambda unpacks it
    location: Mapping[str, str] | None = None  # ImageUri, or S3Bucket/S3Key(/S3ObjectVersion): code Lambda fetches itself

    @property
    def size(self) -> int:
        return len(self.zip_bytes)

    @property
    def code(self) -> dict[str, Any]:
        """The ``Code`` / UpdateFunctionCode parameters that carry this package."""
        return dict(self.location) if self.location is not None else {"ZipFile": self.zip_bytes}


def located(location: Mapping[str, str], sha256: str, kind: str) -> Artifact:
    """Code that is already where Lambda takes it from: an image in ECR, an object in S3."""
    return Artifact(b"", sha256, 0, kind, 0, dict(location))


def artifact(data: bytes, kind: str) -> Artifact:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = archive.infolist()
        _check_ready_zip(archive, entries)
    return Artifact(data, code_sha256(data), len(entries), kind, sum(entry.file_size for entry in entries))


_S_IFMT, _S_IFLNK = 0o170000, 0o120000


def _zip_problem(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> str:
    """Why an entry of a ready zip must not reach Lambda; "" when it is fine. Lambda unpacks
    the zip as it is: an absolute or ``..`` name writes outside the task root, a symlink that
    leaves the archive reads the host's files (``/proc/self/environ`` holds the credentials),
    and ``.git`` holds the checkout's token (``actions/checkout`` keeps it in ``.git/config``)."""
    name = entry.filename.replace("\\", "/")
    parts = name.split("/")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "an absolute path"
    if ".." in parts:
        return "a path that climbs out with '..'"
    if GIT_DIR in parts:
        return "part of a .git folder"
    if (entry.external_attr >> 16) & _S_IFMT == _S_IFLNK:
        target = archive.read(entry).decode("utf-8", "replace")
        landed = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
        if target.startswith("/") or landed == ".." or landed.startswith("../"):
            return f"a symlink that leaves the archive (to {target})"
    return ""


def _check_ready_zip(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> None:
    refused = [(entry.filename, why) for entry in entries if (why := _zip_problem(archive, entry))]
    if refused:
        shown = "; ".join(f"'{_printable(name)}': {why}" for name, why in refused[:5])
        more = f" and {len(refused) - 5} more" if len(refused) > 5 else ""
        raise DeployError.about(
            "source",
            f"the ready .zip holds {len(refused)} entr{'y' if len(refused) == 1 else 'ies'} Lambda must not unpack: {shown}{more}",
            "build the zip from inside the function's folder with relative names only, no links out of it and no .git "
            "(for example: cd src && zip -r ../function.zip . -x '.git/*'), or give the folder as source and let lambda-deploy zip it",
        )


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def is_excluded(relative: str, patterns: Iterable[str]) -> bool:
    """Match a posix path against globs; ``dir/`` patterns match a directory anywhere."""
    return _excluder(tuple(patterns))(relative)


@cache
def _excluder(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """The globs compiled once per build: thousands of files are matched against them."""
    folders = [re.compile(fnmatch.translate(p.rstrip("/"))) for p in (*ALWAYS_EXCLUDED, *patterns) if p.endswith("/")]
    names = [re.compile(fnmatch.translate(p)) for p in (*ALWAYS_EXCLUDED, *patterns) if not p.endswith("/")]

    def excluded(relative: str) -> bool:
        parts = relative.split("/")
        if any(folder.match(part) for folder in folders for part in parts[:-1]):
            return True
        return any(name.match(relative) or name.match(parts[-1]) for name in names)

    return excluded


GIT_DIR = ".git"


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    """Yield (archive name, real path) for every file, following safe symlinks. Nothing of a
    ``.git`` folder is yielded, however it is reached: ``actions/checkout`` keeps the job's
    token in ``.git/config`` (``extraheader AUTHORIZATION``)."""
    real_root = root.resolve()

    def inside(path: Path) -> bool:
        return path == real_root or real_root in path.parents

    def in_git(path: Path) -> bool:
        """Inside a ``.git`` folder (or one itself): the checkout's credentials live there."""
        return GIT_DIR in path.relative_to(real_root).parts

    def resolved(path: Path, name: str) -> Path:
        """Where ``path`` leads; a link that loops (or cannot be followed) is the user's to fix."""
        try:
            if path.is_symlink():
                with contextlib.suppress(FileNotFoundError):  # a dangling link leads nowhere: skipped, not refused
                    os.stat(path)  # follows the link: ELOOP when it loops, whatever Python's resolve() makes of it
            return path.resolve()
        except (OSError, RuntimeError) as error:  # RuntimeError: resolve()'s "Symlink loop" on Python 3.11
            raise DeployError.about(
                "source",
                f"'{name or '.'}' cannot be followed: {getattr(error, 'strerror', None) or error}",
                "a symlink in the source loops back on itself or leads nowhere: remove it, or leave it out with exclude",
            ) from None

    def visit(directory: Path, prefix: str, ancestors: frozenset[Path] = frozenset()) -> Iterator[tuple[str, Path]]:
        real = resolved(directory, prefix.rstrip("/"))
        if real in ancestors:  # a symlink back up the tree: its files are already included
            return
        ancestors = ancestors | {real}
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            name = f"{prefix}{entry.name}"
            path = Path(entry.path)
            if entry.name == GIT_DIR:  # a folder, a worktree's file, or a link: never packaged
                continue
            if entry.is_symlink():
                target = resolved(path, name)
                if not inside(target):
                    raise DeployError.about(
                        "source",
                        f"symlink '{name}' points outside the source (to {target})",
                        "copy the file into the source, or remove the link",
                    )
                if in_git(target):  # a link to .git or into it counts as .git
                    continue
                if target.is_dir():
                    yield from visit(target, f"{name}/", ancestors)
                elif target.is_file():
                    yield name, target
            elif entry.is_dir():
                yield from visit(path, f"{name}/", ancestors)
            elif entry.is_file():
                yield name, path

    yield from visit(root, "")


def _member(name: str, path: Path, buffer: bytearray) -> Member:
    """One file, read and compressed; runs in a worker thread (zlib-ng releases the GIL).

    The file is read into ``buffer``, the worker's own and reused: a fresh buffer per file
    costs page faults that threads then queue for. Only what the member keeps is copied."""
    if name.startswith("/") or ".." in name.split("/"):
        raise DeployError.of(f"entry '{name}' would escape the archive root", "input 'source'")
    with io.FileIO(path) as handle:
        stat = os.fstat(handle.fileno())
        if stat.st_size > len(buffer):
            buffer.extend(bytes(stat.st_size - len(buffer)))
        size = handle.readinto(memoryview(buffer)[: stat.st_size]) or 0
    mode = 0o100755 if stat.st_mode & 0o111 else 0o100644
    data = memoryview(buffer)[:size]
    crc = zlib_ng.crc32(data)
    if size <= PROBE_BYTES:  # small: deflating it all is the probe
        deflated = zlib_ng.compress(data, COMPRESS_LEVEL, RAW)
        ratio = len(deflated) / size if size else 1.0
        if ratio < REDUNDANT_RATIO:
            deflated = zlib_ng.compress(data, REDUNDANT_LEVEL, RAW)
    else:
        ratio = len(zlib_ng.compress(data[:PROBE_BYTES], 1, RAW)) / PROBE_BYTES
        level = REDUNDANT_LEVEL if ratio < REDUNDANT_RATIO else COMPRESS_LEVEL
        deflated = b"" if ratio > STORE_RATIO else zlib_ng.compress(data, level, RAW)
    if ratio > STORE_RATIO or len(deflated) >= size:  # deflate saves nothing: store it as it is
        return Member(name, bytes(data), crc, size, STORED, mode)
    return Member(name, deflated, crc, size, DEFLATED, mode)


def _members(batch: list[tuple[str, Path]]) -> list[Member]:
    buffer = _buffers.__dict__.setdefault("buffer", bytearray())
    return [_member(name, path, buffer) for name, path in batch]


_buffers = threading.local()  # each worker's read buffer


@dataclass(frozen=True)
class Packed:
    data: bytes
    count: int
    unzipped_size: int


def build_zip(files: Iterable[tuple[str, Path]]) -> Packed:
    """Zip (name, path) pairs; the archive is laid out in name order.

    The files are listed first, then read and compressed in parallel threads, a batch of
    files per task (one task per file costs more in hand-offs than small files take to
    deflate). Listing is Python-bound: done alongside the workers, it holds the GIL they
    wait for between files, which measured slower than listing first. The layout is
    sorted by name whatever order the members finish in, so the bytes depend only on the
    files."""
    listed = list(files)
    _refuse_non_utf8(name for name, _ in listed)
    batches = [listed[start : start + BATCH] for start in range(0, len(listed), BATCH)]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        done = pool.map(_members, batches)
        members = sorted((member for batch in done for member in batch), key=lambda member: member.name)
    return Packed(write_zip(members), len(members), sum(member.size for member in members))


def python_version(runtime: str) -> str:
    """``python3.12`` -> ``3.12``; other runtimes cannot take a requirements file."""
    if not runtime.startswith("python3."):
        raise DeployError.about(
            "requirements",
            f"requirements need a Python runtime, but the runtime is '{runtime or 'unknown'}'",
            "set runtime (for example: python3.12)",
        )
    return runtime.removeprefix("python")


def wheel_platforms(runtime: str, architecture: str) -> list[str]:
    """Every manylinux tag the function's OS can run, newest first. pip does not widen a
    newer tag to the older ones by itself, so each is named: packages that now ship only
    manylinux_2_28 wheels install for python3.12 and later, and not for older runtimes."""
    machine = _MACHINES[architecture]
    major, minor = (int(part) for part in python_version(runtime).split("."))
    glibc = GLIBC_AL2023 if (major, minor) >= (3, 12) else GLIBC_AL2
    return [f"manylinux_2_{version}_{machine}" for version in range(glibc, OLDEST_GLIBC - 1, -1)] + [f"manylinux2014_{machine}"]


def install_requirements(requirements: Path, runtime: str, architecture: str, target: Path) -> None:
    """pip-install manylinux wheels matching the function, not this machine."""
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--only-binary=:all:", "--implementation", "cp",
        *(flag for platform in wheel_platforms(runtime, architecture) for flag in ("--platform", platform)),
        "--python-version", python_version(runtime),
        "--target", str(target), "--requirement", str(requirements),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise DeployError.of(
            f"pip could not install the requirements for {runtime}/{architecture}: {tail}",
            f"input 'requirements' ({requirements.name})",
            "every package needs a manylinux wheel for the function's runtime and architecture",
        )


def _printable(name: str) -> str:
    """A file name as readable text, its undecodable bytes shown as \\xNN escapes."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _refuse_non_utf8(names: Iterable[str]) -> None:
    """Zip entry names are UTF-8 and Lambda's runtimes read them so: a file system name that
    is not valid UTF-8 cannot be stored faithfully, so it is refused, not mangled."""
    bad = sorted(_printable(name) for name in names if not _is_utf8(name))
    if bad:
        shown = ", ".join(f"'{name}'" for name in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise DeployError.about(
            "source",
            f"{len(bad)} file name(s) in the source are not valid UTF-8: {shown}",
            "rename them to UTF-8 (for example with convmv), or leave them out with exclude",
        )


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.scandir gave surrogate escapes for undecodable bytes
        return False
    return True


def build_artifact(
    source: Path,
    exclude: tuple[str, ...] = (),
    requirements: Path | None = None,
    runtime: str = "",
    architecture: str = "x86_64",
) -> Artifact:
    if source.is_file() and source.suffix == ".zip":
        return artifact(source.read_bytes(), "zip")
    excluded = _excluder(tuple(exclude))
    if source.is_file():
        files: Iterable[tuple[str, Path]] = [(source.name, source)]
        kind = "file"
    else:
        files = ((name, path) for name, path in _walk(source) if not excluded(name))
        kind = "directory"
    if requirements is None:
        return _artifact_of(build_zip(files), kind)
    with tempfile.TemporaryDirectory(prefix="lambda-deploy-deps-") as scratch:
        install_requirements(requirements, runtime, architecture, Path(scratch))
        code = list(files)
        names = {name for name, _ in code}
        vendored = [
            (name, path)
            for name, path in _walk(Path(scratch))
            if name not in names and not is_excluded(name, ()) and not name.startswith("bin/")
        ]
        packed = build_zip([*code, *vendored])
    return _artifact_of(packed, kind)


def _artifact_of(packed: Packed, kind: str) -> Artifact:
    return Artifact(packed.data, code_sha256(packed.data), packed.count, kind, packed.unzipped_size)
