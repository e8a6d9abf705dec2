"""The one package that talks to AWS (boto3): Lambda, CloudWatch, CodeDeploy and S3.

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

The package keeps one concern per module: ``errors`` (explain, translated), ``session``
(sessions, credentials, the call log), ``lambda_reads`` / ``lambda_writes`` /
``lambda_lifecycle`` (the Lambda gateway by concern), ``cloudwatch``, ``codedeploy``, ``s3``
and ``services`` (all of them from one session). Everything the rest of lambda-deploy uses
is importable from here.
"""

from __future__ import annotations

from .cloudwatch import CloudWatchGateway, MetricCounts
from .codedeploy import ROLLBACK_EVENTS, ActiveDeployment, CodeDeployGateway, DeploymentGroup, DeploymentStatus
from .ecr import EcrGateway
from .errors import CONFLICT_RETRIES, CONNECT_TIMEOUT, READ_TIMEOUT, RETRY_ATTEMPTS, explain, remember_secrets, translated
from .lambda_lifecycle import PROVISIONED_READY, Invocation, LambdaGateway
from .lambda_reads import Wants
from .lambda_writes import configuration_holds, same_weights
from .logs import INIT_QUERY, LogEvent, LogsGateway, init_durations
from .s3 import TRANSFER, S3Gateway
from .services import Connector, Services
from .session import CallLog, ChainedRole, Identity, LazyClient, WebIdentity, client_config, make_session, open_session

__all__ = [
    "CONFLICT_RETRIES",
    "CONNECT_TIMEOUT",
    "INIT_QUERY",
    "PROVISIONED_READY",
    "READ_TIMEOUT",
    "RETRY_ATTEMPTS",
    "ROLLBACK_EVENTS",
    "TRANSFER",
    "ActiveDeployment",
    "CallLog",
    "ChainedRole",
    "CloudWatchGateway",
    "CodeDeployGateway",
    "Connector",
    "DeploymentGroup",
    "DeploymentStatus",
    "EcrGateway",
    "Identity",
    "Invocation",
    "LambdaGateway",
    "LazyClient",
    "LogEvent",
    "LogsGateway",
    "MetricCounts",
    "S3Gateway",
    "Services",
    "Wants",
    "WebIdentity",
    "client_config",
    "configuration_holds",
    "explain",
    "init_durations",
    "make_session",
    "open_session",
    "remember_secrets",
    "same_weights",
    "translated",
]
