"""GitHub on loopback: the runner's OIDC token endpoint and the REST API for issue comments.

``FakeGitHub`` records every request (method, path, headers, JSON body) so tests can
check what the action sent. It answers as GitHub documents:

- ``GET /token?...&audience=A``: with ``Authorization: Bearer <request token>``, the JWT
  as ``{"value": ...}``; otherwise 401.
- ``GET /repos/O/R/issues/N/comments``: the comments, two a page (smaller than GitHub's
  pages, so following ``Link: rel="next"`` is exercised), ``POST`` creates one (authored by
  ``author``, as the token's identity), ``PATCH /repos/O/R/issues/comments/ID`` edits one and
  ``DELETE`` removes one. ``refuse`` makes every comment call answer with that status (403,
  as a token without ``pull-requests: write`` gets).
- ``GET /user``: the token's user when ``user_token`` (a personal token); 403 "Resource not
  accessible by integration" otherwise, as GitHub answers an installation token (GITHUB_TOKEN).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlparse

PAGE = 2


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGitHub:
    request_token: str = "fake-request-token-0123456789"
    id_token: str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9jdG8vb3JkZXJzIn0.c2lnbmF0dXJlLWZvci10ZXN0cw"
    refuse: int = 0
    author: tuple[str, str] = ("github-actions[bot]", "Bot")  # who the token comments as
    user_token: bool = False
    requests: list[Recorded] = field(default_factory=list)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    _server: Any = None

    def __enter__(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                return None

            def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = b"" if status == 204 else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append(Recorded(self.command, self.path, dict(self.headers), body))
                status, answer, headers = fake.route(self.command, self.path, dict(self.headers), body)
                self._answer(status, answer, headers)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def env(self) -> dict[str, str]:
        """What the runner sets for a job with id-token: write."""
        return {
            "GITHUB_API_URL": self.url,
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }

    def route(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any, dict[str, str]]:
        parsed = urlparse(path)
        query = parse_qs(parsed.query)
        if parsed.path == "/token":
            if headers.get("Authorization") != f"Bearer {self.request_token}":
                return 401, {"message": "Bad credentials"}, {}
            return 200, {"value": self.id_token, "audience": query.get("audience", [""])[0]}, {}
        if self.refuse:
            return self.refuse, {"message": "Resource not accessible by integration"}, {}
        if parsed.path == "/user":
            if not self.user_token:
                return 403, {"message": "Resource not accessible by integration"}, {}
            return 200, {"login": self.author[0], "type": self.author[1]}, {}
        listing = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/(\d+)/comments", parsed.path)
        if listing and method == "GET":
            ordered = sorted(self.comments.values(), key=lambda c: c["id"])
            page = int(query.get("page", ["1"])[0])
            chunk = ordered[(page - 1) * PAGE : page * PAGE]
            more = len(ordered) > page * PAGE
            link = {"Link": f'<{self.url}{parsed.path}?per_page=100&page={page + 1}>; rel="next"'} if more else {}
            return 200, chunk, link
        if listing and method == "POST":
            number = max([999, *self.comments]) + 1
            comment = {"id": number, "body": body["body"], "user": {"login": self.author[0], "type": self.author[1]}}
            self.comments[comment["id"]] = comment
            return 201, comment, {}
        edit = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/comments/(\d+)", parsed.path)
        if edit and method == "PATCH" and int(edit.group(1)) in self.comments:
            self.comments[int(edit.group(1))]["body"] = body["body"]
            return 200, self.comments[int(edit.group(1))], {}
        if edit and method == "DELETE" and int(edit.group(1)) in self.comments:
            del self.comments[int(edit.group(1))]
            return 204, None, {}
        return 404, {"message": "Not Found"}, {}

    def comment_calls(self) -> list[tuple[str, str]]:
        return [(r.method, urlparse(r.path).path) for r in self.requests if "/issues/" in r.path]
