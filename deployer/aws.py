"""The one module that talks to AWS (boto3): Lambda, CloudWatch and CodeDeploy.

Contract: ``LambdaGateway`` turns Lambda's API into the model's types and waits on
Lambda's asynchronous states with botocore's own waiters (``function_active_v2``,
``function_updated_v2``, ``published_version_active``) bounded by ``wait_timeout``.
Throttles and 5xx errors are retried by botocore's ``standard`` retry mode; a 409
``ResourceConflictException`` (an update still in progress) is waited out and retried
a bounded number of times. Every ``ClientError`` leaves this module as a
``DeployError`` (or ``ConflictError`` for a failed RevisionId / CodeSha256 guard),
chosen by error code, never by message text. ``CloudWatchGateway`` reads alarm
states (a missing alarm is an error, not silence) and per-version Lambda metrics;
``CodeDeployGateway`` creates and follows deployments from AppSpec content. Every API
call of every client is counted in one ``CallLog``, waiter polls included.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, WaiterError

from . import __version__
from .errors import ConflictError, DeployError
from .model import AliasState, FunctionConfig, FunctionState

RETRY_ATTEMPTS = 5
CONFLICT_RETRIES = 5
NOT_FOUND = "ResourceNotFoundException"
CONFLICT = "ResourceConflictException"
# A failed RevisionId guard is 412; a CodeSha256 that no longer matches $LATEST is
# reported as an invalid parameter by some Lambda endpoints. Both mean "moved under us".
PRECONDITION_FAILED = ("PreconditionFailedException",)


def client_config() -> Config:
    return Config(
        retries={"mode": "standard", "total_max_attempts": RETRY_ATTEMPTS},
        user_agent_extra=f"lambda-deploy/{__version__}",
    )


def make_session(region: str) -> boto3.session.Session:
    # The region is resolved by Settings and passed explicitly: some botocore
    # releases ignore AWS_REGION. AWS_ENDPOINT_URL is honoured by botocore itself.
    return boto3.session.Session(region_name=region)


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


@contextmanager
def translated(action: str, where: str) -> Iterator[None]:
    """Turn botocore's exceptions into user-facing errors that say what we were doing."""
    try:
        yield
    except ClientError as error:
        code = _code(error)
        if code in PRECONDITION_FAILED:
            raise ConflictError.of(f"{action} failed: someone else changed it meanwhile ({code})", where) from None
        if code in ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "ExpiredTokenException"):
            hint = "grant the deploy role this permission" if "Access" in code else "check the AWS credentials"
            raise DeployError.of(f"{action} was refused: {code}: {_message(error)}", where, hint) from None
        raise DeployError.of(f"{action} failed: {code}: {_message(error)}", where) from None
    except NoCredentialsError:
        raise DeployError.of(
            f"{action}: no AWS credentials found",
            "environment",
            "add aws-actions/configure-aws-credentials before this step",
        ) from None
    except BotoCoreError as error:
        raise DeployError.of(f"{action} failed: {error}", where) from None


class LambdaGateway:
    def __init__(self, client: Any, wait_timeout: float, poll_delay: float = 1.0, log: Callable[[str], None] = lambda _: None) -> None:
        self._lambda = client
        self.calls = CallLog()
        self.calls.attach(client)
        self._wait_timeout = wait_timeout
        self._poll_delay = poll_delay
        self._log = log

    # --- reading ---------------------------------------------------------------

    def read_state(self, function_name: str, alias: str) -> FunctionState:
        with translated("reading the function", f"function '{function_name}'"):
            try:
                got = self._lambda.get_function(FunctionName=function_name)
            except ClientError as error:
                if _code(error) == NOT_FOUND:
                    return FunctionState(latest=None, published=None, alias=None)
                raise
        return FunctionState(
            latest=FunctionConfig.from_api(got["Configuration"]),
            published=self._newest_version(function_name),
            alias=self.get_alias(function_name, alias),
            tags=dict(got.get("Tags") or {}),
        )

    def _newest_version(self, function_name: str) -> FunctionConfig | None:
        newest: dict[str, Any] | None = None
        with translated("listing versions", f"function '{function_name}'"):
            for page in self._lambda.get_paginator("list_versions_by_function").paginate(FunctionName=function_name):
                for version in page["Versions"]:
                    if version["Version"] != "$LATEST" and (newest is None or int(version["Version"]) > int(newest["Version"])):
                        newest = version
        return FunctionConfig.from_api(newest) if newest else None

    def get_alias(self, function_name: str, alias: str) -> AliasState | None:
        with translated("reading the alias", f"alias '{alias}'"):
            try:
                raw = self._lambda.get_alias(FunctionName=function_name, Name=alias)
            except ClientError as error:
                if _code(error) == NOT_FOUND:
                    return None
                raise
        return AliasState.from_api(raw)

    def configuration(self, function_name: str, qualifier: str = "$LATEST") -> FunctionConfig:
        with translated("reading the configuration", f"function '{function_name}'"):
            raw = self._lambda.get_function_configuration(FunctionName=function_name, Qualifier=qualifier)
        return FunctionConfig.from_api(raw)

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

    def _wait(self, waiter_name: str, what: str, **params: Any) -> None:
        attempts = max(1, math.ceil(self._wait_timeout / self._poll_delay))
        config = {"Delay": self._poll_delay, "MaxAttempts": attempts}
        self._log(f"waiting for {what} (up to {self._wait_timeout:g}s)")
        try:
            self._lambda.get_waiter(waiter_name).wait(WaiterConfig=config, **params)
        except WaiterError as error:
            last = error.last_response or {}
            configuration = last.get("Configuration", last)
            reason = configuration.get("LastUpdateStatusReason") or configuration.get("StateReason") or ""
            if "max attempts" in str(error).lower():
                raise DeployError.of(
                    f"timed out after {self._wait_timeout:g}s waiting for {what}",
                    f"function '{params.get('FunctionName', '')}'",
                    "raise wait-timeout, or check the function in the Lambda console",
                ) from None
            raise DeployError.of(
                f"{what} failed" + (f": {reason}" if reason else f": {error}"), f"function '{params.get('FunctionName', '')}'"
            ) from None

    def wait_updated(self, function_name: str) -> None:
        self._wait("function_updated_v2", "the update to finish", FunctionName=function_name)

    # --- mutating --------------------------------------------------------------

    def _mutate(self, action: str, where: str, call: Callable[[], dict[str, Any]], function_name: str) -> dict[str, Any]:
        """Run a mutating call, waiting out 409s from an update still in progress."""
        for attempt in range(1, CONFLICT_RETRIES + 1):
            try:
                return call()
            except ClientError as error:
                if _code(error) != CONFLICT or attempt == CONFLICT_RETRIES:
                    with translated(action, where):
                        raise
                self._log(f"{action}: an update is still in progress (409); waiting and retrying ({attempt}/{CONFLICT_RETRIES - 1})")
                self.wait_updated(function_name)
        raise AssertionError("unreachable")

    def create_function(self, params: Mapping[str, Any], zip_bytes: bytes) -> FunctionConfig:
        name = str(params["FunctionName"])
        with translated("creating the function", f"function '{name}'"):
            raw = self._lambda.create_function(**params, Code={"ZipFile": zip_bytes}, Publish=False)
        self._wait("function_active_v2", "the new function to become Active", FunctionName=name)
        return FunctionConfig.from_api(raw)

    def update_code(self, function_name: str, zip_bytes: bytes, revision_id: str, architecture: str | None) -> FunctionConfig:
        params: dict[str, Any] = {"FunctionName": function_name, "ZipFile": zip_bytes}
        if revision_id:
            params["RevisionId"] = revision_id
        if architecture:
            params["Architectures"] = [architecture]
        raw = self._mutate(
            "uploading the code", f"function '{function_name}'", lambda: self._lambda.update_function_code(**params), function_name
        )
        self.wait_updated(function_name)
        return FunctionConfig.from_api(raw)

    def update_configuration(self, function_name: str, changes: Mapping[str, Any], revision_id: str) -> FunctionConfig:
        params: dict[str, Any] = {"FunctionName": function_name, **changes}
        if revision_id:
            params["RevisionId"] = revision_id
        raw = self._mutate(
            "updating the configuration",
            f"function '{function_name}'",
            lambda: self._lambda.update_function_configuration(**params),
            function_name,
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
        raw = self._mutate(
            "publishing a version", f"function '{function_name}'", lambda: self._lambda.publish_version(**params), function_name
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
        share = f" with {next(iter(weights.values())):.0%} on version {next(iter(weights))}" if weights else ""
        with translated(f"pointing alias '{alias}' at version {version}{share}", f"alias '{alias}'"):
            if revision_id is None:
                raw = self._lambda.create_alias(**params)
            else:
                raw = self._lambda.update_alias(**params, RevisionId=revision_id)
        return AliasState.from_api(raw)

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

    def __init__(self, client: Any, calls: CallLog) -> None:
        self._cloudwatch = client
        calls.attach(client)

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


@dataclass(frozen=True)
class DeploymentStatus:
    status: str  # Created | Queued | InProgress | Baking | Ready | Succeeded | Failed | Stopped
    error: str
    rolled_back: bool
    rollback_message: str

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_DEPLOYMENT_STATES


class CodeDeployGateway:
    """CodeDeploy deployments of a Lambda alias (AppSpec content, no S3 bundle)."""

    def __init__(self, client: Any, calls: CallLog) -> None:
        self._codedeploy = client
        calls.attach(client)

    def check_group(self, application: str, group: str) -> None:
        with translated(
            "reading the CodeDeploy deployment group", f"inputs 'codedeploy-application' / 'codedeploy-group' ({application}/{group})"
        ):
            self._codedeploy.get_deployment_group(applicationName=application, deploymentGroupName=group)

    def create_deployment(self, application: str, group: str, config_name: str, appspec: str, description: str) -> str:
        revision = {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": appspec, "sha256": hashlib.sha256(appspec.encode()).hexdigest()},
        }
        with translated("creating the CodeDeploy deployment", f"deployment group '{group}'"):
            answer = self._codedeploy.create_deployment(
                applicationName=application,
                deploymentGroupName=group,
                deploymentConfigName=config_name,
                revision=revision,
                description=description,
            )
        return str(answer["deploymentId"])

    def deployment(self, deployment_id: str) -> DeploymentStatus:
        with translated("reading the CodeDeploy deployment", f"deployment {deployment_id}"):
            info = self._codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        rollback = info.get("rollbackInfo") or {}
        return DeploymentStatus(
            status=str(info.get("status", "")),
            error=str((info.get("errorInformation") or {}).get("message", "")),
            rolled_back=bool(rollback.get("rollbackDeploymentId")),
            rollback_message=str(rollback.get("rollbackMessage", "")),
        )

    def stop(self, deployment_id: str) -> None:
        with translated("stopping the CodeDeploy deployment", f"deployment {deployment_id}"):
            self._codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)


@dataclass(frozen=True)
class Services:
    """Every AWS boundary the pipeline uses, sharing one call log."""

    lambda_: LambdaGateway
    cloudwatch: CloudWatchGateway
    codedeploy: CodeDeployGateway

    @property
    def calls(self) -> CallLog:
        return self.lambda_.calls

    @classmethod
    def connect(cls, region: str, wait_timeout: float, log: Callable[[str], None] = lambda _: None, poll_delay: float = 1.0) -> Services:
        session = make_session(region)
        lambda_ = LambdaGateway(session.client("lambda", config=client_config()), wait_timeout, poll_delay, log)
        return cls(
            lambda_=lambda_,
            cloudwatch=CloudWatchGateway(session.client("cloudwatch", config=client_config()), lambda_.calls),
            codedeploy=CodeDeployGateway(session.client("codedeploy", config=client_config()), lambda_.calls),
        )
