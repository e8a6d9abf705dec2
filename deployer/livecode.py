"""The live package, read back: which files differ between it and a package about to be deployed.

Contract: ``live_package(location)`` downloads the zip behind GetFunction's pre-signed
``Code.Location`` (a ``DeployError`` when it cannot, never an HTML page in a message);
``compare_files(live, wanted)`` names the files added, removed and changed (by CRC and the
executable bit), never their contents. ``diff`` shows them; the engine uses them once, for a
function lambda-deploy has never deployed, to tell "the same files in other zip bytes" (a
console upload, ``init --download-code``) from a real code change.
"""

from __future__ import annotations

import io
import stat
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass

from .errors import DeployError

DOWNLOAD_TIMEOUT = 60.0  # seconds: a pre-signed URL answers at once or not at all


@dataclass(frozen=True)
class Files:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def _entries(data: bytes) -> dict[str, tuple[int, bool]]:
    """Each file's CRC and whether it is executable (a ``bootstrap`` must stay so)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            info.filename: (info.CRC, info.create_system == 3 and bool((info.external_attr >> 16) & stat.S_IXUSR))  # 3: made on Unix
            for info in archive.infolist()
            if not info.is_dir()
        }


def compare_files(live: bytes, wanted: bytes) -> Files:
    """Files added, removed and changed from the live package to the wanted one."""
    before, after = _entries(live), _entries(wanted)
    return Files(
        added=tuple(sorted(set(after) - set(before))),
        removed=tuple(sorted(set(before) - set(after))),
        changed=tuple(sorted(name for name in set(before) & set(after) if before[name] != after[name])),
    )


def live_package(location: str) -> bytes:
    """The live package, from GetFunction's pre-signed URL; what cannot be fetched is a DeployError."""
    try:
        with urllib.request.urlopen(location, timeout=DOWNLOAD_TIMEOUT) as answer:  # AWS's pre-signed URL (or the sandbox's)
            return bytes(answer.read())
    except urllib.error.HTTPError as error:  # the body may be an HTML page: never shown
        why = f"HTTP {error.code} {error.reason}"
    except (OSError, ValueError) as error:
        why = str(getattr(error, "reason", error))
    raise DeployError.of(f"the live package could not be downloaded ({why}), so its files cannot be compared", "the function's code")
