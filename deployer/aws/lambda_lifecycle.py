"""Previews, pruning, concurrency and invocations: function URLs and their permissions,
deletes that treat "already gone" as done, provisioned concurrency waited for with a
botocore waiter of our own, reserved concurrency, and Invoke. ``LambdaGateway`` is the
whole Lambda boundary: reads, writes and these, one concern per module."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import (
    ClientError,
)
from botocore.waiter import WaiterModel, create_waiter_with_client

from ..model import PUBLIC_URL_STATEMENTS, FunctionUrl
from .errors import CONFLICT, NOT_FOUND, PROVISIONED_MISSING, error_code, error_message, gone_is_fine, translated
from .lambda_reads import function_url_of
from .lambda_writes import LambdaWrites

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


class LambdaGateway(LambdaWrites):
    def __init__(self, client: Any, wait_timeout: float, poll_delay: float = 1.0, log: Callable[[str], None] = lambda _: None) -> None:
        super().__init__(client, wait_timeout, poll_delay, log)
        client.meta.events.register("after-call.lambda.GetProvisionedConcurrencyConfig", self._log_provisioned)

    # --- previews and pruning -------------------------------------------------------

    def ensure_function_url(
        self,
        function_name: str,
        alias: str,
        auth_type: str,
        exists: bool,
        cors: Mapping[str, Any] | None = None,
        invoke_mode: str | None = None,
    ) -> FunctionUrl:
        """Create the alias's URL, or update it; ``cors`` and ``invoke_mode`` only when given."""
        wanted: dict[str, Any] = {"AuthType": auth_type}
        if cors is not None:
            wanted["Cors"] = dict(cors)
        if invoke_mode is not None:
            wanted["InvokeMode"] = invoke_mode

        def landed() -> dict[str, Any] | None:
            current = self.function_url(function_name, alias)
            have = {"AuthType": current.auth_type, "Cors": dict(current.cors), "InvokeMode": current.invoke_mode} if current else {}
            matches = current is not None and all(have.get(key) == value for key, value in wanted.items())
            return {"FunctionUrl": current.url, **have} if current is not None and matches else None

        params = {"FunctionName": function_name, "Qualifier": alias, **wanted}
        raw = self._apply(
            f"{'updating' if exists else 'creating'} the function URL",
            f"alias '{alias}'",
            lambda: self._lambda.update_function_url_config(**params) if exists else self._lambda.create_function_url_config(**params),
            landed=landed,
        )
        return function_url_of(raw)

    def set_code_signing(self, function_name: str, arn: str) -> None:
        """Attach the code-signing configuration ``arn``; "" detaches it."""
        where = f"function '{function_name}'"
        if not arn:
            with translated("detaching the code-signing configuration", where), gone_is_fine():
                self._lambda.delete_function_code_signing_config(FunctionName=function_name)
            return
        with translated("attaching the code-signing configuration", f"input 'code-signing-config-arn' ({arn})"):
            self._lambda.put_function_code_signing_config(FunctionName=function_name, CodeSigningConfigArn=arn)

    def grant(self, function_name: str, alias: str, statement_id: str) -> None:
        params = {"FunctionName": function_name, "Qualifier": alias, "StatementId": statement_id, **PUBLIC_URL_STATEMENTS[statement_id]}
        with translated(f"adding the resource-policy statement {statement_id}", f"alias '{alias}'"):
            try:
                self._lambda.add_permission(**params)
            except ClientError as error:
                if error_code(error) != CONFLICT:  # the statement is there already: that is the goal
                    raise

    def revoke(self, function_name: str, alias: str, statement_id: str) -> None:
        with translated(f"removing the resource-policy statement {statement_id}", f"alias '{alias}'"), gone_is_fine():
            self._lambda.remove_permission(FunctionName=function_name, Qualifier=alias, StatementId=statement_id)

    def delete_function_url(self, function_name: str, alias: str) -> None:
        with translated("deleting the function URL", f"alias '{alias}'"), gone_is_fine():
            self._lambda.delete_function_url_config(FunctionName=function_name, Qualifier=alias)

    def delete_alias(self, function_name: str, alias: str) -> None:
        with translated("deleting the alias", f"alias '{alias}'"), gone_is_fine():
            self._lambda.delete_alias(FunctionName=function_name, Name=alias)

    def delete_version(self, function_name: str, version: str) -> str:
        """Delete one published version: "" when it is gone, else why Lambda kept it (a 409:
        something still references it). Never forced."""
        with translated(f"deleting version {version}", f"function '{function_name}'"):
            try:
                self._lambda.delete_function(FunctionName=function_name, Qualifier=version)
            except ClientError as error:
                if error_code(error) == NOT_FOUND:
                    return "already deleted"
                if error_code(error) == CONFLICT:
                    return f"Lambda refused: {error_message(error)}"
                raise
        return ""

    # --- concurrency ------------------------------------------------------------------

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
            with translated("removing the provisioned concurrency", f"alias '{alias}'"), gone_is_fine(PROVISIONED_MISSING):
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
            with translated("removing the reserved concurrency", where), gone_is_fine():
                self._lambda.delete_function_concurrency(FunctionName=function_name)
            return
        with translated("setting the reserved concurrency", where):
            self._lambda.put_function_concurrency(FunctionName=function_name, ReservedConcurrentExecutions=wanted)

    def invoke(self, function_name: str, qualifier: str, payload: str, tail: bool = False) -> Invocation:
        """Invoke ``qualifier`` synchronously; with ``tail``, Lambda's last 4 KB of the run's log too."""
        what = f"invoking {'version ' if qualifier.isdigit() else ''}{qualifier}"
        with translated(what, f"function '{function_name}'"):
            raw = self._lambda.invoke(
                FunctionName=function_name, Qualifier=qualifier, Payload=payload.encode(), **({"LogType": "Tail"} if tail else {})
            )
        log = raw.get("LogResult") or ""
        return Invocation(
            function_error=str(raw.get("FunctionError") or ""),
            payload=raw["Payload"].read().decode("utf-8", errors="replace"),
            executed_version=str(raw.get("ExecutedVersion") or qualifier),
            status_code=int(raw.get("StatusCode") or 0),
            log_tail=base64.b64decode(log).decode("utf-8", errors="replace") if log else "",
        )


@dataclass(frozen=True)
class Invocation:
    function_error: str  # "" when the handler succeeded
    payload: str
    executed_version: str
    status_code: int = 200
    log_tail: str = ""  # decoded LogResult (LogType Tail)
