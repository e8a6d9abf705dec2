"""The one module that talks to AWS (boto3): Lambda, CloudWatch and CodeDeploy.

Contract: ``LambdaGateway`` turns Lambda's API into the model's types and waits on
Lambda's asynchronous states with botocore's own waiters (``function_active_v2``,
``function_updated_v2``, ``published_version_active``) bounded by ``wait_timeout``.
Throttles, 5xx errors and connection failures are retried by botocore's ``standard``
retry mode; a 409 ``ResourceConflictException`` (an update still in progress) is waited
out and retried a bounded number of times. A mutation whose answer was lost and whose
retry then collides with itself is checked against Lambda: if the change is in place,
it succeeded. Every botocore error leaves this module through ``explain``: a
``DeployError``, a ``ConflictError`` (a failed RevisionId / CodeSha256 guard) or a
``ConnectionLost``, chosen by error code and class; message text is read only for the
CodeSha256 guard, which AWS reports as a plain 400. ``CloudWatchGateway`` reads alarm
states (a missing alarm is an error, not silence) and per-version Lambda metrics;
``CodeDeployGateway`` creates and follows deployments from AppSpec content. Every API
call of every client is counted in one ``CallLog``, waiter polls included.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.credentials import AssumeRoleWithWebIdentityCredentialFetcher, CredentialProvider, DeferredRefreshableCredentials
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
    WaiterError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.utils import parse_timestamp
from botocore.waiter import WaiterModel, create_waiter_with_client

from . import __version__
from .errors import ConflictError, ConnectionLost, DeployError, Problem, ProvisioningFailed
from .limits import botocore_session
from .model import PUBLIC_URL_STATEMENTS, AliasState, FunctionConfig, FunctionState, FunctionUrl, Lifecycle, Production, Provisioned

RETRY_ATTEMPTS = 5
CONFLICT_RETRIES = 5
# Explicit socket timeouts (botocore's defaults, stated so that they are a decision):
# a dropped connection or a silent endpoint ends as ``ConnectionLost``, never a hang.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
NOT_FOUND = "ResourceNotFoundException"
CONFLICT = "ResourceConflictException"
PRECONDITION_FAILED = "PreconditionFailedException"
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


def client_config(read_timeout: float = READ_TIMEOUT) -> Config:
    return Config(
        retries={"mode": "standard", "total_max_attempts": RETRY_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=read_timeout,
        user_agent_extra=f"lambda-deploy/{__version__}",
    )


@dataclass(frozen=True)
class WebIdentity:
    """Assume ``role_arn`` with a web identity token from ``token`` (GitHub's OIDC)."""

    role_arn: str
    session_name: str
    duration: int
    token: Callable[[], str]


TRUST_HINT = (
    "the role's trust policy must allow sts:AssumeRoleWithWebIdentity for the federated principal "
    "token.actions.githubusercontent.com, with this audience and a 'sub' condition that matches this repository and ref"
)


def _assume(session: boto3.session.Session, identity: WebIdentity) -> None:
    """Assume the role now, so a refusal is explained as such and not at the first call."""
    action, where = f"assuming role {identity.role_arn} with GitHub's OIDC token", "input 'role-to-assume'"
    try:
        with translated(action, where):
            session.get_credentials().get_frozen_credentials()
    except ConnectionLost:
        raise
    except DeployError as error:
        if not isinstance(error.__context__, ClientError):
            raise  # the token endpoint's own error says what to check
        raise DeployError(*error.problems, Problem("AWS refused the role", where, TRUST_HINT)) from None


class _WebIdentityProvider(CredentialProvider):  # type: ignore[misc]
    """botocore's own AssumeRoleWithWebIdentity fetcher as the session's first credential
    source. Its credentials refresh themselves before they expire (a new token, a new
    AssumeRoleWithWebIdentity), so a rollout longer than role-duration-seconds goes on."""

    METHOD = "lambda-deploy-web-identity"
    CANONICAL_NAME = "custom-lambda-deploy-web-identity"

    def __init__(self, refresh: Callable[[], dict[str, Any]]) -> None:
        super().__init__()
        self._refresh = refresh

    def load(self) -> DeferredRefreshableCredentials:
        return DeferredRefreshableCredentials(method=self.METHOD, refresh_using=self._refresh)


def make_session(region: str, identity: WebIdentity | None = None, mask: Callable[[str], None] = lambda _: None) -> boto3.session.Session:
    # The region is resolved by Settings and passed explicitly: some botocore
    # releases ignore AWS_REGION. AWS_ENDPOINT_URL is honoured by botocore itself.
    core = botocore_session()
    core.set_config_variable("region", region)
    if identity is not None:
        fetcher = AssumeRoleWithWebIdentityCredentialFetcher(
            client_creator=core.create_client,  # it asks for an unsigned STS client itself
            web_identity_token_loader=identity.token,
            role_arn=identity.role_arn,
            extra_args={"RoleSessionName": identity.session_name, "DurationSeconds": identity.duration},
        )

        def refresh() -> dict[str, Any]:
            credentials: dict[str, Any] = fetcher.fetch_credentials()
            for key in ("access_key", "secret_key", "token"):
                mask(str(credentials.get(key) or ""))
            return credentials

        core.get_component("credential_provider").insert_before("env", _WebIdentityProvider(refresh))
    return boto3.session.Session(botocore_session=core, region_name=region)


class CallLog:
    """Counts API operations as botocore sends them (``before-call`` events)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.*.*", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.counts[model.name] += 1

    def snapshot(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def explain(error: Exception, action: str, where: str) -> DeployError | None:
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
        if code in THROTTLED:
            return DeployError.of(
                f"AWS kept throttling {action} ({code}: {message}) through {RETRY_ATTEMPTS} attempts",
                where,
                "the account's request rate is exhausted; run again in a minute, or deploy fewer functions at once (max-parallel)",
            )
        if status >= 500:
            return DeployError.of(
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


def _server_time(answer: Mapping[str, Any]) -> datetime:
    """When AWS answered (its Date header); this machine's clock if the header is missing."""
    date = (answer.get("ResponseMetadata") or {}).get("HTTPHeaders", {}).get("date", "")
    try:
        return parsedate_to_datetime(date) if date else datetime.now(UTC)
    except (TypeError, ValueError):
        return datetime.now(UTC)


def _newest(versions: list[dict[str, Any]]) -> FunctionConfig | None:
    newest = max(versions, key=lambda version: int(version["Version"]), default=None)
    return FunctionConfig.from_api(newest) if newest else None


@contextmanager
def _gone_is_fine(*codes: str) -> Iterator[None]:
    """Deleting what is already gone is done: cleanup meets partial states."""
    try:
        yield
    except ClientError as error:
        if _code(error) not in (NOT_FOUND, *codes):
            raise


def same_weights(have: Mapping[str, float], want: Mapping[str, float]) -> bool:
    return have.keys() == want.keys() and all(abs(float(have[k]) - float(want[k])) < 1e-9 for k in want)


def configuration_holds(raw: Mapping[str, Any], changes: Mapping[str, Any]) -> bool:
    """Whether a function configuration (as GetFunctionConfiguration answers) already has
    every value that an UpdateFunctionConfiguration with ``changes`` would set."""
    for key, wanted in changes.items():
        have, want = raw.get(key), wanted
        if key == "Layers":
            have = [layer["Arn"] for layer in have or []]
        elif key == "Environment":
            have, want = (have or {}).get("Variables") or {}, wanted.get("Variables") or {}
        elif isinstance(wanted, Mapping):
            have = {k: v for k, v in (have or {}).items() if k in wanted}
        if have != want:
            return False
    return True


@dataclass(frozen=True)
class Wants:
    """What a run needs read beyond the basics; each costs calls, so only when asked."""

    aliases: bool = False  # every alias (pruning)
    url: bool = False  # the alias's function URL and policy (function-url, cleanup)
    stable: bool = False  # the alias's version's configuration (routing by weight)
    provisioned: bool = False  # the alias's provisioned concurrency
    previous: str | None = None  # the blue/green alias


# Lambda ships no waiter for provisioned concurrency; this one runs on botocore's waiter
# machinery like the stock ones (delay and attempts are set per wait from wait-timeout).
PROVISIONED_READY = WaiterModel(
    {
        "version": 2,
        "waiters": {
            "ProvisionedConcurrencyReady": {
                "operation": "GetProvisionedConcurrencyConfig",
                "delay": 1,
                "maxAttempts": 300,
                "acceptors": [
                    {"state": "success", "matcher": "path", "argument": "Status", "expected": "READY"},
                    {"state": "failure", "matcher": "path", "argument": "Status", "expected": "FAILED"},
                ],
            }
        },
    }
)
PROVISIONED_MISSING = "ProvisionedConcurrencyConfigNotFoundException"


class LambdaGateway:
    def __init__(self, client: Any, wait_timeout: float, poll_delay: float = 1.0, log: Callable[[str], None] = lambda _: None) -> None:
        self._lambda = client
        self.calls = CallLog()
        self.calls.attach(client)
        client.meta.events.register("after-call.lambda.GetProvisionedConcurrencyConfig", self._log_provisioned)
        self._wait_timeout = wait_timeout
        self._poll_delay = poll_delay
        self._log = log

    # --- reading ---------------------------------------------------------------

    def read_state(self, function_name: str, alias: str, wants: Wants | None = None) -> FunctionState:
        """$LATEST (with its reserved concurrency), the newest version (every version number
        on the way), the alias; and only what ``wants`` asks for besides."""
        wants = wants or Wants()
        with translated("reading the function", f"function '{function_name}'"):
            try:
                got = self._lambda.get_function(FunctionName=function_name)
            except ClientError as error:
                if _code(error) == NOT_FOUND:
                    return FunctionState(latest=None, published=None, alias=None)
                raise
        versions, ages = self.listing(function_name)
        newest = _newest(versions)
        lifecycle = Lifecycle(
            versions=tuple(v["Version"] for v in versions),
            ages=ages,
            aliases=self.list_aliases(function_name) if wants.aliases else (),
            url=self.function_url(function_name, alias) if wants.url else None,
            statements=self.url_statements(function_name, alias) if wants.url else frozenset(),
        )
        current = self.get_alias(function_name, alias)
        stable = None
        if wants.stable and current is not None:
            stable = newest if newest and newest.version == current.version else self.configuration(function_name, current.version)
        production = Production(
            stable=stable,
            reserved_concurrency=(got.get("Concurrency") or {}).get("ReservedConcurrentExecutions"),
            provisioned=self.provisioned(function_name, alias) if wants.provisioned and current is not None else None,
            previous=self.get_alias(function_name, wants.previous) if wants.previous else None,
        )
        return FunctionState(
            latest=FunctionConfig.from_api(got["Configuration"]),
            published=newest,
            alias=current,
            tags=dict(got.get("Tags") or {}),
            lifecycle=lifecycle,
            production=production,
        )

    def versions(self, function_name: str) -> list[dict[str, Any]]:
        """Every published version (not $LATEST), through every page."""
        return self.listing(function_name)[0]

    def listing(self, function_name: str) -> tuple[list[dict[str, Any]], dict[str, float]]:
        """Every published version, and each one's age in seconds by AWS's own clock (the
        answer's Date header less the version's LastModified), so a runner's skewed clock
        cannot make a fresh version look old."""
        with translated("listing versions", f"function '{function_name}'"):
            pages = list(self._lambda.get_paginator("list_versions_by_function").paginate(FunctionName=function_name))
        versions = [version for page in pages for version in page["Versions"] if version["Version"] != "$LATEST"]
        now = _server_time(pages[-1] if pages else {})
        return versions, {
            str(v["Version"]): (now - parse_timestamp(v["LastModified"])).total_seconds() for v in versions if v.get("LastModified")
        }

    def list_aliases(self, function_name: str) -> tuple[AliasState, ...]:
        with translated("listing aliases", f"function '{function_name}'"):
            pages = self._lambda.get_paginator("list_aliases").paginate(FunctionName=function_name)
            return tuple(AliasState.from_api(alias) for page in pages for alias in page["Aliases"])

    def function_url(self, function_name: str, alias: str) -> FunctionUrl | None:
        with translated("reading the function URL", f"alias '{alias}'"):
            try:
                raw = self._lambda.get_function_url_config(FunctionName=function_name, Qualifier=alias)
            except ClientError as error:
                if _code(error) == NOT_FOUND:
                    return None
                raise
        return FunctionUrl(str(raw["FunctionUrl"]), str(raw["AuthType"]))

    def url_statements(self, function_name: str, alias: str) -> frozenset[str]:
        """Which of our public-URL statements the alias's resource policy holds."""
        with translated("reading the resource policy", f"alias '{alias}'"):
            try:
                raw = self._lambda.get_policy(FunctionName=function_name, Qualifier=alias)
            except ClientError as error:
                if _code(error) == NOT_FOUND:
                    return frozenset()
                raise
        sids = {statement.get("Sid", "") for statement in json.loads(raw["Policy"]).get("Statement", [])}
        return frozenset(sids & set(PUBLIC_URL_STATEMENTS))

    def get_alias(self, function_name: str, alias: str) -> AliasState | None:
        raw = self._raw_alias(function_name, alias)
        return AliasState.from_api(raw) if raw is not None else None

    def _raw_alias(self, function_name: str, alias: str) -> dict[str, Any] | None:
        with translated("reading the alias", f"alias '{alias}'"):
            try:
                return dict(self._lambda.get_alias(FunctionName=function_name, Name=alias))
            except ClientError as error:
                if _code(error) == NOT_FOUND:
                    return None
                raise

    def configuration(self, function_name: str, qualifier: str = "$LATEST") -> FunctionConfig:
        return FunctionConfig.from_api(self._raw_configuration(function_name, qualifier))

    def version_exists(self, function_name: str, version: str) -> bool:
        with translated(f"reading version {version}", f"function '{function_name}'"):
            try:
                self._lambda.get_function_configuration(FunctionName=function_name, Qualifier=version)
            except ClientError as error:
                if _code(error) == NOT_FOUND:
                    return False
                raise
        return True

    # --- waiting ---------------------------------------------------------------

    def _wait(self, waiter_name: str, what: str, waiter: Any = None, **params: Any) -> None:
        attempts = max(1, math.ceil(self._wait_timeout / self._poll_delay))
        config = {"Delay": self._poll_delay, "MaxAttempts": attempts}
        where = f"function '{params.get('FunctionName', '')}'"
        self._log(f"waiting for {what} (up to {self._wait_timeout:g}s)")
        with translated(f"waiting for {what}", where):
            try:
                (waiter or self._lambda.get_waiter(waiter_name)).wait(WaiterConfig=config, **params)
            except WaiterError as error:
                raise self._waiter_failure(error, what, where) from None

    def _waiter_failure(self, error: WaiterError, what: str, where: str) -> DeployError:
        last = error.last_response or {}
        configuration = last.get("Configuration", last)
        reason = configuration.get("LastUpdateStatusReason") or configuration.get("StateReason") or ""
        if configuration.get("Status") == "FAILED":  # provisioned concurrency
            return ProvisioningFailed.of(f"{what} failed: {configuration.get('StatusReason') or 'Lambda gave no reason'}", where)
        if "max attempts" in str(error).lower():
            return DeployError.of(
                f"timed out after {self._wait_timeout:g}s waiting for {what}",
                where,
                "raise wait-timeout, or check the function in the Lambda console",
            )
        return DeployError.of(f"{what} failed" + (f": {reason}" if reason else f": {error}"), where)

    def wait_updated(self, function_name: str) -> None:
        self._wait("function_updated_v2", "the update to finish", FunctionName=function_name)

    # --- mutating --------------------------------------------------------------

    def _apply(
        self,
        action: str,
        where: str,
        call: Callable[[], dict[str, Any]],
        function_name: str = "",
        landed: Callable[[], dict[str, Any] | None] | None = None,
    ) -> dict[str, Any]:
        """Run one mutating call and return Lambda's answer.

        A 409 from an update still in progress on ``function_name`` is waited out and the
        call retried. ``landed`` answers "is the resource already as this call leaves
        it?": botocore retries a call whose answer was lost (a reset connection, a read
        timeout) although Lambda may have applied it, and the retry then fails on the
        RevisionId that the first attempt used up, or finds what it created. When our
        change is in place, that is success, not someone else's conflict.
        """
        try:
            with translated(action, where):
                for attempt in range(1, CONFLICT_RETRIES + 1):
                    try:
                        return call()
                    except ClientError as error:
                        if not function_name or _code(error) != CONFLICT or attempt == CONFLICT_RETRIES:
                            raise
                        self._log(
                            f"{action}: an update is still in progress (409); waiting and retrying ({attempt}/{CONFLICT_RETRIES - 1})"
                        )
                        self.wait_updated(function_name)
                raise AssertionError("unreachable")
        except ConflictError:
            done = landed() if landed is not None else None
            if done is None:
                raise
            self._log(f"{action}: its answer was lost on the way, but Lambda shows the change in place; carrying on")
            return done

    def _raw_configuration(self, function_name: str, qualifier: str = "$LATEST") -> dict[str, Any]:
        with translated("reading the configuration", f"function '{function_name}'"):
            return dict(self._lambda.get_function_configuration(FunctionName=function_name, Qualifier=qualifier))

    def _latest_if(self, function_name: str, holds: Callable[[Mapping[str, Any]], bool]) -> Callable[[], dict[str, Any] | None]:
        def check() -> dict[str, Any] | None:
            raw = self._raw_configuration(function_name)
            return raw if holds(raw) else None

        return check

    def create_function(self, params: Mapping[str, Any], code: Mapping[str, Any], code_sha256: str) -> FunctionConfig:
        name = str(params["FunctionName"])
        raw = self._apply(
            "creating the function",
            f"function '{name}'",
            lambda: self._lambda.create_function(**params, Code=dict(code), Publish=False),
            landed=self._latest_if(name, lambda raw: raw.get("CodeSha256") == code_sha256),
        )
        self._wait("function_active_v2", "the new function to become Active", FunctionName=name)
        return FunctionConfig.from_api(raw)

    def update_code(
        self, function_name: str, code: Mapping[str, Any], code_sha256: str, revision_id: str, architecture: str | None
    ) -> FunctionConfig:
        params: dict[str, Any] = {"FunctionName": function_name, **code}
        if revision_id:
            params["RevisionId"] = revision_id
        if architecture:
            params["Architectures"] = [architecture]

        def holds(raw: Mapping[str, Any]) -> bool:
            return raw.get("CodeSha256") == code_sha256 and (architecture is None or raw.get("Architectures") == [architecture])

        raw = self._apply(
            "uploading the code",
            f"function '{function_name}'",
            lambda: self._lambda.update_function_code(**params),
            function_name,
            self._latest_if(function_name, holds),
        )
        self.wait_updated(function_name)
        return FunctionConfig.from_api(raw)

    def update_configuration(self, function_name: str, changes: Mapping[str, Any], revision_id: str) -> FunctionConfig:
        params: dict[str, Any] = {"FunctionName": function_name, **changes}
        if revision_id:
            params["RevisionId"] = revision_id
        raw = self._apply(
            "updating the configuration",
            f"function '{function_name}'",
            lambda: self._lambda.update_function_configuration(**params),
            function_name,
            self._latest_if(function_name, lambda raw: configuration_holds(raw, changes)),
        )
        self.wait_updated(function_name)
        return FunctionConfig.from_api(raw)

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        with translated("tagging the function", arn):
            self._lambda.tag_resource(Resource=arn, Tags=dict(tags))

    def publish(self, function_name: str, code_sha256: str, revision_id: str, description: str) -> FunctionConfig:
        params: dict[str, Any] = {"FunctionName": function_name, "CodeSha256": code_sha256, "Description": description}
        if revision_id:
            params["RevisionId"] = revision_id

        def already_published() -> dict[str, Any] | None:
            # What Lambda's no-op publish would answer: the newest version, when it is $LATEST.
            latest = self.configuration(function_name)
            newest = _newest(self.versions(function_name))
            same = newest is not None and latest.code_sha256 == code_sha256 and newest.fingerprint == latest.fingerprint
            return self._raw_configuration(function_name, newest.version) if same and newest else None

        raw = self._apply(
            "publishing a version",
            f"function '{function_name}'",
            lambda: self._lambda.publish_version(**params),
            function_name,
            already_published,
        )
        version = FunctionConfig.from_api(raw)
        self._wait(
            "published_version_active", f"version {version.version} to become Active", FunctionName=function_name, Qualifier=version.version
        )
        return version

    def point_alias(
        self,
        function_name: str,
        alias: str,
        version: str,
        revision_id: str | None,
        weights: Mapping[str, float] | None = None,
        description: str | None = None,
    ) -> AliasState:
        params: dict[str, Any] = {
            "FunctionName": function_name,
            "Name": alias,
            "FunctionVersion": version,
            "RoutingConfig": {"AdditionalVersionWeights": dict(weights or {})},
        }
        if description is not None:
            params["Description"] = description
        wanted = dict(weights or {})

        def landed() -> dict[str, Any] | None:
            raw = self._raw_alias(function_name, alias)
            current = AliasState.from_api(raw) if raw is not None else None
            return raw if current is not None and current.version == version and same_weights(current.weights, wanted) else None

        share = f" with {next(iter(wanted.values())):.0%} on version {next(iter(wanted))}" if wanted else ""
        raw = self._apply(
            f"pointing alias '{alias}' at version {version}{share}",
            f"alias '{alias}'",
            lambda: (
                self._lambda.create_alias(**params) if revision_id is None else self._lambda.update_alias(**params, RevisionId=revision_id)
            ),
            landed=landed,
        )
        return AliasState.from_api(raw)

    # --- previews and pruning -------------------------------------------------------

    def ensure_function_url(self, function_name: str, alias: str, auth_type: str, exists: bool) -> FunctionUrl:
        def landed() -> dict[str, Any] | None:
            current = self.function_url(function_name, alias)
            return {"FunctionUrl": current.url, "AuthType": current.auth_type} if current and current.auth_type == auth_type else None

        params = {"FunctionName": function_name, "Qualifier": alias, "AuthType": auth_type}
        raw = self._apply(
            f"{'updating' if exists else 'creating'} the function URL",
            f"alias '{alias}'",
            lambda: self._lambda.update_function_url_config(**params) if exists else self._lambda.create_function_url_config(**params),
            landed=landed,
        )
        return FunctionUrl(str(raw["FunctionUrl"]), str(raw["AuthType"]))

    def grant(self, function_name: str, alias: str, statement_id: str) -> None:
        params = {"FunctionName": function_name, "Qualifier": alias, "StatementId": statement_id, **PUBLIC_URL_STATEMENTS[statement_id]}
        with translated(f"adding the resource-policy statement {statement_id}", f"alias '{alias}'"):
            try:
                self._lambda.add_permission(**params)
            except ClientError as error:
                if _code(error) != CONFLICT:  # the statement is there already: that is the goal
                    raise

    def revoke(self, function_name: str, alias: str, statement_id: str) -> None:
        with translated(f"removing the resource-policy statement {statement_id}", f"alias '{alias}'"), _gone_is_fine():
            self._lambda.remove_permission(FunctionName=function_name, Qualifier=alias, StatementId=statement_id)

    def delete_function_url(self, function_name: str, alias: str) -> None:
        with translated("deleting the function URL", f"alias '{alias}'"), _gone_is_fine():
            self._lambda.delete_function_url_config(FunctionName=function_name, Qualifier=alias)

    def delete_alias(self, function_name: str, alias: str) -> None:
        with translated("deleting the alias", f"alias '{alias}'"), _gone_is_fine():
            self._lambda.delete_alias(FunctionName=function_name, Name=alias)

    def delete_version(self, function_name: str, version: str) -> str:
        """Delete one published version: "" when it is gone, else why Lambda kept it (a 409:
        something still references it). Never forced."""
        with translated(f"deleting version {version}", f"function '{function_name}'"):
            try:
                self._lambda.delete_function(FunctionName=function_name, Qualifier=version)
            except ClientError as error:
                if _code(error) == NOT_FOUND:
                    return "already deleted"
                if _code(error) == CONFLICT:
                    return f"Lambda refused: {_message(error)}"
                raise
        return ""

    # --- concurrency ------------------------------------------------------------------

    def provisioned(self, function_name: str, alias: str) -> Provisioned | None:
        with translated("reading the provisioned concurrency", f"alias '{alias}'"):
            try:
                raw = self._lambda.get_provisioned_concurrency_config(FunctionName=function_name, Qualifier=alias)
            except ClientError as error:
                if _code(error) in (PROVISIONED_MISSING, NOT_FOUND):
                    return None
                raise
        return Provisioned(int(raw["RequestedProvisionedConcurrentExecutions"]), str(raw["Status"]))

    def _log_provisioned(self, parsed: Mapping[str, Any], **_: Any) -> None:
        if "Status" in parsed:
            allocated, requested = (
                parsed.get("AllocatedProvisionedConcurrentExecutions", 0),
                parsed.get("RequestedProvisionedConcurrentExecutions"),
            )
            self._log(f"provisioned concurrency: {parsed['Status']} ({allocated} of {requested} environments ready)")

    def set_provisioned(self, function_name: str, alias: str, wanted: int) -> None:
        """Set (or with 0 remove) the alias's provisioned concurrency; a set waits for READY."""
        if wanted == 0:
            with translated("removing the provisioned concurrency", f"alias '{alias}'"), _gone_is_fine(PROVISIONED_MISSING):
                self._lambda.delete_provisioned_concurrency_config(FunctionName=function_name, Qualifier=alias)
            return
        with translated("setting the provisioned concurrency", f"alias '{alias}'"):
            self._lambda.put_provisioned_concurrency_config(
                FunctionName=function_name, Qualifier=alias, ProvisionedConcurrentExecutions=wanted
            )
        self.wait_warm(function_name, alias)

    def wait_warm(self, function_name: str, alias: str) -> None:
        """Wait until the alias's provisioned environments are READY; FAILED is ``ProvisioningFailed``."""
        waiter = create_waiter_with_client("ProvisionedConcurrencyReady", PROVISIONED_READY, self._lambda)
        what = f"the provisioned concurrency of alias {alias} to be READY"
        self._wait("", what, waiter, FunctionName=function_name, Qualifier=alias)

    def set_reserved(self, function_name: str, wanted: int | None) -> None:
        """The function's reserved concurrency; None removes it."""
        where = f"function '{function_name}'"
        if wanted is None:
            with translated("removing the reserved concurrency", where), _gone_is_fine():
                self._lambda.delete_function_concurrency(FunctionName=function_name)
            return
        with translated("setting the reserved concurrency", where):
            self._lambda.put_function_concurrency(FunctionName=function_name, ReservedConcurrentExecutions=wanted)

    def invoke(self, function_name: str, qualifier: str, payload: str) -> Invocation:
        with translated(f"invoking version {qualifier}", f"function '{function_name}'"):
            raw = self._lambda.invoke(FunctionName=function_name, Qualifier=qualifier, Payload=payload.encode())
        return Invocation(
            function_error=str(raw.get("FunctionError") or ""),
            payload=raw["Payload"].read().decode("utf-8", errors="replace"),
            executed_version=str(raw.get("ExecutedVersion") or qualifier),
        )


@dataclass(frozen=True)
class Invocation:
    function_error: str  # "" when the handler succeeded
    payload: str
    executed_version: str


@dataclass(frozen=True)
class MetricCounts:
    invocations: float
    errors: float

    @property
    def rate(self) -> float:
        return self.errors / self.invocations if self.invocations else 0.0


class CloudWatchGateway:
    """Alarm states and per-version Lambda metrics (namespace AWS/Lambda)."""

    def __init__(self, client: Any) -> None:
        self._cloudwatch = client  # a LazyClient: it joins the call log when it is made

    def alarm_states(self, names: Sequence[str]) -> dict[str, str]:
        """Name -> OK | ALARM | INSUFFICIENT_DATA; a missing name is a DeployError."""
        states: dict[str, str] = {}
        with translated("reading CloudWatch alarms", "input 'alarms'"):
            for page in self._cloudwatch.get_paginator("describe_alarms").paginate(AlarmNames=list(names)):
                for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                    states[alarm["AlarmName"]] = alarm["StateValue"]
        missing = [name for name in names if name not in states]
        if missing:
            raise DeployError.of(
                f"no CloudWatch alarm named {', '.join(repr(m) for m in missing)} in this account and region",
                "input 'alarms'",
                "check the names (they are case-sensitive) and aws-region",
            )
        return states

    def version_counts(self, function_name: str, alias: str, version: str, start: datetime, end: datetime) -> MetricCounts:
        """Invocations and errors of one version behind an alias (ExecutedVersion dimension)."""
        dimensions = [
            {"Name": "FunctionName", "Value": function_name},
            {"Name": "Resource", "Value": f"{function_name}:{alias}"},
            {"Name": "ExecutedVersion", "Value": version},
        ]
        sums: dict[str, float] = {}
        with translated("reading Lambda metrics", f"function '{function_name}'"):
            for metric in ("Invocations", "Errors"):
                answer = self._cloudwatch.get_metric_statistics(
                    Namespace="AWS/Lambda",
                    MetricName=metric,
                    Dimensions=dimensions,
                    StartTime=start,
                    EndTime=end,
                    Period=60,
                    Statistics=["Sum"],
                )
                sums[metric] = sum(point.get("Sum", 0.0) for point in answer.get("Datapoints", []))
        return MetricCounts(invocations=sums["Invocations"], errors=sums["Errors"])


TERMINAL_DEPLOYMENT_STATES = ("Succeeded", "Failed", "Stopped")
# What a deployment created by lambda-deploy rolls back on (CreateDeployment's autoRollbackConfiguration).
ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST")


@dataclass(frozen=True)
class DeploymentStatus:
    status: str  # Created | Queued | InProgress | Baking | Ready | Succeeded | Failed | Stopped
    error: str
    rollback_id: str  # the deployment CodeDeploy started to roll this one back; "" when none
    rollback_message: str

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_DEPLOYMENT_STATES


@dataclass(frozen=True)
class DeploymentGroup:
    compute_platform: str  # Server | Lambda | ECS
    rollback_events: tuple[str, ...]  # the group's own automatic rollback; () when it has none


class CodeDeployGateway:
    """CodeDeploy deployments of a Lambda alias (AppSpec content, no S3 bundle)."""

    def __init__(self, client: Any) -> None:
        self._codedeploy = client  # a LazyClient: it joins the call log when it is made

    def group(self, application: str, group: str) -> DeploymentGroup:
        with translated(
            "reading the CodeDeploy deployment group", f"inputs 'codedeploy-application' / 'codedeploy-group' ({application}/{group})"
        ):
            info = self._codedeploy.get_deployment_group(applicationName=application, deploymentGroupName=group)["deploymentGroupInfo"]
        rollback = info.get("autoRollbackConfiguration") or {}
        return DeploymentGroup(
            compute_platform=str(info.get("computePlatform", "")),
            rollback_events=tuple(rollback.get("events") or ()) if rollback.get("enabled") else (),
        )

    def create_deployment(
        self, application: str, group: str, config_name: str, appspec: str, description: str, alarms: Sequence[str] = ()
    ) -> str:
        """A deployment that rolls back by itself on failure, on an alarm and on a stop; with
        ``alarms``, those replace the group's alarms for this deployment (which needs
        ``codedeploy:UpdateDeploymentGroup``, CodeDeploy's API reference says)."""
        revision = {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": appspec, "sha256": hashlib.sha256(appspec.encode()).hexdigest()},
        }
        extra: dict[str, Any] = {"autoRollbackConfiguration": {"enabled": True, "events": list(ROLLBACK_EVENTS)}}
        if alarms:
            extra["overrideAlarmConfiguration"] = {"enabled": True, "alarms": [{"name": name} for name in alarms]}
        with translated("creating the CodeDeploy deployment", f"deployment group '{group}'"):
            answer = self._codedeploy.create_deployment(
                applicationName=application,
                deploymentGroupName=group,
                deploymentConfigName=config_name,
                revision=revision,
                description=description,
                **extra,
            )
        return str(answer["deploymentId"])

    def deployment(self, deployment_id: str) -> DeploymentStatus:
        with translated("reading the CodeDeploy deployment", f"deployment {deployment_id}"):
            info = self._codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        rollback = info.get("rollbackInfo") or {}
        return DeploymentStatus(
            status=str(info.get("status", "")),
            error=str((info.get("errorInformation") or {}).get("message", "")),
            rollback_id=str(rollback.get("rollbackDeploymentId") or ""),
            rollback_message=str(rollback.get("rollbackMessage", "")),
        )

    def stop(self, deployment_id: str) -> None:
        """StopDeployment with automatic rollback; one that has already ended is left as it is."""
        with translated("stopping the CodeDeploy deployment", f"deployment {deployment_id}"):
            try:
                self._codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
            except ClientError as error:
                if _code(error) != "DeploymentAlreadyCompletedException":
                    raise


# Multipart above 8 MB, parts of 8 MB, four at a time: boto3's managed transfer does the rest.
TRANSFER = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, max_concurrency=4)


class S3Gateway:
    """Where a package too big to hand Lambda directly waits: content-addressed keys in a bucket."""

    def __init__(self, client: Any) -> None:
        self._s3 = client  # a LazyClient: it joins the call log when it is made

    def store(self, bucket: str, key: str, data: bytes) -> bool:
        """Upload ``data`` unless the object is there already (its key holds its hash); True when uploaded."""
        where = f"input 's3-bucket' ({bucket})"
        with translated(f"looking for s3://{bucket}/{key}", where):
            try:
                self._s3.head_object(Bucket=bucket, Key=key)
                return False
            except ClientError as error:
                if _status(error) != 404:
                    raise
        with translated(f"uploading the package to s3://{bucket}/{key}", where):
            try:
                self._s3.upload_fileobj(io.BytesIO(data), bucket, key, Config=TRANSFER)
            except S3UploadFailedError as error:
                cause = error.__context__
                if isinstance(cause, ClientError | BotoCoreError):
                    raise cause from None
                raise DeployError.of(f"uploading the package to s3://{bucket}/{key} failed: {error}", where) from None
        return True


@dataclass(frozen=True)
class Services:
    """Every AWS boundary the pipeline uses, sharing one call log."""

    lambda_: LambdaGateway
    cloudwatch: CloudWatchGateway
    codedeploy: CodeDeployGateway
    s3: S3Gateway

    @property
    def calls(self) -> CallLog:
        return self.lambda_.calls

    @classmethod
    def connect(
        cls,
        region: str,
        wait_timeout: float,
        log: Callable[[str], None] = lambda _: None,
        poll_delay: float = 1.0,
        read_timeout: float = READ_TIMEOUT,
        identity: WebIdentity | None = None,
        mask: Callable[[str], None] = lambda _: None,
    ) -> Services:
        return cls.on(open_session(region, identity, mask, log), wait_timeout, log, poll_delay, read_timeout)

    @classmethod
    def on(
        cls,
        session: boto3.session.Session,
        wait_timeout: float,
        log: Callable[[str], None] = lambda _: None,
        poll_delay: float = 1.0,
        read_timeout: float = READ_TIMEOUT,
        lock: threading.Lock | None = None,
    ) -> Services:
        """Clients of one session (a fleet shares one: one role assumed, one credential refresh).
        Only Lambda's client is made now; the others when first used, so a run pays start-up
        only for what it needs. Sessions are not thread-safe: ``lock`` guards a shared one."""
        config = client_config(read_timeout)
        guard = lock or threading.Lock()
        with guard:
            lambda_ = LambdaGateway(session.client("lambda", config=config), wait_timeout, poll_delay, log)

        def later(name: str) -> Any:
            return LazyClient(lambda: session.client(name, config=config), lambda_.calls, guard)

        return cls(
            lambda_=lambda_,
            cloudwatch=CloudWatchGateway(later("cloudwatch")),
            codedeploy=CodeDeployGateway(later("codedeploy")),
            s3=S3Gateway(later("s3")),
        )


class LazyClient:
    """A client made on first use; it then counts its calls in the shared log like the others."""

    def __init__(self, make: Callable[[], Any], calls: CallLog, lock: threading.Lock) -> None:
        self._make, self._calls, self._lock = make, calls, lock
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    client = self._make()
                    self._calls.attach(client)
                    self._client = client
        return getattr(self._client, name)


def open_session(
    region: str,
    identity: WebIdentity | None = None,
    mask: Callable[[str], None] = lambda _: None,
    log: Callable[[str], None] = lambda _: None,
) -> boto3.session.Session:
    """A session for ``region``; with ``identity``, the role is assumed now, so a refusal is explained here."""
    session = make_session(region, identity, mask)
    if identity is not None:
        _assume(session, identity)
        log(f"assumed role {identity.role_arn} as session {identity.session_name} (credentials masked, refreshed before expiry)")
    return session
