"""Who an alias belongs to, and which alias a preview may use (pure).

Contract: an alias that lambda-deploy makes for a preview carries a durable marker in its
description (Lambda aliases have no tags): ``lambda-deploy preview of OWNER/REPO#17`` for
pull request 17, ``lambda-deploy preview of OWNER/REPO@BRANCH`` for a branch. ``owns``
answers "may this run move or delete that alias?"; ``choose_preview_alias`` picks the
alias a derived preview uses: the one it already owns, else the name derived from the ref
when that is free, else a distinct, stable fallback (``NAME-pr17``, or ``NAME-<hash>`` for
a branch). It never picks an alias someone else owns: a production alias, another pull
request's preview, the ``previous-alias``, or one made by hand. Aliases made before the
marker existed carry none, so they count as someone else's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import DeployError
from .model import TRACE_PREFIX, AliasState
from .naming import fallback_alias

MARKER_PREFIX = "lambda-deploy preview of "
DESCRIPTION_MAX = 256
TRACE_OWNER = " | "  # a rollout's trace description carries the preview's marker after this
AUDIT = " · "  # a preview alias's description: the marker, then the commit, run and actor that moved it last


@dataclass(frozen=True)
class Owner:
    """What a preview belongs to: a pull request of a repository, or a branch of it."""

    repository: str  # "" outside GitHub
    pull_request: int | None = None
    ref: str = ""

    @property
    def marker(self) -> str:
        """The alias description that says whose preview it is (at most 256 characters)."""
        repository = self.repository or "(local)"
        if self.pull_request is not None:
            return f"{MARKER_PREFIX}{repository}#{self.pull_request}"
        marker = f"{MARKER_PREFIX}{repository}@{self.ref}"
        if len(marker) > DESCRIPTION_MAX:
            marker = f"{MARKER_PREFIX}{repository}@sha256:{hashlib.sha256(self.ref.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}"
        return marker[:DESCRIPTION_MAX]

    def describe(self) -> str:
        where = f" of {self.repository}" if self.repository else ""
        return f"pull request #{self.pull_request}{where}" if self.pull_request is not None else f"branch {self.ref}{where}"

    def fallback(self, base: str) -> str:
        """A distinct, stable, valid alias for when ``base`` belongs to someone else. Its ending is
        reserved (``naming.RESERVED_SUFFIX``): no name derived from a branch ends that way."""
        if self.pull_request is not None:
            suffix = f"-pr{self.pull_request}"
        else:
            suffix = "-b" + hashlib.sha256(self.ref.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        return fallback_alias(base, suffix)


def describe_preview(marker: str, sha: str, run_id: str, actor: str) -> str:
    """A preview alias's description: its marker, then the audit of the deploy that moved it last."""
    audit = " ".join(
        part for part in (f"commit {sha[:12]}" if sha else "", f"run {run_id}" if run_id else "", f"by {actor}" if actor else "") if part
    )
    return f"{marker}{AUDIT}{audit}"[:DESCRIPTION_MAX] if audit else marker


def marker_of(description: str) -> str:
    """The ownership marker in an alias's description, also while a rollout's trace stands
    there, without the audit that follows it."""
    if description.startswith(TRACE_PREFIX) and TRACE_OWNER in description:
        description = description.rsplit(TRACE_OWNER, 1)[1]
    return description.split(AUDIT, 1)[0] if description.startswith(MARKER_PREFIX) else ""


def owns(owner: Owner | None, alias: AliasState) -> bool:
    return owner is not None and marker_of(alias.description) == owner.marker


def may_clean_up(owner: Owner | None, alias: AliasState) -> bool:
    """Cleanup deletes this run's own preview. Outside GitHub (no pull request or branch
    known: an operator at a terminal) it deletes any alias marked as a preview, and still
    never an unmarked one."""
    return owns(owner, alias) if owner is not None else bool(marker_of(alias.description))


def owner_of(alias: AliasState) -> str:
    """Whose alias this is, in words, from its description."""
    description = alias.description
    if marker := marker_of(description):
        return "the preview of " + marker.removeprefix(MARKER_PREFIX)
    if description.startswith(TRACE_PREFIX):
        return f"a rollout in progress ({description})"
    return "no preview: it has no lambda-deploy preview marker (a production alias, one made by hand, or a preview made before markers)"


def choose_preview_alias(base: str, owner: Owner, existing: Mapping[str, AliasState | None], reserved: frozenset[str] = frozenset()) -> str:
    """The alias this preview uses, given what ``existing`` holds of ``base`` and its fallback
    (None: no such alias). ``reserved`` names aliases to keep clear of even while they do not
    exist (the previous-alias). Raises ``DeployError`` when both names belong to others."""
    candidates = (base, owner.fallback(base))
    for name in candidates:
        found = existing.get(name)
        if found is not None and owns(owner, found):
            return name
    for name in candidates:
        if existing.get(name) is None and name not in reserved:
            return name
    taken = "; ".join(f"alias '{name}' is {_taken(existing.get(name), name in reserved)}" for name in candidates)
    raise DeployError.about(
        "alias",
        f"the preview of {owner.describe()} has no alias it may use: {taken}",
        "give alias explicitly (for example: pr-NUMBER), or rename the branch",
    )


def _taken(alias: AliasState | None, reserved: bool) -> str:
    if alias is None:
        return "the previous-alias" if reserved else "free"
    return owner_of(alias)


# The wave's record on an alias it moved: "[lambda-deploy wave europe: 7 from 6, baked]".
_MARK = re.compile(r"\s*\[lambda-deploy wave (?P<wave>[\w.-]+): (?P<version>\d+) from (?P<before>\d*)(?P<baked>, baked)?\]\s*$")


@dataclass(frozen=True)
class WaveMark:
    wave: str
    version: str
    before: str  # "" when the alias was new
    baked: bool = False

    def text(self) -> str:
        return f"[lambda-deploy wave {self.wave}: {self.version} from {self.before}{', baked' if self.baked else ''}]"


def wave_mark(description: str) -> WaveMark | None:
    """The wave's record on an alias it moved (see ``waves``): where it came from, whether it baked."""
    found = _MARK.search(description)
    if found is None:
        return None
    return WaveMark(found["wave"], found["version"], found["before"], bool(found["baked"]))


def with_wave_mark(description: str, mark: WaveMark | None) -> str:
    """The alias's description with this wave's record in place of any earlier one (the user's text kept, cut to fit)."""
    own = _MARK.sub("", description).strip()
    if mark is None:
        return own
    suffix = mark.text()
    room = DESCRIPTION_MAX - len(suffix) - 1
    return f"{own[:room]} {suffix}".strip()
