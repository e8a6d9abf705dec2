"""Sessions and clients: region passed explicitly, keyless ``role-to-assume`` through
botocore's own web-identity fetcher (refreshing, masked), one ``CallLog`` counting every API
call, and clients made on first use (``LazyClient``)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    AssumeRoleWithWebIdentityCredentialFetcher,
    CredentialProvider,
    DeferredRefreshableCredentials,
)

from .. import __version__
from ..errors import Problem, RefusedError
from ..limits import botocore_session
from .errors import CONNECT_TIMEOUT, READ_TIMEOUT, RETRY_ATTEMPTS, translated


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


@dataclass(frozen=True)
class ChainedRole:
    """Assume ``role_arn`` from the credentials the session would otherwise use (no OIDC token):
    another account's deploy role, reached from the run's own."""

    role_arn: str
    session_name: str
    duration: int


Identity = WebIdentity | ChainedRole

TRUST_HINT = (
    "the role's trust policy must allow sts:AssumeRoleWithWebIdentity for the federated principal "
    "token.actions.githubusercontent.com, with this audience and a 'sub' condition that matches this repository and ref"
)


def _assume(session: boto3.session.Session, identity: Identity) -> None:
    """Assume the role now, so a refusal is explained as such and not at the first call."""
    how = "with GitHub's OIDC token" if isinstance(identity, WebIdentity) else "from the run's own credentials"
    action, where = f"assuming role {identity.role_arn} {how}", "input 'role-to-assume'"
    try:
        with translated(action, where):
            session.get_credentials().get_frozen_credentials()
    except RefusedError as error:  # STS said no; the token endpoint's own errors say what to check themselves
        raise RefusedError(*error.problems, Problem("AWS refused the role", where, TRUST_HINT)) from None


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


def make_session(region: str, identity: Identity | None = None, mask: Callable[[str], None] = lambda _: None) -> boto3.session.Session:
    # The region is resolved by Settings and passed explicitly: some botocore
    # releases ignore AWS_REGION. AWS_ENDPOINT_URL is honoured by botocore itself.
    core = botocore_session()
    core.set_config_variable("region", region)
    if identity is not None:
        fetcher = _fetcher(core, region, identity)

        def refresh() -> dict[str, Any]:
            credentials: dict[str, Any] = fetcher.fetch_credentials()
            for key in ("access_key", "secret_key", "token"):
                mask(str(credentials.get(key) or ""))
            return credentials

        core.get_component("credential_provider").insert_before("env", _WebIdentityProvider(refresh))
    return boto3.session.Session(botocore_session=core, region_name=region)


def _fetcher(core: Any, region: str, identity: Identity) -> Any:
    """botocore's own fetcher for ``identity``: it refreshes the role's credentials before they expire."""
    extra = {"RoleSessionName": identity.session_name, "DurationSeconds": identity.duration}
    if isinstance(identity, WebIdentity):
        return AssumeRoleWithWebIdentityCredentialFetcher(
            client_creator=core.create_client,  # it asks for an unsigned STS client itself
            web_identity_token_loader=identity.token,
            role_arn=identity.role_arn,
            extra_args=extra,
        )
    source = botocore_session()  # the credentials the run has without the role: the chain's first link
    source.set_config_variable("region", region)
    return AssumeRoleCredentialFetcher(
        client_creator=source.create_client, source_credentials=source.get_credentials(), role_arn=identity.role_arn, extra_args=extra
    )


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
    identity: Identity | None = None,
    mask: Callable[[str], None] = lambda _: None,
    log: Callable[[str], None] = lambda _: None,
) -> boto3.session.Session:
    """A session for ``region``; with ``identity``, the role is assumed now, so a refusal is explained here."""
    session = make_session(region, identity, mask)
    if identity is not None:
        _assume(session, identity)
        log(f"assumed role {identity.role_arn} as session {identity.session_name} (credentials masked, refreshed before expiry)")
    return session
