"""A fidelity layer over moto's Lambda: the real service's rules that moto lacks.

moto answers Lambda's API instantly and permissively. The rules below are the ones
the deployer relies on for safety, so this WSGI middleware sits in front of moto's
server and enforces them. Each rule cites the AWS documentation it follows.

R1 ``InProgress``/``Pending``: after CreateFunction the function reports
   ``State: Pending`` and after UpdateFunctionCode / UpdateFunctionConfiguration
   ``LastUpdateStatus: InProgress`` for the next ``in_progress_polls`` reads of
   $LATEST, then ``Active``/``Successful``.
   (Lambda Developer Guide, "Lambda function states"; API GetFunctionConfiguration.)
R2 409 on overlapping updates: while R1 is in effect, UpdateFunctionCode,
   UpdateFunctionConfiguration and PublishVersion fail with
   ``ResourceConflictException`` (HTTP 409).
   (API reference, UpdateFunctionCode / UpdateFunctionConfiguration "Errors".)
R3 ``RevisionId`` preconditions: $LATEST and every alias carry a RevisionId that
   changes on every update; UpdateFunctionCode, UpdateFunctionConfiguration,
   PublishVersion and UpdateAlias with a stale RevisionId fail with
   ``PreconditionFailedException`` (HTTP 412).
   (API reference, "RevisionId" request parameter of those actions.)
R4 ``CodeSha256`` precondition: PublishVersion whose CodeSha256 differs from
   $LATEST's fails with HTTP 400 ``InvalidParameterValueException`` and the message
   ``CodeSHA256 (<given>) is different from current CodeSHA256 in $LATEST (<current>).
   Please try again with the CodeSHA256 in $LATEST.`` (API reference, PublishVersion
   "CodeSha256"; the status and the message as the live service answers them.)
   A publish that breaks both R3 and R4 gets R4's answer.
R5 alias validation: alias names must match ``(?!^[0-9]+$)([a-zA-Z0-9-_]+)`` and
   be 1-128 characters; RoutingConfig may name one additional, published version,
   different from FunctionVersion, with a weight strictly between 0 and 1.
   (API reference, CreateAlias "Name", AliasRoutingConfiguration.)
R6 no-op publish: PublishVersion when neither code nor configuration changed since
   the last published version returns that version instead of a new one.
   (API reference, PublishVersion: "Lambda doesn't publish a version if the function's
   configuration and code haven't changed since the last version.")
R7 ``ExecutedVersion``: Invoke reports which version ran in
   ``X-Amz-Executed-Version``, choosing by the alias's weights.
   (API reference, Invoke response "ExecutedVersion".)
R8 error codes as Lambda names them: creating an alias that exists is HTTP 409
   ``ResourceConflictException`` (moto says ``ConflictException``).
   (API reference, CreateAlias "Errors".)
R9 pagination: ListVersionsByFunction and ListAliases answer at most 50 items a page
   (fewer with ``MaxItems``) and a ``NextMarker`` while more remain.
   (API reference, ListVersionsByFunction / ListAliases "MaxItems", "NextMarker".)
R10 a version that an alias references, as its main version or as its weighted
   additional version, cannot be deleted: HTTP 409 ``ResourceConflictException``.
   (API reference, DeleteFunction "Errors"; Developer Guide, "Lambda function versions".)
R11 weighted aliases: both versions of a routing configuration must have the same
   execution role and dead-letter queue configuration (or none), else HTTP 400
   ``InvalidParameterValueException``. (Developer Guide, "Alias routing configuration":
   requirements.)
R12 see C1 in ``owned``: provisioned concurrency per alias, IN_PROGRESS then READY,
   re-allocated when the alias's routing changes.
R13 SnapStart: a version published with ``ApplyOn: PublishedVersions`` reports
   ``State: Pending`` while its snapshot is made (a few reads), then ``Active``.
   (Developer Guide, "Improving startup performance with Lambda SnapStart".)
R14 configuration moto drops: ``SnapStart``, ``DeadLetterConfig``, ``KMSKeyArn`` and
   ``FileSystemConfigs`` are kept as sent (an empty value removes them), and so are
   ``TracingConfig``, ``EphemeralStorage`` and ``ImageConfig`` (moto applies them on create
   only, not on UpdateFunctionConfiguration); all are
   reported on $LATEST and on each version published from it.
R15 version numbers are never reused: Lambda counts versions up for ever, while moto
   numbers a new version ``len(versions) + 1`` and so repeats a number that still exists
   after a delete. The layer renumbers such a version to one past the highest ever
   published. After a delete, moto also takes "nothing changed" to mean "the newest
   version that is left", which may hold other code; the layer makes moto publish then.
   (Developer Guide, "Lambda function versions": "Lambda doesn't reuse version numbers".)
R16 what the live service fills in by itself: every function reports a ``LoggingConfig``
   (``{"LogFormat": "Text", "LogGroup": "/aws/lambda/NAME"}`` unless one was sent), and a
   ``LoggingConfig`` that is sent is kept (moto drops it).
   (API reference, LoggingConfig "LogGroup": default ``/aws/lambda/<function name>``.)
R17 code download: ``GetFunction``'s ``Code.Location`` is a pre-signed URL the caller can
   fetch the deployment package from (API reference, GetFunction "Code": "A presigned URL
   you can use to download the deployment package"). moto's points at an S3 host that does
   not exist; the layer points it at the sandbox itself, which serves the package's bytes.
R18 code signing: PutFunctionCodeSigningConfig / GetFunctionCodeSigningConfig /
   DeleteFunctionCodeSigningConfig attach, report and detach a function's code-signing
   configuration (moto answers Get without the ARN and has neither of the others).
M1 regions and accounts: a function's state (its revision, pending reads, versions, aliases)
   is kept per account and region, as the live service keeps it and moto does: the region
   a request was signed for, the account its access key belongs to (an assumed role's keys
   belong to the role's account). The same name in two regions is two functions.
I1 image functions: the sandbox runs moto with ``MOTO_LAMBDA_STUB_ECR=false``, so an image
   is looked up in moto's ECR (it must be pushed there first) and ``CodeSha256`` is the
   image's digest without ``sha256:``, as ``ResolvedImageUri`` shows it.
R19 ``LogType: Tail``: Invoke answers ``X-Amz-Log-Result``, the base64 of the run's last log
   lines (START with the version that ran, the output, END, REPORT). (API reference, Invoke
   "LogType": "the last 4 KB of execution log", base64-encoded.)
R20 the 4 KB environment limit: CreateFunction and UpdateFunctionConfiguration whose
   variables' JSON text exceeds 4 KB fail with HTTP 400 ``InvalidParameterValueException``
   as Lambda words it, the text it measured quoted, values included: "Lambda was unable to
   configure your environment variables because the environment variables you have provided
   exceeded the 4KB limit. String measured: {...}". (Lambda quotas, "Environment variables":
   4 KB; the message as the live service answers it.) The test control ``environment_limit``
   lowers the limit, so that a set the deployer's own check lets through is refused here.
U1, P1, C1 function URLs, resource policies and provisioned concurrency per qualifier:
   see ``owned``.

Test controls (not service rules): ``before(operation, hook)`` lets a test act as
"another deploy" at an exact moment; ``rendezvous(operation, parties)`` holds that many
concurrent requests of an operation until all have arrived, so racing deploys really
overlap; ``misreport_published_code`` makes PublishVersion answer with another
CodeSha256 (a service that published something else), to prove the deployer checks;
``age(function, seconds)`` makes every version published so far look that much
older (its LastModified), so a test reaches past ``prune-grace`` without waiting;
``failing_versions`` makes invocations of those versions fail as a handler error
would (HTTP 200 with ``X-Amz-Function-Error``), since moto without Docker only echoes
the payload; and ``garbled`` names operations answered once with an empty JSON object, an
answer no version of the service gives, to reach the deployer's handling of its own bugs.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import random
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from .owned import POLICY_OPERATIONS, PROVISIONED_OPERATIONS, URL_OPERATIONS, Answer, OwnedResources, Refusal

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

_API = r"/2015-03-31/functions"
_URL_API = r"/2021-10-31/functions"
_CONCURRENCY_API = r"/2019-09-30/functions"
_SIGNING_API = r"/2020-06-30/functions"
_ROUTES: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (method, operation, re.compile(pattern + r"/?\Z"))
    for method, operation, pattern in (
        ("POST", "CreateFunctionUrlConfig", _URL_API + r"/(?P<fn>[^/]+)/url"),
        ("GET", "GetFunctionUrlConfig", _URL_API + r"/(?P<fn>[^/]+)/url"),
        ("PUT", "UpdateFunctionUrlConfig", _URL_API + r"/(?P<fn>[^/]+)/url"),
        ("DELETE", "DeleteFunctionUrlConfig", _URL_API + r"/(?P<fn>[^/]+)/url"),
        ("PUT", "PutProvisionedConcurrencyConfig", _CONCURRENCY_API + r"/(?P<fn>[^/]+)/provisioned-concurrency"),
        ("GET", "GetProvisionedConcurrencyConfig", _CONCURRENCY_API + r"/(?P<fn>[^/]+)/provisioned-concurrency"),
        ("DELETE", "DeleteProvisionedConcurrencyConfig", _CONCURRENCY_API + r"/(?P<fn>[^/]+)/provisioned-concurrency"),
        ("PUT", "PutFunctionCodeSigningConfig", _SIGNING_API + r"/(?P<fn>[^/]+)/code-signing-config"),
        ("GET", "GetFunctionCodeSigningConfig", _SIGNING_API + r"/(?P<fn>[^/]+)/code-signing-config"),
        ("DELETE", "DeleteFunctionCodeSigningConfig", _SIGNING_API + r"/(?P<fn>[^/]+)/code-signing-config"),
        ("POST", "AddPermission", _API + r"/(?P<fn>[^/]+)/policy"),
        ("GET", "GetPolicy", _API + r"/(?P<fn>[^/]+)/policy"),
        ("DELETE", "RemovePermission", _API + r"/(?P<fn>[^/]+)/policy/(?P<sid>[^/]+)"),
        ("DELETE", "DeleteAlias", _API + r"/(?P<fn>[^/]+)/aliases/(?P<alias>[^/]+)"),
        ("POST", "CreateFunction", _API),
        ("GET", "GetFunction", _API + r"/(?P<fn>[^/]+)"),
        ("DELETE", "DeleteFunction", _API + r"/(?P<fn>[^/]+)"),
        ("GET", "GetFunctionConfiguration", _API + r"/(?P<fn>[^/]+)/configuration"),
        ("PUT", "UpdateFunctionConfiguration", _API + r"/(?P<fn>[^/]+)/configuration"),
        ("PUT", "UpdateFunctionCode", _API + r"/(?P<fn>[^/]+)/code"),
        ("POST", "PublishVersion", _API + r"/(?P<fn>[^/]+)/versions"),
        ("GET", "ListVersionsByFunction", _API + r"/(?P<fn>[^/]+)/versions"),
        ("POST", "CreateAlias", _API + r"/(?P<fn>[^/]+)/aliases"),
        ("GET", "ListAliases", _API + r"/(?P<fn>[^/]+)/aliases"),
        ("GET", "GetAlias", _API + r"/(?P<fn>[^/]+)/aliases/(?P<alias>[^/]+)"),
        ("PUT", "UpdateAlias", _API + r"/(?P<fn>[^/]+)/aliases/(?P<alias>[^/]+)"),
        ("POST", "Invoke", _API + r"/(?P<fn>[^/]+)/invocations"),
    )
)
CONFLICT = "ResourceConflictException"
SIGNING_OPERATIONS = ("PutFunctionCodeSigningConfig", "GetFunctionCodeSigningConfig", "DeleteFunctionCodeSigningConfig")
ENVIRONMENT_LIMIT = 4096  # R20: bytes of the variables' JSON text
DEFAULT_ACCOUNT, DEFAULT_REGION = "123456789012", "us-east-1"  # moto's, for an unsigned request
CODE_PATH = "/_sandbox/code/"  # R17: where GetFunction's Code.Location points
PAGE_SIZE = 50  # Lambda's list calls answer at most 50 items a page
_STALE_REVISION = (
    "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
)
_ALIAS_NAME = re.compile(r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)\Z")
# Fields that are identity or bookkeeping, not "code and configuration" (R6).
_NOT_VERSIONED = frozenset(
    {"FunctionArn", "Version", "RevisionId", "LastModified", "Description", "State", "StateReason",
     "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason", "LastUpdateStatusReasonCode",
     "ResponseMetadata", "CodeSize"}
)  # fmt: skip


@dataclass(frozen=True)
class Route:
    operation: str
    function: str
    alias: str
    qualifier: str
    statement: str = ""  # RemovePermission's statement id
    query: Mapping[str, str] = field(default_factory=dict)
    scope: str = ""  # "ACCOUNT/REGION" the request was signed for: a function's state is its own in each (M1)

    @property
    def key(self) -> str:
        return f"{self.scope}/{self.function}"


@dataclass
class _FunctionRecord:
    revision: str = field(default_factory=lambda: str(uuid.uuid4()))
    pending_reads: int = 0
    creating: bool = False
    latest: dict[str, Any] = field(default_factory=dict)
    published: list[dict[str, Any]] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> RevisionId
    weights: dict[str, tuple[str, dict[str, float]]] = field(default_factory=dict)
    owned: OwnedResources = field(default_factory=OwnedResources)
    kept: dict[str, Any] = field(default_factory=dict)  # R14: what $LATEST holds that moto drops
    version_kept: dict[str, dict[str, Any]] = field(default_factory=dict)  # ... and each version
    snapshot_reads: dict[str, int] = field(default_factory=dict)  # R13: reads a SnapStart version stays Pending
    highest: int = 0  # R15: the highest version number ever published
    aged: dict[str, float] = field(default_factory=dict)  # test control: seconds each version is made to look older
    code_signing: str = ""  # R18: the attached code-signing configuration's ARN


_SIGNED_FOR = re.compile(r"Credential=([^/,\s]+)/[0-9]{8}/([a-z0-9-]+)/")


def _scope(environ: Mapping[str, Any]) -> str:
    """ "ACCOUNT/REGION" of a request, as moto keys its state: the region it was signed for, the
    account its access key belongs to (an assumed role's keys belong to the role's account)."""
    signed = _SIGNED_FOR.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    if signed is None:
        return f"{DEFAULT_ACCOUNT}/{DEFAULT_REGION}"
    from moto.iam.models import get_account_id_from  # noqa: PLC0415 - moto loads when a sandbox starts

    return f"{get_account_id_from(signed.group(1))}/{signed.group(2)}"


def _function_key(raw: str) -> str:
    """Function name from a name, partial ARN or ARN (URL-encoded or not)."""
    name = unquote(raw)
    if ":function:" in name:
        name = name.split(":function:", 1)[1]
    return name.split(":", 1)[0]


def route_of(environ: Mapping[str, Any]) -> Route | None:
    path = environ.get("PATH_INFO", "")
    if not path.startswith((_API, _URL_API, _CONCURRENCY_API, _SIGNING_API)):
        return None
    query = parse_qs(environ.get("QUERY_STRING", ""))
    for method, operation, pattern in _ROUTES:
        match = pattern.match(path)
        if match and environ.get("REQUEST_METHOD") == method:
            groups = match.groupdict()
            raw_fn = groups.get("fn") or ""
            qualifier = query.get("Qualifier", [""])[0]
            if not qualifier and ":function:" in unquote(raw_fn) and unquote(raw_fn).count(":") == 7:
                qualifier = unquote(raw_fn).rsplit(":", 1)[1]
            return Route(
                operation,
                _function_key(raw_fn),
                unquote(groups.get("alias") or ""),
                qualifier,
                unquote(groups.get("sid") or ""),
                {key: values[0] for key, values in query.items()},
            )
    return None


def _versioned(config: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in config.items() if k not in _NOT_VERSIONED}, sort_keys=True, default=str)


class LambdaFidelity:
    """WSGI middleware over moto's server app; see the module docstring for the rules."""

    def __init__(self, app: WsgiApp, in_progress_reads: int = 2) -> None:
        self._app = app
        self._default_reads = in_progress_reads
        self.in_progress_reads = in_progress_reads
        self._functions: dict[str, _FunctionRecord] = {}
        self._lock = threading.Lock()
        self._hooks: dict[str, list[tuple[str, Callable[[], None]]]] = {}
        self.refusals: list[tuple[str, str]] = []  # (operation, error code), for tests
        self.failing_versions: set[str] = set()
        self.misreport_published_code = ""
        self.provisioned_failure = ""
        self.garbled: set[str] = set()
        self.environment_limit = ENVIRONMENT_LIMIT
        self.code_url_broken = False  # R17 control: the package's URL answers a 404 HTML page (an expired link, a proxy)
        self._barriers: dict[str, threading.Barrier] = {}
        self.random = random.Random(0)
        self._base_url = ""

    def reset(self) -> None:
        """Forget every function and put every test control back as the sandbox started."""
        with self._lock:
            self.in_progress_reads = self._default_reads
            self._functions.clear()
            self._hooks.clear()
            self._barriers.clear()
            self.refusals.clear()
            self.failing_versions.clear()
            self.misreport_published_code = ""
            self.provisioned_failure = ""
            self.garbled.clear()
            self.environment_limit = ENVIRONMENT_LIMIT
            self.code_url_broken = False

    def before(self, operation: str, hook: Callable[[], None], function: str = "") -> None:
        """Run ``hook`` once, just before the next ``operation`` (on ``function``, if given) is handled."""
        self._hooks.setdefault(operation, []).append((function, hook))

    def age(self, function: str, seconds: float) -> None:
        """Make every version of ``function`` published so far report a LastModified ``seconds`` earlier."""
        with self._lock:
            record = self._record(function)
            for version in record.published:
                number = str(version.get("Version"))
                record.aged[number] = record.aged.get(number, 0.0) + seconds

    def _record(self, function: str) -> _FunctionRecord:
        """A test's handle on a function by name: the one of that name (in the first account and region that has one)."""
        return next(record for key, record in self._functions.items() if key.rsplit("/", 1)[1] == function)

    def rendezvous(self, operation: str, parties: int, timeout: float = 30.0) -> None:
        """Hold the next ``parties`` requests of ``operation`` until all have arrived."""
        self._barriers[operation] = threading.Barrier(parties, timeout=timeout)

    # --- WSGI ----------------------------------------------------------------------

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(CODE_PATH):  # R17
            return self._serve_code(environ, start_response)
        route = route_of(environ)
        if route is None:
            return self._app(environ, start_response)
        route = replace(route, scope=_scope(environ))
        self._base_url = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', 'localhost')}"
        waiting = self._hooks.get(route.operation, [])
        due = [hook for function, hook in waiting if function in ("", route.function)]
        self._hooks[route.operation] = [(function, hook) for function, hook in waiting if function not in ("", route.function)]
        for hook in due:
            hook()  # outside the lock: a hook makes its own requests
        barrier = self._barriers.get(route.operation)
        if barrier is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()  # outside the lock, so the others can arrive
            self._barriers.pop(route.operation, None)  # one round only: retries go straight through
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        request = json.loads(body) if body and route.operation != "Invoke" else {}
        with self._lock:
            if route.operation in self.garbled:
                self.garbled.discard(route.operation)
                return _respond(start_response, 200, {})
            try:
                answer = self._before(route, request)
            except Refusal as refusal:
                self.refusals.append((route.operation, refusal.code))
                return _respond(
                    start_response, refusal.status, {"Type": "User", "message": refusal.message}, {"x-amzn-ErrorType": refusal.code}
                )
            if answer is not None:
                return _respond(start_response, answer.status, answer.body)
            status, headers, payload = _call(self._app, environ)
            if status == 409 and any(k.lower() == "x-amzn-errortype" and v == "ConflictException" for k, v in headers):  # R8
                message = json.loads(payload or b"{}").get("message", "")
                return _respond(start_response, 409, {"Type": "User", "message": message}, {"x-amzn-ErrorType": CONFLICT})
            if status < 300 and route.operation != "Invoke":
                decorated = self._after(route, request, json.loads(payload) if payload else {})
                return _respond(
                    start_response, status, decorated, {k: v for k, v in headers if k.lower() not in ("content-length", "content-type")}
                )
            if status < 300:
                executed = self._executed_version(route)
                headers = [*headers, ("X-Amz-Executed-Version", executed)]
                if executed in self.failing_versions:
                    payload = json.dumps({"errorMessage": "boom", "errorType": "RuntimeError"}).encode()
                    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                    headers += [("X-Amz-Function-Error", "Unhandled"), ("Content-Length", str(len(payload)))]
                if environ.get("HTTP_X_AMZ_LOG_TYPE") == "Tail":  # R19
                    headers = [*headers, ("X-Amz-Log-Result", _log_tail(executed, executed in self.failing_versions))]
            start_response(f"{status} {'OK' if status < 300 else 'Error'}", headers)
            return [payload]

    # --- rules before forwarding -------------------------------------------------

    def _before(self, route: Route, request: Mapping[str, Any]) -> Answer | None:
        record = self._functions.get(route.key)
        op = route.operation
        if op in URL_OPERATIONS or op in POLICY_OPERATIONS or op in PROVISIONED_OPERATIONS:  # U1, P1, C1
            if record is None or not record.latest:
                raise Refusal(404, "ResourceNotFoundException", f"Function not found: {route.function}")
            arn = str(record.latest.get("FunctionArn", "")).removesuffix(":$LATEST")
            record.owned.reads = self.in_progress_reads
            if op == "GetProvisionedConcurrencyConfig" and self.provisioned_failure:
                record.owned.fail, self.provisioned_failure = self.provisioned_failure, ""
            return record.owned.handle(op, route.qualifier, request, arn, record.aliases, route.statement)
        if op in SIGNING_OPERATIONS:  # R18
            if record is None or not record.latest:
                raise Refusal(404, "ResourceNotFoundException", f"Function not found: {route.function}")
            if op == "PutFunctionCodeSigningConfig":
                record.code_signing = str(request.get("CodeSigningConfigArn", ""))
            elif op == "DeleteFunctionCodeSigningConfig":
                record.code_signing = ""
                return Answer(204, {})
            answer = {"FunctionName": route.function}
            return Answer(200, {**answer, "CodeSigningConfigArn": record.code_signing} if record.code_signing else answer)
        if op == "DeleteFunction" and record and route.qualifier.isdigit():  # R10
            users = sorted(a for a, (primary, weights) in record.weights.items() if route.qualifier in (primary, *weights))
            if users:
                raise Refusal(
                    409,
                    CONFLICT,
                    f"Unable to delete version {route.qualifier} because the following aliases reference it: [{', '.join(users)}]",
                )
        if op in ("UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion") and record:
            if record.pending_reads > 0:  # R2
                raise Refusal(
                    409,
                    "ResourceConflictException",
                    f"The operation cannot be performed at this time. An update is in progress for resource: {route.function}",
                )
            current = record.latest.get("CodeSha256")
            # R4 before R3: a publish that fails both gets the 400, the answer that only its
            # message tells apart, so the deployer's reading of it is what gets tested.
            if op == "PublishVersion" and request.get("CodeSha256") and request["CodeSha256"] != current:  # R4
                raise Refusal(
                    400,
                    "InvalidParameterValueException",
                    f"CodeSHA256 ({request['CodeSha256']}) is different from current CodeSHA256 in $LATEST ({current}). "
                    "Please try again with the CodeSHA256 in $LATEST.",
                )
            if request.get("RevisionId") and request["RevisionId"] != record.revision:  # R3
                raise Refusal(412, "PreconditionFailedException", _STALE_REVISION)
        if op == "PublishVersion" and record and record.published and _versioned(record.published[-1]) == _versioned(record.latest):  # R6
            return Answer(201, self._decorate(op, route, record, {**record.published[-1]}, reads_latest=False))
        if op == "PublishVersion" and record and record.latest:  # R15: not R6, so Lambda publishes
            _moto_function(str(record.latest.get("FunctionArn", ""))).code_or_config_updated = True
        if op in ("CreateAlias", "UpdateAlias"):
            self._check_alias(route, request, record)
        variables = (request.get("Environment") or {}).get("Variables")
        if op in ("CreateFunction", "UpdateFunctionConfiguration") and variables:  # R20
            measured = json.dumps(variables, separators=(",", ":"), ensure_ascii=False)
            if len(measured.encode()) > self.environment_limit:
                raise Refusal(
                    400,
                    "InvalidParameterValueException",
                    "Lambda was unable to configure your environment variables because the environment variables you have provided "
                    f"exceeded the 4KB limit. String measured: {measured}",
                )
        return None

    def _check_alias(self, route: Route, request: Mapping[str, Any], record: _FunctionRecord | None) -> None:
        name = request.get("Name", route.alias)
        if not _ALIAS_NAME.match(name) or len(name) > 128:  # R5
            raise Refusal(
                400,
                "ValidationException",
                f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
            )
        weights = (request.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        if len(weights) > 1:
            raise Refusal(400, "InvalidParameterValueException", "Only one additional version can be specified in the routing config.")
        target = request.get("FunctionVersion", "")
        for version, weight in weights.items():
            if not 0.0 < float(weight) < 1.0:
                raise Refusal(
                    400, "ValidationException", f"Value {weight} for AdditionalVersionWeights must be strictly between 0.0 and 1.0"
                )
            if version in ("$LATEST", target) or not version.isdigit():
                raise Refusal(
                    400,
                    "InvalidParameterValueException",
                    f"Invalid additional version {version}: it must be a published version other than the primary one.",
                )
        if target == "$LATEST" and weights:
            raise Refusal(400, "InvalidParameterValueException", "$LATEST cannot have a routing config.")
        if weights and record is not None:  # R11
            versions = {str(v.get("Version")): v for v in record.published}
            pair = [versions.get(target), versions.get(next(iter(weights)))]
            if all(pair) and len({_role_and_dlq(v) for v in pair if v}) > 1:
                raise Refusal(
                    400,
                    "InvalidParameterValueException",
                    "The versions in an alias's routing configuration must have the same execution role and the same "
                    "dead-letter queue configuration.",
                )
        stale = request.get("RevisionId") and record and request["RevisionId"] != record.aliases.get(route.alias)
        if route.operation == "UpdateAlias" and stale:  # R3
            raise Refusal(
                412,
                "PreconditionFailedException",
                _STALE_REVISION,
            )

    # --- rules after forwarding ---------------------------------------------------

    def _after(self, route: Route, request: Mapping[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        op = route.operation
        name = route.function or _function_key(str(request.get("FunctionName", "")))
        key = f"{route.scope}/{name}"
        record = self._functions.setdefault(key, _FunctionRecord())
        if op == "CreateFunction":
            record.revision, record.pending_reads, record.creating = str(uuid.uuid4()), self.in_progress_reads, True
            record.kept["LoggingConfig"] = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}  # R16, unless one is sent
            record.code_signing = str(request.get("CodeSigningConfigArn") or "")  # R18
            _keep(record, request)
            record.latest = {**payload, **record.kept}
        elif op in ("UpdateFunctionCode", "UpdateFunctionConfiguration"):
            record.revision, record.pending_reads, record.creating = str(uuid.uuid4()), self.in_progress_reads, False
            _keep(record, request)
            record.latest = {**payload, **record.kept}
        elif op == "PublishVersion":
            if str(payload.get("Version")) not in {str(v.get("Version")) for v in record.published}:
                if int(payload.get("Version", 0)) <= record.highest:  # R15
                    payload = _renumber(str(payload.get("FunctionArn", "")), record.highest + 1)
                record.highest = max(record.highest, int(payload.get("Version", 0)))
            version = str(payload.get("Version", ""))
            snapshot = dict(record.kept)
            if (snapshot.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions":  # R13
                snapshot["SnapStart"] = {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
                record.snapshot_reads[version] = self.in_progress_reads
            record.version_kept[version] = snapshot
            payload = {**payload, **snapshot}
            record.published.append(dict(payload))
            if self.misreport_published_code:
                payload = {**payload, "CodeSha256": self.misreport_published_code}
        elif op == "DeleteFunction" and route.qualifier.isdigit():
            record.published = [v for v in record.published if v.get("Version") != route.qualifier]
            return payload
        elif op == "DeleteFunction":
            self._functions.pop(key, None)
            return payload
        elif op == "DeleteAlias":
            record.aliases.pop(route.alias, None)
            record.weights.pop(route.alias, None)
            return payload
        elif op in ("CreateAlias", "UpdateAlias"):
            alias = payload.get("Name", route.alias)
            record.aliases[alias] = str(uuid.uuid4())
            weights = (payload.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
            if record.weights.get(alias) != (payload.get("FunctionVersion", ""), dict(weights)):
                record.owned.reallocate(alias)  # C1: Lambda re-splits the provisioned environments
            record.weights[alias] = (payload.get("FunctionVersion", ""), dict(weights))
        reads_latest = op in ("GetFunction", "GetFunctionConfiguration") and route.qualifier in ("", "$LATEST")
        if reads_latest and record.pending_reads > 0:
            record.pending_reads -= 1
        return self._decorate(op, route, record, payload, reads_latest)

    def _decorate(self, op: str, route: Route, record: _FunctionRecord, payload: dict[str, Any], reads_latest: bool) -> dict[str, Any]:
        def function_config(config: dict[str, Any]) -> dict[str, Any]:
            version = str(config.get("Version", "$LATEST"))
            config.setdefault("LoggingConfig", {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{config.get('FunctionName', '')}"})  # R16
            if version != "$LATEST":
                config.setdefault("RevisionId", str(uuid.uuid5(uuid.NAMESPACE_URL, config.get("FunctionArn", ""))))
                config.update(record.version_kept.get(version, {}))
                if version in record.aged and config.get("LastModified"):
                    modified = datetime.fromisoformat(str(config["LastModified"]).replace("Z", "+00:00")[:26] + "+00:00")
                    config["LastModified"] = (modified - timedelta(seconds=record.aged[version])).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
                snapshotting = record.snapshot_reads.get(version, 0) > 0
                if snapshotting and op == "GetFunctionConfiguration" and route.qualifier == version:
                    record.snapshot_reads[version] -= 1
                config.update(State="Pending" if snapshotting else "Active", LastUpdateStatus="Successful")
                return config
            config.update(record.kept)
            busy = record.pending_reads > 0 or (
                not reads_latest and op in ("CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration")
            )
            config["RevisionId"] = record.revision
            config["State"] = "Pending" if busy and record.creating else "Active"
            config["LastUpdateStatus"] = "InProgress" if busy else "Successful"
            if op in ("GetFunction", "GetFunctionConfiguration", "ListVersionsByFunction"):
                record.latest = {k: v for k, v in config.items() if k not in ("State", "LastUpdateStatus")}
            return config

        def alias_config(alias: dict[str, Any]) -> dict[str, Any]:
            alias["RevisionId"] = record.aliases.setdefault(alias.get("Name", ""), str(uuid.uuid4()))
            return alias

        if op == "GetFunction" and "Configuration" in payload:
            payload["Configuration"] = function_config(payload["Configuration"])
            if (payload.get("Code") or {}).get("RepositoryType") == "S3":  # R17
                arn = str(payload["Configuration"].get("FunctionArn", ""))
                payload["Code"]["Location"] = f"{self._base_url}{CODE_PATH}{quote(arn, safe='')}"
        elif op == "ListVersionsByFunction":
            payload = _page(route, payload, "Versions", [function_config(v) for v in payload.get("Versions", [])])
        elif op == "ListAliases":
            payload = _page(route, payload, "Aliases", [alias_config(a) for a in payload.get("Aliases", [])])
        elif op in ("CreateAlias", "UpdateAlias", "GetAlias"):
            payload = alias_config(payload)
        elif "FunctionArn" in payload:
            payload = function_config(payload)
        return payload

    def _serve_code(self, environ: Environ, start_response: StartResponse) -> list[bytes]:  # R17
        arn = unquote(environ["PATH_INFO"][len(CODE_PATH) :])
        if self.code_url_broken:
            page = b"<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"
            start_response("404 Not Found", [("Content-Type", "text/html"), ("Content-Length", str(len(page)))])
            return [page]
        try:
            data = bytes(_moto_object(arn).code_bytes)
        except (KeyError, ValueError, AttributeError):
            return _respond(start_response, 404, {"message": f"no package for {arn}"})
        start_response("200 OK", [("Content-Type", "application/zip"), ("Content-Length", str(len(data)))])
        return [data]

    def _executed_version(self, route: Route) -> str:  # R7
        record = self._functions.get(route.key)
        qualifier = route.qualifier or "$LATEST"
        if record is None or qualifier not in record.weights:
            return qualifier
        primary, weights = record.weights[qualifier]
        roll = self.random.random()
        for version, weight in weights.items():
            if roll < weight:
                return version
        return primary


KEPT_FIELDS = (
    "SnapStart", "DeadLetterConfig", "LoggingConfig", "KMSKeyArn", "FileSystemConfigs", "TracingConfig", "EphemeralStorage", "ImageConfig",
)  # fmt: skip


def _role_and_dlq(config: Mapping[str, Any]) -> tuple[str, str]:
    return str(config.get("Role")), str((config.get("DeadLetterConfig") or {}).get("TargetArn", ""))


def _keep(record: _FunctionRecord, request: Mapping[str, Any]) -> None:  # R14
    for key in KEPT_FIELDS:
        if key not in request:
            continue
        value = request[key]
        if key == "SnapStart":
            record.kept[key] = {"ApplyOn": dict(value or {}).get("ApplyOn", "None"), "OptimizationStatus": "Off"}
        elif key == "LoggingConfig":  # R16: the structure sent replaces the one the function had
            record.kept[key] = _logging(dict(value or {}), str(request.get("FunctionName") or record.latest.get("FunctionName", "")))
        elif key == "DeadLetterConfig" and dict(value or {}).get("TargetArn"):
            record.kept[key] = {"TargetArn": value["TargetArn"]}
        elif key in ("KMSKeyArn", "FileSystemConfigs") and value:
            record.kept[key] = value
        elif key in ("TracingConfig", "EphemeralStorage"):  # moto keeps them on create, drops them on update
            record.kept[key] = dict(value or {})
        elif key == "ImageConfig":  # reported inside ImageConfigResponse, replaced whole
            record.kept["ImageConfigResponse"] = {"ImageConfig": dict(value or {})}
        else:
            record.kept.pop(key, None)  # an empty TargetArn, KMS key or list removes the setting


def _logging(sent: Mapping[str, Any], function: str) -> dict[str, Any]:
    """A LoggingConfig as Lambda reports it: the default log group, and for JSON logs the
    default levels (INFO) unless others were sent; Text logs have no levels."""
    logging = {"LogFormat": sent.get("LogFormat", "Text"), "LogGroup": sent.get("LogGroup") or f"/aws/lambda/{_function_key(function)}"}
    if logging["LogFormat"] == "JSON":
        logging["ApplicationLogLevel"] = sent.get("ApplicationLogLevel", "INFO")
        logging["SystemLogLevel"] = sent.get("SystemLogLevel", "INFO")
    return logging


def _backend(account: str, region: str) -> Any:
    """moto's Lambda backend: the Docker-free one or the other, as the sandbox configured."""
    from moto.awslambda.utils import get_backend  # noqa: PLC0415 - moto loads when a sandbox starts, not when the package is read

    return get_backend(account, region)


def _moto_function(arn: str) -> Any:
    """moto's own record of the newest object behind ``arn`` ($LATEST, or the newest version
    just published). The sandbox serves moto in this process, so the layer can correct what
    moto's HTTP API cannot express (R15); moto is pinned, and the fidelity tests cover this."""
    _, _, _, region, account, _, name, *_ = arn.split(":")
    entry = _backend(account, region)._lambdas._functions[name]
    return entry["versions"][-1] if arn.count(":") == 7 and entry["versions"] else entry["latest"]


def _log_tail(version: str, failed: bool) -> str:  # R19
    """The base64 log tail Lambda returns for LogType Tail: the run's START, output, END and REPORT lines."""
    request = str(uuid.uuid4())
    output = "[ERROR] RuntimeError: boom" if failed else "handled"
    lines = [
        f"START RequestId: {request} Version: {version}",
        output,
        f"END RequestId: {request}",
        f"REPORT RequestId: {request}\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB",
    ]
    return base64.b64encode(("\n".join(lines) + "\n").encode()).decode()


def _moto_object(arn: str) -> Any:
    """moto's object for a function ARN: $LATEST, or the version it names."""
    parts = arn.split(":")
    _, _, _, region, account, _, name, *qualifier = parts
    entry = _backend(account, region)._lambdas._functions[name]
    if not qualifier or qualifier[0] == "$LATEST":
        return entry["latest"]
    return next(v for v in entry["versions"] if str(v.version) == qualifier[0])


def _renumber(arn: str, number: int) -> dict[str, Any]:  # R15
    _, _, _, region, account, *_ = arn.split(":")
    storage = _backend(account, region)._lambdas
    version = _moto_function(arn)
    storage._arns.pop(version.function_arn, None)
    version.set_version(number)
    storage._arns[version.function_arn] = version
    return dict(version.get_configuration())


def _page(route: Route, payload: dict[str, Any], key: str, items: list[dict[str, Any]]) -> dict[str, Any]:  # R9
    start = int(route.query.get("Marker") or 0)
    size = min(int(route.query.get("MaxItems") or PAGE_SIZE), PAGE_SIZE)
    page = {**payload, key: items[start : start + size]}
    if start + size < len(items):
        page["NextMarker"] = str(start + size)
    return page


def _call(app: WsgiApp, environ: Environ) -> tuple[int, list[tuple[str, str]], bytes]:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"], captured["headers"] = status, headers
        return lambda _: None

    chunks = app(environ, start_response)
    try:
        payload = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
    return int(captured["status"].split()[0]), list(captured["headers"]), payload


def _respond(start_response: StartResponse, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> list[bytes]:
    data = json.dumps(body).encode()
    reason = {
        200: "OK",
        201: "Created",
        204: "No Content",
        400: "Bad Request",
        404: "Not Found",
        409: "Conflict",
        412: "Precondition Failed",
    }.get(status, "Status")
    start_response(
        f"{status} {reason}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data))), *(headers or {}).items()],
    )
    return [data]
