"""Every AWS boundary the pipeline uses, made from one session and sharing one call log."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from .cloudwatch import CloudWatchGateway
from .codedeploy import CodeDeployGateway
from .ecr import EcrGateway
from .errors import READ_TIMEOUT
from .identity import IdentityGateway
from .lambda_lifecycle import LambdaGateway
from .logs import LogsGateway
from .s3 import S3Gateway
from .session import CallLog, Identity, LazyClient, client_config, open_session


@dataclass(frozen=True)
class Services:
    """Every AWS boundary the pipeline uses, sharing one call log."""

    lambda_: LambdaGateway
    cloudwatch: CloudWatchGateway
    codedeploy: CodeDeployGateway
    s3: S3Gateway
    ecr: EcrGateway
    logs: LogsGateway
    identity: IdentityGateway

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
        identity: Identity | None = None,
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
            ecr=EcrGateway(later("ecr")),
            logs=LogsGateway(later("logs")),
            identity=IdentityGateway(later("sts")),
        )


class Connector:
    """The one place AWS sessions and clients are made. A session per region and role, made on
    first use and shared by every function of the run (one role assumed, one credential
    refresh); each function gets its own clients from it, with its own log and call counts.
    Sessions are not thread-safe, hence the lock."""

    def __init__(
        self, log: Callable[[str], None] = lambda _: None, mask: Callable[[str], None] = lambda _: None, poll_delay: float = 1.0
    ) -> None:
        self._log, self._mask, self._poll_delay = log, mask, poll_delay
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str, str], boto3.session.Session] = {}

    def services(
        self, region: str, wait_timeout: float, identity: Identity | None = None, log: Callable[[str], None] | None = None
    ) -> Services:
        key = (region, identity.role_arn if identity else "")
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = open_session(region, identity, self._mask, self._log)
                self._sessions[key] = session
        return Services.on(session, wait_timeout, log or self._log, self._poll_delay, lock=self._lock)
