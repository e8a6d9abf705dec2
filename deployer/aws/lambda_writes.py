"""Changing a function: waits on Lambda's asynchronous states with botocore's waiters
(``function_active_v2``, ``function_updated_v2``, ``published_version_active``) bounded by
``wait_timeout``; a 409 (an update in progress) is waited out and retried a bounded number of
times; a mutation whose answer was lost and whose retry then collides with itself is checked
against Lambda: if the change is in place, it succeeded."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import (
    ClientError,
    WaiterError,
)

from ..errors import ConflictError, DeployError, ProvisioningFailed
from ..model import AliasState, FunctionConfig
from .errors import CONFLICT, CONFLICT_RETRIES, error_code, translated
from .lambda_reads import LambdaReads, newest_version


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


class LambdaWrites(LambdaReads):
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
                        if not function_name or error_code(error) != CONFLICT or attempt == CONFLICT_RETRIES:
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
            newest = newest_version(self.versions(function_name))
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
