"""Lambda resources the sandbox keeps itself, because moto lacks them or keys them wrongly.

moto keeps one function URL per function and ignores ``Qualifier``, and keeps one
resource policy per function object. Lambda keys both by qualifier (an alias or a
version), and every preview alias has its own. These handlers answer the API as the
AWS API reference documents it; ``LambdaFidelity`` routes the operations here.

U1 Function URLs (Create/Get/Update/DeleteFunctionUrlConfig) are per qualifier. Creating
   one needs an existing alias as the qualifier (404 otherwise), a second one is 409
   ``ResourceConflictException``, reading or deleting a missing one is 404
   ``ResourceNotFoundException``. Deleting an alias leaves its URL config here, so a
   cleanup meets that partial state. (API reference, CreateFunctionUrlConfig "Errors".)
P1 Resource policies (AddPermission / GetPolicy / RemovePermission) are per qualifier:
   a statement id that exists is 409, removing a missing one is 404, and GetPolicy of a
   qualifier without statements is 404. (API reference, AddPermission / RemovePermission.)
C1 Provisioned concurrency (Put/Get/DeleteProvisionedConcurrencyConfig, which moto lacks)
   applies to an alias or a published version, never $LATEST (400). After a Put, and
   after the alias's routing changes (Lambda re-splits the environments by weight), its
   ``Status`` is ``IN_PROGRESS`` for a few reads, then ``READY``; a missing config is 404
   ``ProvisionedConcurrencyConfigNotFoundException``. The test control ``fail`` makes the
   next read report ``FAILED`` with that ``StatusReason``, as an allocation that cannot be
   met does. (API reference, PutProvisionedConcurrencyConfig / GetProvisionedConcurrencyConfig;
   Developer Guide, "Configuring provisioned concurrency".)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROVISIONED_OPERATIONS = ("PutProvisionedConcurrencyConfig", "GetProvisionedConcurrencyConfig", "DeleteProvisionedConcurrencyConfig")
URL_OPERATIONS = ("CreateFunctionUrlConfig", "GetFunctionUrlConfig", "UpdateFunctionUrlConfig", "DeleteFunctionUrlConfig")
POLICY_OPERATIONS = ("AddPermission", "GetPolicy", "RemovePermission")
NOT_FOUND = "ResourceNotFoundException"
CONFLICT = "ResourceConflictException"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Mapping[str, Any]


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def missing(what: str) -> Refusal:
    return Refusal(404, NOT_FOUND, f"The resource you requested does not exist. ({what})")


@dataclass
class OwnedResources:
    """One function's URLs and resource policies, keyed by qualifier."""

    urls: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    provisioned: dict[str, dict[str, Any]] = field(default_factory=dict)
    reads: int = 2  # reads a provisioned-concurrency config stays IN_PROGRESS
    fail: str = ""  # test control: the next read of a config reports FAILED with this reason

    def handle(
        self, operation: str, qualifier: str, request: Mapping[str, Any], arn: str, aliases: Mapping[str, str], extra: str = ""
    ) -> Answer:
        """``arn`` is the function's unqualified ARN, ``aliases`` its live aliases, ``extra``
        the statement id of RemovePermission."""
        qualifier = qualifier or "$LATEST"
        if operation in PROVISIONED_OPERATIONS:
            return self._provisioned_concurrency(operation, qualifier, request, aliases)
        if operation in URL_OPERATIONS:
            return self._url(operation, qualifier, request, arn, aliases)
        return self._policy(operation, qualifier, request, arn, extra)

    def _url(self, operation: str, qualifier: str, request: Mapping[str, Any], arn: str, aliases: Mapping[str, str]) -> Answer:
        current = self.urls.get(qualifier)
        if operation == "CreateFunctionUrlConfig":
            if qualifier != "$LATEST" and qualifier not in aliases:
                raise missing(f"alias {qualifier}")
            if current is not None:
                raise Refusal(
                    409,
                    CONFLICT,
                    f"Failed to create function url config for [functionArn = {arn}:{qualifier}]. "
                    "Error message: FunctionUrlConfig exists for this Lambda function",
                )
            now = "2026-01-01T00:00:00.000+0000"
            self.urls[qualifier] = {
                "FunctionUrl": f"https://{uuid.uuid4().hex}.lambda-url.us-east-1.on.aws/",
                "FunctionArn": f"{arn}:{qualifier}" if qualifier != "$LATEST" else arn,
                "AuthType": request.get("AuthType", "AWS_IAM"),
                "InvokeMode": request.get("InvokeMode", "BUFFERED"),
                **({"Cors": request["Cors"]} if request.get("Cors") else {}),
                "CreationTime": now,
                "LastModifiedTime": now,
            }
            return Answer(201, self.urls[qualifier])
        if current is None:
            raise missing(f"function url config for {qualifier}")
        if operation == "GetFunctionUrlConfig":
            return Answer(200, current)
        if operation == "UpdateFunctionUrlConfig":
            current.update({key: request[key] for key in ("AuthType", "Cors", "InvokeMode") if key in request})
            if not current.get("Cors"):  # an empty Cors removes it
                current.pop("Cors", None)
            return Answer(200, current)
        del self.urls[qualifier]
        return Answer(204, {})

    def _policy(self, operation: str, qualifier: str, request: Mapping[str, Any], arn: str, sid: str) -> Answer:
        statements = self.policies.setdefault(qualifier, {})
        resource = f"{arn}:{qualifier}" if qualifier != "$LATEST" else arn
        if operation == "AddPermission":
            sid = str(request.get("StatementId", ""))
            if sid in statements:
                raise Refusal(
                    409,
                    CONFLICT,
                    f"The statement id ({sid}) provided already exists. "
                    "Please provide a new statement id, or remove the existing statement.",
                )
            statements[sid] = _statement(sid, request, resource)
            return Answer(201, {"Statement": json.dumps(statements[sid])})
        if operation == "GetPolicy":
            if not statements:
                raise missing(f"policy of {qualifier}")
            policy = {"Version": "2012-10-17", "Id": "default", "Statement": list(statements.values())}
            return Answer(200, {"Policy": json.dumps(policy), "RevisionId": str(uuid.uuid4())})
        if sid not in statements:
            raise Refusal(404, NOT_FOUND, f"Statement {sid} is not found in resource policy.")
        del statements[sid]
        return Answer(204, {})

    def reallocate(self, qualifier: str) -> None:
        """The alias's routing changed: Lambda re-splits its environments between the versions."""
        config = self.provisioned.get(qualifier)
        if config is not None and config["Status"] != "FAILED":
            config.update(Status="IN_PROGRESS", reads_left=self.reads)

    def _provisioned_concurrency(self, operation: str, qualifier: str, request: Mapping[str, Any], aliases: Mapping[str, str]) -> Answer:
        if qualifier == "$LATEST":
            message = "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
            raise Refusal(400, "InvalidParameterValueException", message)
        if operation == "PutProvisionedConcurrencyConfig":
            if not qualifier.isdigit() and qualifier not in aliases:
                raise missing(f"alias {qualifier}")
            requested = int(request["ProvisionedConcurrentExecutions"])
            self.provisioned[qualifier] = {"Requested": requested, "Status": "IN_PROGRESS", "StatusReason": "", "reads_left": self.reads}
            return Answer(202, _provisioned_view(self.provisioned[qualifier]))
        config = self.provisioned.get(qualifier)
        if config is None:
            raise Refusal(404, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function")
        if operation == "DeleteProvisionedConcurrencyConfig":
            del self.provisioned[qualifier]
            return Answer(204, {})
        if self.fail:
            config.update(Status="FAILED", StatusReason=self.fail)
            self.fail = ""
        elif config["Status"] == "IN_PROGRESS":
            config["reads_left"] -= 1
            if config["reads_left"] < 0:
                config["Status"] = "READY"
        return Answer(200, _provisioned_view(config))


def _provisioned_view(config: Mapping[str, Any]) -> dict[str, Any]:
    requested = int(config["Requested"])
    allocated = requested if config["Status"] == "READY" else requested // 2
    view = {
        "RequestedProvisionedConcurrentExecutions": requested,
        "AvailableProvisionedConcurrentExecutions": allocated,
        "AllocatedProvisionedConcurrentExecutions": allocated,
        "Status": config["Status"],
        "LastModified": "2026-01-01T00:00:00+0000",
    }
    if config["StatusReason"]:
        view["StatusReason"] = config["StatusReason"]
    return view


def _statement(sid: str, request: Mapping[str, Any], resource: str) -> dict[str, Any]:
    principal = str(request.get("Principal", ""))
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*" if principal == "*" else {"Service" if principal.endswith(".amazonaws.com") else "AWS": principal},
        "Action": request.get("Action"),
        "Resource": resource,
    }
    conditions: dict[str, Any] = {}
    if request.get("FunctionUrlAuthType"):
        conditions["StringEquals"] = {"lambda:FunctionUrlAuthType": request["FunctionUrlAuthType"]}
    if request.get("InvokedViaFunctionUrl"):
        conditions["Bool"] = {"lambda:InvokedViaFunctionUrl": "true"}
    if conditions:
        statement["Condition"] = conditions
    return statement
