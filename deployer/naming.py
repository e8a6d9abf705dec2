"""Git ref -> a valid Lambda alias name (pure).

Lambda alias names are 1..128 characters of letters, digits, ``-`` and ``_``, and not
all digits (pattern and length from botocore's model). A branch like
``feature/login-page`` becomes ``feature-login-page``; accented letters lose their
accents (``fëature`` -> ``feature``); a name that must be shortened keeps a short hash
of the original so two long branches never collide; a ref with nothing usable left
(``日本語``) becomes ``ref-`` and its hash. Every non-empty ref gives a valid alias, and
the same ref always the same one.

The fallback names a preview takes when its derived name belongs to someone else end in
``-pr<NUMBER>`` (a pull request) or ``-b<8 hex>`` (a branch). Those endings are reserved: a
derived name that would end in one (branch ``feature-x-pr42``) gets its ref's hash appended,
so no branch can take the name another pull request falls back to.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping

from .limits import api_field, full_match

_INVALID_RUN = re.compile(r"[^A-Za-z0-9_-]+")
_HASH_LEN = 8
PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target"})
_SESSION_UNSAFE = re.compile(r"[^\w+=,.@-]+", re.ASCII)
SESSION_MAX = 64  # sts:RoleSessionName, from the model: 2..64 of [\w+=,.@-]


def ref_from_env(env: Mapping[str, str]) -> str:
    """The branch a run is about: the PR's head branch, else ``GITHUB_REF_NAME``."""
    if env.get("GITHUB_EVENT_NAME", "") in PULL_REQUEST_EVENTS and env.get("GITHUB_HEAD_REF"):
        return env["GITHUB_HEAD_REF"]
    return env.get("GITHUB_REF_NAME", "")


def alias_from_ref(ref: str) -> str:
    """Make ``ref`` a readable, valid alias name; ``""`` only for an empty ref."""
    if not ref:
        return ""
    alias_max = int(api_field("lambda", "Alias").high or 0)
    digest = hashlib.sha256(ref.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LEN]
    ascii_ref = unicodedata.normalize("NFKD", ref.removeprefix("refs/heads/")).encode("ascii", "ignore").decode()
    name = _INVALID_RUN.sub("-", ascii_ref).strip("-")
    if not name:
        return f"ref-{digest}"
    if name.isdigit():
        # All-digit names would read as version numbers; Lambda refuses them.
        name = f"ref-{name}"
    if RESERVED_SUFFIX.search(name):
        name = f"{name}-{digest}"
    if len(name) > alias_max:
        name = f"{name[: alias_max - _HASH_LEN - 1].rstrip('-')}-{digest}"
    return name


# The endings of ownership's fallback names (``Owner.fallback``): never the end of a derived name.
RESERVED_SUFFIX = re.compile(r"-(pr[0-9]+|b[0-9a-f]{8})\Z")


def fallback_alias(base: str, suffix: str) -> str:
    """``base`` with a reserved ending (``-pr17``, ``-b1a2b3c4d``), shortened to stay a valid alias."""
    assert RESERVED_SUFFIX.search(suffix), suffix
    alias_max = int(api_field("lambda", "Alias").high or 0)
    return base[: alias_max - len(suffix)].rstrip("-") + suffix


def alias_problem(name: str) -> str:
    """Why ``name`` is not a valid alias, or ``""`` when it is."""
    field = api_field("lambda", "Alias")
    if not name:
        return "is empty"
    if len(name) > (field.high or 0):
        return f"is {len(name)} characters long; the limit is {field.high:g}"
    if name.isdigit():
        return "is all digits, which Lambda reserves for version numbers"
    if not full_match(field.pattern, name):
        return "may contain only letters, digits, '-' and '_'"
    return ""


def session_name(repository: str, run_id: str) -> str:
    """The STS role session name for a run: ``lambda-deploy-OWNER-REPO-RUNID``, made valid.

    It shows in CloudTrail, so it names the repository and the run; when it is too long the
    repository part is shortened and the run id kept."""
    run = _SESSION_UNSAFE.sub("-", run_id).strip("-")
    repo = _SESSION_UNSAFE.sub("-", repository.replace("/", "-")).strip("-")
    tail = f"-{run}" if run else ""
    room = SESSION_MAX - len("lambda-deploy-") - len(tail)
    return (f"lambda-deploy-{repo[: max(room, 0)]}".rstrip("-") + tail)[:SESSION_MAX]
