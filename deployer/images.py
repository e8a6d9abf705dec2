"""Container images in ECR: the URI forms Lambda takes, and a URI pinned to its digest (pure).

Lambda takes images from ECR only, by tag (``REPOSITORY:TAG``) or by digest
(``REPOSITORY@sha256:DIGEST``). A tag can move at any moment, so what is resolved once is
what is sent: ``pinned(uri, digest)`` is the by-digest form of the same repository, which
CreateFunction and UpdateFunctionCode then pull whatever the tag points at meanwhile.
"""

from __future__ import annotations

import re

ECR_IMAGE = re.compile(
    r"(?P<repository_uri>(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repository>[a-z0-9][a-z0-9._/-]*))"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})|@(?P<digest>sha256:[a-f0-9]{64}))\Z"
)


def pinned(image_uri: str, digest: str) -> str:
    """``image_uri`` by digest (``digest`` is hex, as Lambda's CodeSha256, with or without ``sha256:``)."""
    found = ECR_IMAGE.match(image_uri)
    if found is None:
        raise ValueError(f"'{image_uri}' is not an ECR image URI")
    return f"{found.group('repository_uri')}@sha256:{digest.removeprefix('sha256:')}"
