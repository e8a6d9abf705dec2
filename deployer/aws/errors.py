"""How every botocore error reaches a user: one table (``RULES``, in the spirit of httpx's
``map_exceptions``) maps each error, by class and error code, to a kind callers act on:
``TransientError`` (throttled, 5xx, ``ConnectionLost``: may pass, the only kind retried),
``RefusedError`` (access denied, bad or missing credentials: said at once), ``ConflictError``
(a failed RevisionId / CodeSha256 guard), ``GroupBusy``, ``InputError`` (no usable region) or a
plain ``DeployError``. Message text is read only for the CodeSha256 guard, which AWS reports
as a plain 400. ``translated`` applies it around a call; every message shown is scrubbed of
the environment values this process knows."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    DataNotFoundError,
    HTTPClientError,
    InvalidRegionError,
    NoAuthTokenError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    RefreshWithMFAUnsupportedError,
    SSOError,
    TokenRetrievalError,
    UnknownCredentialError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from ..errors import ConflictError, ConnectionLost, DeployError, GroupBusy, InputError, Problem, RefusedError, TransientError

RETRY_ATTEMPTS = 5
CONFLICT_RETRIES = 5
# Explicit socket timeouts (botocore's defaults, stated so that they are a decision):
# a dropped connection or a silent endpoint ends as ``ConnectionLost``, never a hang.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
NOT_FOUND = "ResourceNotFoundException"
CONFLICT = "ResourceConflictException"
PRECONDITION_FAILED = "PreconditionFailedException"
PROVISIONED_MISSING = "ProvisionedConcurrencyConfigNotFoundException"
# PublishVersion with a CodeSha256 that no longer matches $LATEST is a 400
# InvalidParameterValueException; only its message tells it from the other 400s.
CODE_SHA_MISMATCH = re.compile(r"CodeSHA256 \(.*\) is different from current CodeSHA256 in \$LATEST")
THROTTLED = frozenset(
    {"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
     "RequestThrottled", "RequestThrottledException", "SlowDown", "PriorRequestNotComplete"}
)  # fmt: skip
ACCESS_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "AuthorizationError"})
BAD_CREDENTIALS = frozenset(
    {"UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException", "ExpiredToken",
     "InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature",
     "InvalidIdentityToken", "IDPRejectedClaim"}
)  # fmt: skip
CREDENTIAL_ERRORS = (
    NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, TokenRetrievalError, SSOError,
    NoAuthTokenError, ProfileNotFound, UnknownCredentialError, RefreshWithMFAUnsupportedError,
)  # fmt: skip
CREDENTIALS_HINT = "set role-to-assume (with 'permissions: id-token: write'), or add aws-actions/configure-aws-credentials before this step"
REGION_HINT = "give a region such as eu-west-1"
TERMINAL_CREDENTIALS_HINT = "sign in first (aws sso login, or AWS_PROFILE / AWS_ACCESS_KEY_ID in the environment), or pass --role-to-assume"


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


# Lambda quotes the variables' JSON text, values included, when it refuses them for size:
# everything from this marker on is dropped from any message the action shows.
STRING_MEASURED = "String measured:"
SCRUB_MIN_LENGTH = 4  # shorter values are ordinary words and numbers: replacing them would garble every message


class _KnownValues:
    """The environment values this process knows (given, or read back from Lambda): every
    message from AWS the action shows is scrubbed of them. Thread-safe: a fleet's functions
    register theirs from their own threads."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def remember(self, values: Iterable[str]) -> None:
        with self._lock:
            self._values.update(value for value in values if len(value) >= SCRUB_MIN_LENGTH)

    def scrub(self, text: str) -> str:
        if STRING_MEASURED in text:
            text = text.split(STRING_MEASURED, 1)[0] + f"{STRING_MEASURED} (not shown: it holds the variables' values)"
        with self._lock:
            known = sorted(self._values, key=len, reverse=True)  # longest first: a value inside another is not half-replaced
        for value in known:
            text = text.replace(value, "***")
        return text


KNOWN_VALUES = _KnownValues()


def remember_secrets(values: Iterable[str]) -> None:
    """Environment values to scrub from every AWS message shown from now on."""
    KNOWN_VALUES.remember(values)


def explain(error: Exception, action: str, where: str) -> DeployError | None:
    """The user-facing answer to ``error`` (see ``_explain``), scrubbed of every environment value known."""
    answer = _explain(error, action, where)
    if answer is None:
        return None
    scrub = KNOWN_VALUES.scrub
    return type(answer)(*(replace(problem, what=scrub(problem.what), hint=scrub(problem.hint)) for problem in answer.problems))


@dataclass(frozen=True)
class Rule:
    """One row of ``RULES``: the errors ``matches`` accepts become a ``kind`` with this message.

    ``what`` and ``hint`` are ``str.format`` templates over ``action``, ``code``, ``message``,
    ``status``, ``name`` (the exception's class), ``error`` (its text) and ``attempts``.
    ``where`` replaces the caller's place when the error is about something else (the
    credentials, the region); ``kind`` None means a bug in lambda-deploy (exit code 2).
    """

    matches: Callable[[Exception], bool]
    kind: type[DeployError] | None
    what: str = ""
    hint: str = ""
    where: str = ""
    input: str = ""
    terminal_hint: str = ""


def _codes(codes: Iterable[str]) -> Callable[[Exception], bool]:
    wanted = frozenset(codes)
    return lambda error: isinstance(error, ClientError) and error_code(error) in wanted


def _raised(*classes: type[Exception]) -> Callable[[Exception], bool]:
    return lambda error: isinstance(error, classes)


def _guard_failed(error: Exception) -> bool:
    """412 (a stale RevisionId), 409 (it already exists, or another update held it too long)
    and the CodeSha256 guard's 400 all mean: it was changed under us."""
    if not isinstance(error, ClientError):
        return False
    code = error_code(error)
    if code in (PRECONDITION_FAILED, CONFLICT):
        return True
    return code == "InvalidParameterValueException" and bool(CODE_SHA_MISMATCH.search(error_message(error)))


def _server_error(error: Exception) -> bool:
    return isinstance(error, ClientError) and http_status(error) >= 500


# First match wins. Throttles, 5xx answers and lost connections arrive here only after
# botocore's ``standard`` retry mode has tried ``RETRY_ATTEMPTS`` times.
RULES: tuple[Rule, ...] = (
    Rule(_guard_failed, ConflictError, "{action} failed: someone else changed it meanwhile ({code}: {message})"),
    Rule(_codes({"DeploymentLimitExceededException"}), GroupBusy, "{action} was refused: {code}: {message}"),
    Rule(
        _codes(THROTTLED),
        TransientError,
        "AWS kept throttling {action} ({code}: {message}) through {attempts} attempts",
        "the account's request rate is exhausted; run again in a minute, or deploy fewer functions at once (max-parallel)",
    ),
    Rule(
        _server_error,
        TransientError,
        "AWS answered {action} with a server error ({status} {code}: {message}) {attempts} times in a row",
        "this is on AWS's side and usually passes; run again",
    ),
    Rule(_codes(ACCESS_DENIED), RefusedError, "{action} was refused: {code}: {message}", "grant the deploy role this permission"),
    Rule(
        _codes(BAD_CREDENTIALS),
        RefusedError,
        "{action} was refused: {code}: {message}",
        f"check the AWS credentials: {CREDENTIALS_HINT}",
        terminal_hint=f"check the AWS credentials: {TERMINAL_CREDENTIALS_HINT}",
    ),
    Rule(_raised(ClientError), DeployError, "{action} failed: {code}: {message}"),
    Rule(
        _raised(BotoConnectionError, HTTPClientError),
        ConnectionLost,
        "the connection to AWS was lost while {action} ({name}: {error}), after {attempts} attempts",
        "check the network and any AWS_ENDPOINT_URL; running the deploy again is safe",
    ),
    Rule(
        _raised(*CREDENTIAL_ERRORS),
        RefusedError,
        "{action}: no usable AWS credentials ({name}: {error})",
        CREDENTIALS_HINT,
        where="environment",
        terminal_hint=TERMINAL_CREDENTIALS_HINT,
    ),
    Rule(_raised(NoRegionError, InvalidRegionError), InputError, "{action}: {error}", REGION_HINT, input="aws-region"),
    Rule(
        _raised(ParamValidationError),
        DeployError,
        "{action}: the AWS SDK refused the request: {error}",
        "an input passed lambda-deploy's checks but not the SDK's; please report it with this log",
    ),
    Rule(_raised(DataNotFoundError), None),  # the image lacks a service's model: a packaging bug, not the user's
    Rule(_raised(BotoCoreError), DeployError, "{action} failed: {name}: {error}"),
)


def _explain(error: Exception, action: str, where: str) -> DeployError | None:
    """The user-facing answer to ``error`` by the first rule of ``RULES`` it matches; None for an
    error no rule answers or one that means a bug in lambda-deploy (it then surfaces as exit code 2).

    ``action`` says what we were doing ("uploading the code"), ``where`` what it was about.
    """
    rule = next((rule for rule in RULES if rule.matches(error)), None)
    if rule is None or rule.kind is None:
        return None
    client = error if isinstance(error, ClientError) else None
    fields = {
        "action": action,
        "code": error_code(client) if client else "",
        "message": error_message(client) if client else "",
        "status": http_status(client) if client else 0,
        "name": type(error).__name__,
        "error": str(error),
        "attempts": RETRY_ATTEMPTS,
    }
    return rule.kind(
        Problem(
            rule.what.format(**fields),
            "" if rule.input else (rule.where or where),
            rule.hint.format(**fields),
            input=rule.input,
            terminal_hint=rule.terminal_hint.format(**fields),
        )
    )


@contextmanager
def translated(action: str, where: str) -> Iterator[None]:
    """Turn botocore's exceptions into user-facing errors that say what we were doing."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        answer = explain(error, action, where)
        if answer is None:
            raise
        raise answer from None


@contextmanager
def gone_is_fine(*codes: str) -> Iterator[None]:
    """Deleting what is already gone is done: cleanup meets partial states."""
    try:
        yield
    except ClientError as error:
        if error_code(error) not in (NOT_FOUND, *codes):
            raise
