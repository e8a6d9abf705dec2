"""Which environment values are credentials, for what ``init`` writes to a file meant to be committed.

Contract: ``held_back(variables)`` maps each variable that must not be written to why, and
leaves out the plain ones (``LOG_LEVEL=INFO``, ``API_URL=https://api.example.com/v1``, table
names). A variable is held back when its name sounds secret (``masking``'s names, and the
endings ``_PASS``, ``_SK``, ``_PIN``, ``_WEBHOOK``, ``_DSN``, ``_API_KEY``), when a URL in it
carries credentials (``postgres://user:password@host``, ``redis://:password@host``), when
Yelp's detect-secrets sees a secret in its line (its plugins know the token forms: Stripe's
``sk_live_``, GitHub's ``ghp_``, Slack's ``xoxb-`` and webhook paths, AWS keys, PEM blocks,
JWTs, ..., and its keyword and entropy checks), or when the value is long and not plain text
(``masking.could_be_secret``). detect-secrets is imported only here, and only ``init`` uses it.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from .masking import could_be_secret, looks_secret_name

_SECRET_ENDING = re.compile(r"(?:^|_)(?:PASS|SK|PIN|WEBHOOK|DSN|API_?KEY)(?:_|$)", re.IGNORECASE)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")


def credentials_in_url(value: str) -> bool:
    """Whether a URL in ``value`` carries a user or a password (``scheme://user:secret@host``)."""
    for candidate in _URL.findall(value):
        try:
            parts = urlsplit(candidate)
        except ValueError:
            return True  # a URL too odd to split: better not written than leaked
        if parts.password or parts.username:
            return True
    return False


def detected(variables: Mapping[str, str]) -> dict[str, str]:
    """The variables detect-secrets flags, with the kind of secret it saw (``Stripe Access Key``)."""
    # Deferred: only init needs detect-secrets, and it is slow to load.
    from detect_secrets.core.secrets_collection import SecretsCollection  # noqa: PLC0415
    from detect_secrets.settings import default_settings  # noqa: PLC0415

    names = list(variables)
    with tempfile.TemporaryDirectory(prefix="lambda-deploy-init-") as folder:
        # One line per variable, the way a shell file holds them: the keyword plugins read the name too.
        path = Path(folder) / "environment.sh"
        path.write_text("".join(f"{name}={json.dumps(value, ensure_ascii=False)}\n" for name, value in variables.items()), encoding="utf-8")
        with default_settings():
            found = SecretsCollection()
            found.scan_file(str(path))
        kinds: dict[str, str] = {}
        for filename in found.files:
            for secret in found[filename]:
                kinds.setdefault(names[secret.line_number - 1], str(secret.type))
    return kinds


def held_back(variables: Mapping[str, str]) -> dict[str, str]:
    """Variable name -> why its value is not written; the plain ones are not in it."""
    kinds = detected(variables) if variables else {}
    reasons: dict[str, str] = {}
    for name, value in variables.items():
        if looks_secret_name(name) or _SECRET_ENDING.search(name):
            reasons[name] = "its name says it is secret"
        elif credentials_in_url(value):
            reasons[name] = "a URL in it carries credentials"
        elif name in kinds:
            reasons[name] = f"detect-secrets found a secret in it: {kinds[name]}"
        elif could_be_secret(value):
            reasons[name] = "it is long and not plain text"
    return reasons
