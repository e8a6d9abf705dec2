"""Write a release's action.yml: the same metadata, naming the prebuilt image by digest.

``main`` keeps ``image: Dockerfile``, so ``uses: ./`` and branch refs build from source.
A release names the image its workflow pushed, ``docker://ghcr.io/OWNER/REPO@sha256:…``,
so the runner pulls it (one layer download, cached per runner) instead of building it in
every job. A digest, not a tag: the release stays byte-for-byte the image that was
built and smoke-tested, even if a tag is moved later.

Only the ``image:`` line of ``runs:`` changes; comments, order and every description
stay as they are, and the result is checked to load to the same metadata but for that
one value. Usage (the release workflow's step)::

    python3 scripts/release_action_yml.py --image docker://ghcr.io/o/r@sha256:<64 hex> action.yml
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

# A registry host, a lower-case repository path (registries refuse upper case), a digest.
IMAGE_BY_DIGEST = re.compile(r"docker://[a-z0-9.-]+(?::[0-9]+)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}")
SOURCE_IMAGE_LINE = re.compile(r"^(?P<indent>[ \t]+)image:[ \t]*[\"']?Dockerfile[\"']?[ \t]*$", flags=re.M)


class ReleaseError(Exception):
    """The action.yml or the image reference cannot make a release; the message says why."""


def release_action_yml(text: str, image: str) -> str:
    """``text`` (main's action.yml) with ``runs.image`` set to ``image``, nothing else changed."""
    if not IMAGE_BY_DIGEST.fullmatch(image):
        raise ReleaseError(f"'{image}' is not an image by digest: expected docker://REGISTRY/lower-case/path@sha256:<64 hex digits>")
    source: dict[str, Any] = yaml.safe_load(text)
    if source.get("runs", {}).get("image") != "Dockerfile":
        found = source.get("runs", {}).get("image")
        raise ReleaseError(f"runs.image is {found!r}, not 'Dockerfile': is this action.yml already a release's?")
    lines = SOURCE_IMAGE_LINE.findall(text)
    if len(lines) != 1:
        raise ReleaseError(f"expected one 'image: Dockerfile' line under runs:, found {len(lines)}")
    released = SOURCE_IMAGE_LINE.sub(lambda match: f"{match['indent']}image: {image}", text)
    expected = {**source, "runs": {**source["runs"], "image": image}}
    if yaml.safe_load(released) != expected:
        raise ReleaseError("the rewritten action.yml would not load to the same metadata; nothing was written")
    return released


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", required=True, help="docker://REGISTRY/PATH@sha256:DIGEST")
    parser.add_argument("action", type=Path, help="the action.yml to rewrite in place")
    args = parser.parse_args(argv)
    try:
        released = release_action_yml(args.action.read_text(encoding="utf-8"), args.image)
    except (ReleaseError, OSError, yaml.YAMLError) as error:
        print(f"::error file={args.action}::{error}")
        return 1
    args.action.write_text(released, encoding="utf-8")
    print(f"{args.action}: runs.image is now {args.image}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
