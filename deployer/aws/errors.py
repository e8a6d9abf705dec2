"""How every botocore error reaches a user: ``explain`` gives each error class a deliberate
answer (a ``DeployError``, a ``ConflictError`` for a failed RevisionId / CodeSha256 guard, or a
``ConnectionLost``), chosen by error code and class; message text is read only for the
CodeSha256 guard, which AWS reports as a plain 400. ``translated`` applies it around a call."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace

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

from ..errors import ConflictError, ConnectionLost, DeployError, GroupBusy, TransientError

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
     "InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature"}
)  # fmt: skip
CREDENTIAL_ERRORS = (
    NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, TokenRetrievalError, SSOError,
    NoAuthTokenError, ProfileNotFound, UnknownCredentialError, RefreshWithMFAUnsupportedError,
)  # fmt: skip
CREDENTIALS_HINT = "set role-to-assume (with 'permissions: id-token: write'), or add aws-actions/configure-aws-credentials before this step"


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def _status(error: ClientError) -> int:
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


def _explain(error: Exception, action: str, where: str) -> DeployError | None:
    """The user-facing answer to every botocore error that can reach a user, or None for
    the ones that mean a bug in lambda-deploy (they then surface as exit code 2).

    ``action`` says what we were doing ("uploading the code"), ``where`` what it was about.
    Throttles, 5xx answers and connection failures arrive here only after botocore's
    ``standard`` retry mode has tried ``RETRY_ATTEMPTS`` times.
    """
    if isinstance(error, ClientError):
        code, message, status = _code(error), _message(error), _status(error)
        # 412 (a stale RevisionId), 409 (it already exists, or another update held it too
        # long) and the CodeSha256 guard's 400 all mean: it was changed under us.
        if code in (PRECONDITION_FAILED, CONFLICT) or (code == "InvalidParameterValueException" and CODE_SHA_MISMATCH.search(message)):
            return ConflictError.of(f"{action} failed: someone else changed it meanwhile ({code}: {message})", where)
        if code == "DeploymentLimitExceededException":
            return GroupBusy.of(f"{action} was refused: {code}: {message}", where)
        if code in THROTTLED:
            return TransientError.of(
                f"AWS kept throttling {action} ({code}: {message}) through {RETRY_ATTEMPTS} attempts",
                where,
                "the account's request rate is exhausted; run again in a minute, or deploy fewer functions at once (max-parallel)",
            )
        if status >= 500:
            return TransientError.of(
                f"AWS answered {action} with a server error ({status} {code}: {message}) {RETRY_ATTEMPTS} times in a row",
                where,
                "this is on AWS's side and usually passes; run again",
            )
        if code in ACCESS_DENIED:
            return DeployError.of(f"{action} was refused: {code}: {message}", where, "grant the deploy role this permission")
        if code in BAD_CREDENTIALS:
            return DeployError.of(f"{action} was refused: {code}: {message}", where, f"check the AWS credentials: {CREDENTIALS_HINT}")
        return DeployError.of(f"{action} failed: {code}: {message}", where)
    if isinstance(error, BotoConnectionError | HTTPClientError):
        return ConnectionLost.of(
            f"the connection to AWS was lost while {action} ({type(error).__name__}: {error}), after {RETRY_ATTEMPTS} attempts",
            where,
            "check the runner's network and any AWS_ENDPOINT_URL; running the deploy again is safe",
        )
    if isinstance(error, CREDENTIAL_ERRORS):
        return DeployError.of(f"{action}: no usable AWS credentials ({type(error).__name__}: {error})", "environment", CREDENTIALS_HINT)
    if isinstance(error, NoRegionError | InvalidRegionError):
        return DeployError.of(f"{action}: {error}", "input 'aws-region'", "give a region such as eu-west-1")
    if isinstance(error, ParamValidationError):
        return DeployError.of(
            f"{action}: the AWS SDK refused the request: {error}",
            where,
            "an input passed lambda-deploy's checks but not the SDK's; please report it with this log",
        )
    if isinstance(error, DataNotFoundError):
        return None  # the image lacks a service's model: a packaging bug, not the user's
    if isinstance(error, BotoCoreError):
        return DeployError.of(f"{action} failed: {type(error).__name__}: {error}", where)
    return None


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
def _gone_is_fine(*codes: str) -> Iterator[None]:
    """Deleting what is already gone is done: cleanup meets partial states."""
    try:
        yield
    except ClientError as error:
        if _code(error) not in (NOT_FOUND, *codes):
            raise
