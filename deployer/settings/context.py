"""Who and what a run is for: the git context, the pull request or branch that owns a preview,
keyless credentials (GitHub's OIDC) and the pull request to comment on."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..naming import ref_from_env, session_name
from ..ownership import Owner
from .inputs import DEFAULT_ROLE_DURATION, PULL_REQUEST_EVENTS, Reader, boolean


@dataclass(frozen=True)
class GitContext:
    """Who and what triggered the deploy; recorded in the audit trail."""

    sha: str = ""
    ref: str = ""
    run_id: str = ""
    actor: str = ""
    repository: str = ""
    server_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GitContext:
        return cls(
            sha=env.get("GITHUB_SHA", ""),
            ref=ref_from_env(env),
            run_id=env.get("GITHUB_RUN_ID", ""),
            actor=env.get("GITHUB_ACTOR", ""),
            repository=env.get("GITHUB_REPOSITORY", ""),
            server_url=env.get("GITHUB_SERVER_URL", ""),
        )


@dataclass(frozen=True)
class OidcCredentials:
    """Assume ``role_arn`` with GitHub's OIDC token instead of using ambient credentials."""

    role_arn: str
    session_name: str
    duration: int
    audience: str
    request_url: str  # ACTIONS_ID_TOKEN_REQUEST_URL
    request_token: str = field(repr=False)  # ACTIONS_ID_TOKEN_REQUEST_TOKEN: a secret


@dataclass(frozen=True)
class ChainedCredentials:
    """Assume ``role_arn`` from the run's own credentials: a wave's role in another account when
    there is no OIDC token to assume it with."""

    role_arn: str
    session_name: str
    duration: int


Credentials = OidcCredentials | ChainedCredentials


@dataclass(frozen=True)
class CommentTarget:
    """The pull request whose preview comment this run creates or updates."""

    api_url: str
    repository: str
    number: int
    token: str = field(repr=False)


def read_owner(env: Mapping[str, str], git: GitContext) -> Owner | None:
    """The pull request (from the event payload) or the branch this run is for."""
    if env.get("GITHUB_EVENT_NAME", "") in PULL_REQUEST_EVENTS:
        number = pull_request_number(env.get("GITHUB_EVENT_PATH", ""))
        if number is not None:
            return Owner(git.repository, number)
    return Owner(git.repository, ref=git.ref) if git.ref else None


def read_credentials(reader: Reader, env: Mapping[str, str], git: GitContext) -> OidcCredentials | None:
    role = reader.api_text("role-to-assume")
    session = reader.api_text("role-session-name")
    duration = reader.api_number("role-duration-seconds")
    if role is None:
        for name in ("role-session-name", "role-duration-seconds"):
            if reader.given(name):
                reader.fail(name, "only applies with role-to-assume")
        return None
    request_url, request_token = env.get("ACTIONS_ID_TOKEN_REQUEST_URL", ""), env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
    if not (request_url and request_token):
        reader.fail(
            "role-to-assume",
            "needs GitHub's OIDC token, but ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set",
            "add 'permissions: id-token: write' to the job or the workflow. Pull requests from forks never get a token: run "
            "previews only for branches of this repository",
        )
    return OidcCredentials(
        role_arn=role,
        session_name=session or session_name(git.repository, git.run_id),
        duration=duration or DEFAULT_ROLE_DURATION,
        audience=reader.raw("audience"),
        request_url=request_url,
        request_token=request_token,
    )


def read_comment(reader: Reader, env: Mapping[str, str], git: GitContext) -> tuple[CommentTarget | None, str]:
    """The pull request to comment on, or why there is none (a notice, not an error)."""
    if not reader.parse("comment", boolean):
        return None, ""
    token = reader.given("github-token")
    if token is None:
        reader.fail(
            "github-token", "is needed with comment: true", "pass ${{ github.token }} (the default) or a token with pull-requests: write"
        )
        return None, ""
    event = env.get("GITHUB_EVENT_NAME", "")
    if event not in PULL_REQUEST_EVENTS:
        return None, f"comment: true has no pull request to comment on in a '{event or 'local'}' run"
    number = pull_request_number(env.get("GITHUB_EVENT_PATH", ""))
    if number is None or "/" not in git.repository:
        return None, "the pull request's number or repository could not be read from the event"
    return CommentTarget(env.get("GITHUB_API_URL") or "https://api.github.com", git.repository, number, token), ""


def pull_request_number(event_path: str) -> int | None:
    """The pull request number in the event payload the runner wrote (GITHUB_EVENT_PATH)."""
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8")) if event_path else {}
    except (OSError, ValueError):
        return None
    number = (event.get("pull_request") or {}).get("number") or event.get("number")
    return number if isinstance(number, int) and number > 0 else None


def local_branch(start: Path) -> str:
    """The branch checked out in the git working tree at or above ``start`` (its ``.git/HEAD``),
    as the runner would give it in GITHUB_REF_NAME; "" when there is none (or HEAD is detached)."""
    for folder in (start, *start.parents):
        git = folder / ".git"
        try:
            if git.is_file():  # a worktree: "gitdir: <path>"
                git = (folder / git.read_text(encoding="utf-8").removeprefix("gitdir:").strip()).resolve()
            if git.is_dir():
                head = (git / "HEAD").read_text(encoding="utf-8").strip()
                return head.removeprefix("ref: refs/heads/") if head.startswith("ref: refs/heads/") else ""
        except (OSError, UnicodeDecodeError):
            return ""
    return ""
