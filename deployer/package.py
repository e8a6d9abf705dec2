"""Source -> a deterministic zip ``Artifact`` whose hash equals Lambda's ``CodeSha256``.

Contract: the same file contents, names and executable bits give the same bytes,
whatever the file times, the owner or the order the file system lists them in.
Entries are sorted, stamped 1980-01-01 and given mode 0644 (0755 when executable).
A ready ``.zip`` is used byte for byte. Symlinks are followed only while they stay
inside the source; one that escapes is refused, as is any entry that would escape
the archive root, and any file name that is not valid UTF-8 (listed, escaped). ``requirements`` are installed as manylinux wheels for the
function's runtime and architecture and zipped beside the code (code wins a clash).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import DeployError
from .settings import ALWAYS_EXCLUDED

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 6
_PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}


@dataclass(frozen=True)
class Artifact:
    zip_bytes: bytes
    sha256: str  # base64 SHA-256, as Lambda reports CodeSha256
    file_count: int
    kind: str  # "directory", "file" or "zip"
    unzipped_size: int = 0  # what the package takes once Lambda unpacks it

    @property
    def size(self) -> int:
        return len(self.zip_bytes)

    @property
    def code(self) -> dict[str, Any]:
        """The ``Code`` / UpdateFunctionCode parameters that carry this package."""
        return {"ZipFile": self.zip_bytes}

    @property
    def sha256_hex(self) -> str:
        """The same digest in hex: the name of the package in S3."""
        return base64.b64decode(self.sha256).hex()


def artifact(data: bytes, kind: str) -> Artifact:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = archive.infolist()
    return Artifact(data, code_sha256(data), len(entries), kind, sum(entry.file_size for entry in entries))


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def is_excluded(relative: str, patterns: Iterable[str]) -> bool:
    """Match a posix path against globs; ``dir/`` patterns match a directory anywhere."""
    parts = PurePosixPath(relative).parts
    for pattern in (*ALWAYS_EXCLUDED, *patterns):
        if pattern.endswith("/"):
            name = pattern.rstrip("/")
            if any(fnmatch.fnmatchcase(part, name) for part in parts[:-1]) or fnmatch.fnmatchcase(relative, name + "/*"):
                return True
        elif fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(parts[-1], pattern):
            return True
    return False


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    """Yield (archive name, real path) for every file, following safe symlinks."""
    real_root = root.resolve()

    def inside(path: Path) -> bool:
        return path == real_root or real_root in path.parents

    def visit(directory: Path, prefix: str, ancestors: frozenset[Path] = frozenset()) -> Iterator[tuple[str, Path]]:
        real = directory.resolve()
        if real in ancestors:  # a symlink back up the tree: its files are already included
            return
        ancestors = ancestors | {real}
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            name = f"{prefix}{entry.name}"
            path = Path(entry.path)
            if entry.is_symlink():
                target = path.resolve()
                if not inside(target):
                    raise DeployError.of(
                        f"symlink '{name}' points outside the source (to {target})",
                        "input 'source'",
                        "copy the file into the source, or remove the link",
                    )
                if target.is_dir():
                    yield from visit(target, f"{name}/", ancestors)
                elif target.is_file():
                    yield name, target
            elif entry.is_dir():
                yield from visit(path, f"{name}/", ancestors)
            elif entry.is_file():
                yield name, path

    yield from visit(root, "")


def _entry(name: str, executable: bool) -> zipfile.ZipInfo:
    posix = PurePosixPath(name)
    if posix.is_absolute() or ".." in posix.parts:
        raise DeployError.of(f"entry '{name}' would escape the archive root", "input 'source'")
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.create_system = 3  # unix, so the mode bits below are honoured
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def build_zip(files: Iterable[tuple[str, Path]]) -> tuple[bytes, int]:
    """Zip (name, path) pairs in name order; returns the bytes and the entry count."""
    ordered = sorted(files, key=lambda pair: pair[0])
    _refuse_non_utf8(name for name, _ in ordered)
    buffer = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
        for name, path in ordered:
            executable = bool(path.stat().st_mode & 0o111)
            archive.writestr(_entry(name, executable), path.read_bytes(), compresslevel=COMPRESS_LEVEL)
            count += 1
    return buffer.getvalue(), count


def python_version(runtime: str) -> str:
    """``python3.12`` -> ``3.12``; other runtimes cannot take a requirements file."""
    if not runtime.startswith("python3."):
        raise DeployError.of(
            f"requirements need a Python runtime, but the runtime is '{runtime or 'unknown'}'",
            "input 'requirements'",
            "set runtime (for example: python3.12)",
        )
    return runtime.removeprefix("python")


def install_requirements(requirements: Path, runtime: str, architecture: str, target: Path) -> None:
    """pip-install manylinux wheels matching the function, not this machine."""
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--only-binary=:all:", "--implementation", "cp",
        "--platform", _PLATFORMS[architecture], "--python-version", python_version(runtime),
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
        raise DeployError.of(
            f"{len(bad)} file name(s) in the source are not valid UTF-8: {shown}",
            "input 'source'",
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
    if source.is_file():
        files = [(source.name, source)]
        kind = "file"
    else:
        files = [(name, path) for name, path in _walk(source) if not is_excluded(name, exclude)]
        kind = "directory"
    if requirements is None:
        return artifact(build_zip(files)[0], kind)
    with tempfile.TemporaryDirectory(prefix="lambda-deploy-deps-") as scratch:
        install_requirements(requirements, runtime, architecture, Path(scratch))
        names = {name for name, _ in files}
        vendored = [
            (name, path)
            for name, path in _walk(Path(scratch))
            if name not in names and not is_excluded(name, ()) and not name.startswith("bin/")
        ]
        data, _ = build_zip([*files, *vendored])
    return artifact(data, kind)
