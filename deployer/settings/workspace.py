"""Paths in the workspace: source and requirements must stay inside it, symlinks included."""

from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path

from .inputs import Reader


def in_workspace(reader: Reader, name: str, value: str, base: Path) -> Path | None:
    """``value`` resolved against the workspace; None (and a problem) if it leads outside,
    directly (``../elsewhere``, an absolute path) or through a symlink."""
    path = base / value
    if "\0" in value:
        reader.fail(name, "contains a NUL character, which no path can hold")
        return None
    try:
        root, real = base.resolve(), path.resolve()
        if real == root or root in real.parents:
            with contextlib.suppress(FileNotFoundError):  # the caller says what is missing
                path.stat()
            return path
    except (OSError, RuntimeError) as error:  # too long, a symlink loop, no permission, ...
        reader.fail(name, f"'{value}' cannot be read: {getattr(error, 'strerror', None) or error}")
        return None
    leads = f" (it leads to {real})" if not Path(value).is_absolute() else ""
    reader.fail(
        name,
        f"'{value}' is outside the workspace {root}{leads}",
        "give a path inside the repository checkout; symlinks must stay inside it too",
    )
    return None


def read_source(reader: Reader, base: Path) -> Path:
    value = reader.raw("source")
    source = in_workspace(reader, "source", value, base)
    if source is None:
        return base / value
    if not source.exists():
        reader.fail("source", f"'{value}' does not exist under {base}", "give a directory, a file or a .zip")
    elif source.is_file() and source.suffix == ".zip" and not zipfile.is_zipfile(source):
        reader.fail("source", f"'{value}' ends in .zip but is not a zip archive")
    return source


def read_requirements(reader: Reader, base: Path, source: Path) -> Path | None:
    value = reader.given("requirements")
    if value is None:
        return None
    path = in_workspace(reader, "requirements", value, base)
    if path is not None and not path.is_file():
        reader.fail("requirements", f"'{value}' is not a file under {base}")
    if source.suffix == ".zip":
        reader.fail(
            "requirements",
            "cannot be combined with a ready .zip source",
            "vendor the packages into the zip yourself, or give a directory as source",
        )
    return path or base / value
