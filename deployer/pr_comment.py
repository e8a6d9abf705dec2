"""The preview comment on a pull request: one comment, found again by a hidden marker.

Contract: ``post_preview_comment(target, body, marker)`` creates the comment, or edits
the one whose body holds ``marker`` (so re-runs update it instead of piling up). It
talks to GitHub's REST API at ``GITHUB_API_URL`` through ``GitHubRest``, a small
urllib client that follows ``Link: rel="next"`` pages. It returns what it did, and
raises ``CommentError`` (with the HTTP status, 0 when GitHub could not be reached),
which the caller turns into a warning: a comment never fails a deploy.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import __version__, report
from .github import Reporter
from .model import Result
from .settings import CommentTarget, Settings
from .text import printable

TIMEOUT = 10.0
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class CommentError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class GitHubRest:
    def __init__(self, api_url: str, token: str) -> None:
        self._api = api_url.rstrip("/")
        self._token = token

    def _send(self, method: str, url: str, body: Any = None) -> tuple[Any, str]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self._token}")
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        request.add_header("User-Agent", f"lambda-deploy/{__version__}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # the configured GitHub API
                return json.loads(response.read() or b"null"), response.headers.get("Link", "")
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")[:200]
            raise CommentError(error.code, f"HTTP {error.code} {error.reason}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
            raise CommentError(0, f"GitHub's API could not be reached: {error}") from None

    def request(self, method: str, path: str, body: Any = None) -> Any:
        return self._send(method, f"{self._api}{path}", body)[0]

    def pages(self, path: str) -> Iterator[Any]:
        url: str | None = f"{self._api}{path}"
        while url:
            items, link = self._send("GET", url)
            yield from items or []
            found = _NEXT.search(link)
            url = found.group(1) if found else None


# The identity that comments with a job's GITHUB_TOKEN (an installation token of the GitHub
# Actions app: GitHub's REST API refuses it GET /user).
ACTIONS_BOT = ("github-actions[bot]", "Bot")


@dataclass(frozen=True)
class Posted:
    """What the comment call did, and the marked comments it left alone (someone else's)."""

    done: str  # created | updated
    ignored: tuple[str, ...] = ()  # "comment 123 by mallory" for each marked comment that is not the action's


def _author(comment: Mapping[str, Any]) -> tuple[str, str]:
    user = comment.get("user") or {}
    return str(user.get("login", "")), str(user.get("type", ""))


def token_identity(rest: GitHubRest) -> tuple[str, str] | None:
    """Who comments with this token: GET /user for a personal or user token; None for an
    installation token (GITHUB_TOKEN, a GitHub App's), which GitHub refuses it."""
    try:
        user = rest.request("GET", "/user")
    except CommentError as error:
        if error.status in (401, 403, 404):
            return None
        raise
    return (str(user.get("login", "")), str(user.get("type", ""))) if isinstance(user, dict) else None


def post_preview_comment(target: CommentTarget, body: str, marker: str) -> Posted:
    """Create or edit the pull request's preview comment. A comment that carries ``marker``
    counts as the action's only when its author is the identity this token comments as:
    anyone can write the marker into a comment of their own, and the action must not put its
    words under their name. That identity is GET /user's for a user token; for an
    installation token it is ``github-actions[bot]`` (GITHUB_TOKEN), or, for another app's
    token, the author GitHub gives the comment it creates: the app's older marked comments
    are then deleted, so one stays."""
    rest = GitHubRest(target.api_url, target.token)
    body = printable(body)  # no raw control characters in what a reviewer's browser or terminal shows
    issue = f"/repos/{target.repository}/issues/{target.number}"
    marked = [c for c in rest.pages(f"{issue}/comments?per_page=100") if marker in str(c.get("body", ""))]
    identity = token_identity(rest) or ACTIONS_BOT
    own = next((c for c in marked if _author(c) == identity), None)
    if own is not None:
        rest.request("PATCH", f"/repos/{target.repository}/issues/comments/{own['id']}", {"body": body})
        return Posted("updated", _others(marked, identity))
    created = rest.request("POST", f"{issue}/comments", {"body": body})
    author = _author(created) if isinstance(created, dict) else identity
    if author != identity:  # another app's token: its earlier comments are the older ones by the same author
        for older in (c for c in marked if _author(c) == author):
            rest.request("DELETE", f"/repos/{target.repository}/issues/comments/{older['id']}")
        identity = author
    return Posted("created", _others(marked, identity))


def _others(marked: list[Any], identity: tuple[str, str]) -> tuple[str, ...]:
    return tuple(f"comment {c.get('id')} by {_author(c)[0] or 'an unknown user'}" for c in marked if _author(c) != identity)


DIFF_COMMENT_TITLE = "What merging this would change in production"


def comment_on_pull_request(
    settings: Settings, result: Result | None, io: Reporter, diff_body: str = "", function: str = "", alias: str = ""
) -> None:
    """The pull request's preview comment (or, for ``command: diff``, ``diff_body``: the comment
    saying what merging would change in ``function``'s ``alias``), another reporter beside the
    summary. It never fails the deploy: what goes wrong is a warning that names the fix."""
    if settings.comment_skipped:
        io.notice(settings.comment_skipped)
    target = settings.comment
    if target is None or (not diff_body and (result is None or result.status == "planned")):
        return
    git = settings.git
    run_url = f"{git.server_url}/{git.repository}/actions/runs/{git.run_id}" if git.server_url and git.run_id else ""
    if diff_body or result is None:
        marker = report.comment_marker(function, alias).replace("preview:", "diff:")
        body = f"{diff_body}\n\n<sub>lambda-deploy{f', [run]({run_url})' if run_url else ''}</sub>\n{marker}"
    else:
        marker = report.comment_marker(result.plan.function_name, result.alias)
        body = report.comment_markdown(result, git.sha, run_url)
    try:
        posted = post_preview_comment(target, body, marker)
    except CommentError as error:
        hint = (
            "give the job 'permissions: pull-requests: write' (a pull request from a fork only gets a read-only token)"
            if error.status in (401, 403, 404)
            else "the deploy itself is done; the comment is tried again on the next run"
        )
        io.warning(f"could not comment on pull request #{target.number}: {error}. {hint}")
        return
    for other in posted.ignored:
        io.info(f"{other} carries lambda-deploy's marker but was not written with this token: left alone")
    io.info(f"preview comment {posted.done} on pull request #{target.number}")
