"""What the network and the service's front door do to requests: faults and latency.

``Network`` is WSGI middleware in front of the sandbox (outside the fidelity layer),
so what it injects reaches botocore exactly as the real thing would, through a real
socket, and botocore's own retry logic answers it. It counts the deployer's AWS
requests (recognised by the ``lambda-deploy/`` user agent every client of ours sends),
so a test can aim a fault at request *n*; the test's own clients and moto's
``/moto-api/`` control calls pass untouched and uncounted.

Faults, each the way AWS or the network produces it:

- ``throttle``: the service refuses with its throttling error before doing anything
  (Lambda: HTTP 429 ``TooManyRequestsException``; CloudWatch's CBOR protocol, CodeDeploy's
  JSON protocol, STS's query protocol and S3's REST-XML protocol each in their own form).
- ``server-error``: HTTP 500 before doing anything (Lambda: ``ServiceException``).
- ``reset``: the request *is* carried out, then the connection is cut before the answer
  is sent: the caller cannot know whether it happened (``ConnectionClosedError``).
- ``timeout``: the request *is* carried out, but the answer is held back for
  ``stall_seconds``, longer than the caller's read timeout (``ReadTimeoutError``).
- ``access-denied`` (a refusal, not a fault that passes): HTTP 403 before doing anything,
  in each protocol's own form; neither botocore nor lambda-deploy tries it again.

``latency`` adds a fixed delay before every request, outside any lock, so concurrent
requests overlap as they would against a remote endpoint.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

FAULTS = ("throttle", "server-error", "reset", "timeout")
# Not retried by botocore nor by lambda-deploy: the role lacks the permission, and trying again cannot help.
REFUSALS = ("access-denied",)
USER_AGENT = "lambda-deploy/"


@dataclass(frozen=True)
class Seen:
    """One AWS request as the network saw it."""

    number: int  # the deployer's requests count 1, 2, ...; anyone else's are 0
    method: str
    path: str
    target: str  # X-Amz-Target / smithy operation / query Action, when the protocol has one
    fault: str  # "" when it went through untouched
    access_key: str = ""  # the access key id it was signed with; "" when unsigned
    form: Mapping[str, str] = field(default_factory=dict)  # a query-protocol request's parameters (STS)
    at: float = 0.0  # time.monotonic() when it arrived: a benchmark times the caller's start-up with it
    region: str = ""  # the region it was signed for


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    if len(data) < 24:
        return bytes([0x60 + len(data)]) + data
    return bytes([0x78, len(data)]) + data


def _cbor_error(code: str, message: str) -> bytes:
    """A two-entry CBOR map {"__type": code, "message": message}: all an error body needs."""
    return b"\xa2" + _cbor_text("__type") + _cbor_text(code) + _cbor_text("message") + _cbor_text(message[:200])


class Network:
    def __init__(self, app: WsgiApp, stall_seconds: float = 2.0) -> None:
        self._app = app
        self._lock = threading.Lock()
        self.stall_seconds = stall_seconds
        self.latency = 0.0
        self._plan: dict[int, str] = {}
        self._count = 0
        self.seen: list[Seen] = []

    def reset(self) -> None:
        with self._lock:
            self._plan.clear()
            self._count = 0
            self.seen.clear()
            self.latency = 0.0

    def arm(self, faults: Mapping[int, str]) -> None:
        """Restart the request count; request ``n`` (1-based from now) meets ``faults[n]``."""
        unknown = set(faults.values()) - {*FAULTS, *REFUSALS}
        if unknown:
            raise ValueError(f"unknown faults {unknown}; use {FAULTS + REFUSALS}")
        with self._lock:
            self._plan = dict(faults)
            self._count = 0
            self.seen.clear()

    def outage(self, kind: str, start: int, length: int) -> None:
        """Requests ``start`` .. ``start + length - 1`` all meet ``kind``."""
        self.arm({number: kind for number in range(start, start + length)})

    @property
    def requests(self) -> int:
        return self._count

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api"):
            return self._app(environ, start_response)
        ours = USER_AGENT in environ.get("HTTP_USER_AGENT", "")
        with self._lock:
            self._count += ours
            number = self._count if ours else 0
            fault = self._plan.get(number, "") if ours else ""
            arrived = time.monotonic()
            key, form = _identity(environ)
            signed = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", "")))
            region = signed.group(2) if signed else ""
            self.seen.append(Seen(number, environ.get("REQUEST_METHOD", ""), path, _target(environ), fault, key, form, arrived, region))
        if self.latency:
            time.sleep(self.latency)
        if fault in ("throttle", "server-error", "access-denied"):
            return _refuse(environ, start_response, fault)
        if fault == "reset":
            chunks = self._app(environ, lambda *_: lambda _: None)
            b"".join(chunks)  # carried out
            _cut(environ)
            raise ConnectionResetError("sandbox network: connection cut after the request was carried out")
        if fault == "timeout":
            captured: list[tuple[str, list[tuple[str, str]]]] = []

            def hold(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
                captured.append((status, headers))
                return lambda _: None

            body = b"".join(self._app(environ, hold))
            time.sleep(self.stall_seconds)  # the caller has given up by now
            start_response(*captured[0])
            return [body]
        return self._app(environ, start_response)


def _target(environ: Mapping[str, Any]) -> str:
    if environ.get("HTTP_X_AMZ_TARGET"):
        return str(environ["HTTP_X_AMZ_TARGET"])
    path = str(environ.get("PATH_INFO", ""))
    if "/operation/" in path:
        return path.rsplit("/", 1)[1]
    return ""


_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[0-9]{8}/([a-z0-9-]+)/")


def _identity(environ: Environ) -> tuple[str, dict[str, str]]:
    """Who signed the request, and a form-encoded body's parameters (read and put back)."""
    signed = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    form: dict[str, str] = {}
    if "x-www-form-urlencoded" in str(environ.get("CONTENT_TYPE", "")):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
    return (signed.group(1) if signed else ""), form


def _cut(environ: Mapping[str, Any]) -> None:
    """Close the client's connection without an answer (werkzeug exposes its socket)."""
    connection = environ.get("werkzeug.socket")
    if connection is not None:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)


def _refuse(environ: Mapping[str, Any], start_response: StartResponse, fault: str) -> list[bytes]:
    if fault == "access-denied":
        return _deny(environ, start_response)
    throttle = fault == "throttle"
    message = "Rate exceeded" if throttle else "We encountered an internal error. Please try again."
    path = str(environ.get("PATH_INFO", ""))
    if path.startswith("/20"):  # Lambda's REST-JSON API: /2015-03-31/functions/...
        code, status = ("TooManyRequestsException", 429) if throttle else ("ServiceException", 500)
        body = json.dumps({"Type": "Service" if not throttle else "User", "message": message}).encode()
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
    elif environ.get("HTTP_SMITHY_PROTOCOL"):  # CloudWatch's rpc-v2-cbor
        code, status = ("Throttling", 400) if throttle else ("InternalServiceError", 500)
        body = _cbor_error(code, message)
        headers = [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
    elif environ.get("HTTP_X_AMZ_TARGET"):  # CodeDeploy's JSON protocol
        code, status = ("ThrottlingException", 400) if throttle else ("InternalFailure", 500)
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
    elif "x-www-form-urlencoded" in str(environ.get("CONTENT_TYPE", "")):  # STS's query protocol
        code, status = ("Throttling", 400) if throttle else ("InternalFailure", 500)
        body = f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error></ErrorResponse>".encode()
        headers = [("Content-Type", "text/xml")]
    else:  # S3's REST-XML
        code, status = ("SlowDown", 503) if throttle else ("InternalError", 500)
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
        headers = [("Content-Type", "application/xml")]
    reason = {400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Slow Down"}[status]
    start_response(f"{status} {reason}", [*headers, ("Content-Length", str(len(body)))])
    return [body]


def _deny(environ: Mapping[str, Any], start_response: StartResponse) -> list[bytes]:
    """A 403 as each protocol words it: the role may not make this call."""
    message = "User: arn:aws:sts::123456789012:assumed-role/deploy/ci is not authorized to perform this action"
    path = str(environ.get("PATH_INFO", ""))
    if path.startswith("/20"):
        body = json.dumps({"Type": "User", "message": message}).encode()
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException")]
    elif environ.get("HTTP_SMITHY_PROTOCOL"):
        body = _cbor_error("AccessDenied", message)
        headers = [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
    elif environ.get("HTTP_X_AMZ_TARGET"):
        body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", "AccessDeniedException")]
    elif "x-www-form-urlencoded" in str(environ.get("CONTENT_TYPE", "")):
        error = f"<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{message}</Message></Error>"
        body = f"<ErrorResponse>{error}</ErrorResponse>".encode()
        headers = [("Content-Type", "text/xml")]
    else:
        body = f"<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>".encode()
        headers = [("Content-Type", "application/xml")]
    start_response("403 Forbidden", [*headers, ("Content-Length", str(len(body)))])
    return [body]
