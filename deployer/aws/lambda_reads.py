"""Reading a function: $LATEST, its versions (with their ages by AWS's clock), aliases,
URLs and policies, and only what ``Wants`` asks for besides (each read costs calls)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.exceptions import (
    ClientError,
)
from botocore.utils import parse_timestamp

from ..errors import DeployError
from ..model import PUBLIC_URL_STATEMENTS, AliasState, FunctionConfig, FunctionState, FunctionUrl, Lifecycle, Production, Provisioned
from .errors import NOT_FOUND, PROVISIONED_MISSING, error_code, translated
from .session import CallLog


def _server_time(answer: Mapping[str, Any]) -> datetime:
    """When AWS answered (its Date header); this machine's clock if the header is missing."""
    date = (answer.get("ResponseMetadata") or {}).get("HTTPHeaders", {}).get("date", "")
    try:
        return parsedate_to_datetime(date) if date else datetime.now(UTC)
    except (TypeError, ValueError):
        return datetime.now(UTC)


def newest_version(versions: list[dict[str, Any]]) -> FunctionConfig | None:
    newest = max(versions, key=lambda version: int(version["Version"]), default=None)
    return FunctionConfig.from_api(newest) if newest else None


@dataclass(frozen=True)
class Wants:
    """What a run needs read beyond the basics; each costs calls, so only when asked."""

    aliases: bool = False  # every alias (pruning)
    url: bool = False  # the alias's function URL and policy (function-url, cleanup)
    provisioned: bool = False  # the alias's provisioned concurrency
    previous: str | None = None  # the blue/green alias
    code_signing: bool = False  # the attached code-signing configuration (code-signing-config-arn)
    rollback_to: str | None = None  # the alias a rollback goes back to (to-version: previous)


def function_url_of(raw: Mapping[str, Any]) -> FunctionUrl:
    return FunctionUrl(str(raw["FunctionUrl"]), str(raw["AuthType"]), dict(raw.get("Cors") or {}), str(raw.get("InvokeMode") or "BUFFERED"))


class LambdaReads:
    def __init__(self, client: Any, wait_timeout: float, poll_delay: float = 1.0, log: Callable[[str], None] = lambda _: None) -> None:
        self._lambda = client
        self.calls = CallLog()
        self.calls.attach(client)
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
                if error_code(error) == NOT_FOUND:
                    return FunctionState(latest=None, published=None, alias=None)
                raise
        versions, ages = self.listing(function_name)
        newest = newest_version(versions)
        lifecycle = Lifecycle(
            versions=tuple(v["Version"] for v in versions),
            ages=ages,
            aliases=self.list_aliases(function_name) if wants.aliases else (),
            url=self.function_url(function_name, alias) if wants.url else None,
            statements=self.url_statements(function_name, alias) if wants.url else frozenset(),
        )
        current = self.get_alias(function_name, alias) if alias else None
        production = Production(
            reserved_concurrency=(got.get("Concurrency") or {}).get("ReservedConcurrentExecutions"),
            provisioned=self.provisioned(function_name, alias) if wants.provisioned and current is not None else None,
            previous=self.get_alias(function_name, wants.previous) if wants.previous else None,
            code_signing=self.code_signing(function_name) if wants.code_signing else None,
            rollback_to=self.get_alias(function_name, wants.rollback_to) if wants.rollback_to else None,
        )
        return FunctionState(
            latest=FunctionConfig.from_api(got["Configuration"]),
            published=newest,
            alias=current,
            tags=dict(got.get("Tags") or {}),
            lifecycle=lifecycle,
            production=production,
            serving=self._serving(function_name, current, versions),
        )

    def _serving(self, function_name: str, alias: AliasState | None, versions: list[dict[str, Any]]) -> FunctionConfig | None:
        """The configuration of the version the alias serves: from the listing already read (it
        holds every version's configuration), so production's state costs no extra call."""
        if alias is None or alias.version == "$LATEST":
            return None
        listed = next((version for version in versions if str(version["Version"]) == alias.version), None)
        return FunctionConfig.from_api(listed) if listed is not None else self.configuration(function_name, alias.version)

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
                if error_code(error) == NOT_FOUND:
                    return None
                raise
        return function_url_of(raw)

    def code_location(self, function_name: str, qualifier: str = "") -> dict[str, Any]:
        """GetFunction's ``Code``: a pre-signed ``Location`` for a zip, ``ImageUri`` and
        ``ResolvedImageUri`` for an image."""
        params = {"FunctionName": function_name, **({"Qualifier": qualifier} if qualifier else {})}
        with translated("reading the function's code location", f"function '{function_name}'"):
            try:
                return dict(self._lambda.get_function(**params).get("Code") or {})
            except ClientError as error:
                if error_code(error) == NOT_FOUND:
                    raise DeployError.of(
                        f"function '{function_name}' does not exist", "--function-name", "check the name and aws-region"
                    ) from None
                raise

    def code_signing(self, function_name: str) -> str:
        """The code-signing configuration attached to the function; "" when there is none."""
        with translated("reading the code-signing configuration", f"function '{function_name}'"):
            try:
                raw = self._lambda.get_function_code_signing_config(FunctionName=function_name)
            except ClientError as error:
                if error_code(error) == NOT_FOUND:
                    return ""
                raise
        return str(raw.get("CodeSigningConfigArn") or "")

    def url_statements(self, function_name: str, alias: str) -> frozenset[str]:
        """Which of our public-URL statements the alias's resource policy holds."""
        with translated("reading the resource policy", f"alias '{alias}'"):
            try:
                raw = self._lambda.get_policy(FunctionName=function_name, Qualifier=alias)
            except ClientError as error:
                if error_code(error) == NOT_FOUND:
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
                if error_code(error) == NOT_FOUND:
                    return None
                raise

    def configuration(self, function_name: str, qualifier: str = "$LATEST") -> FunctionConfig:
        return FunctionConfig.from_api(self._raw_configuration(function_name, qualifier))

    def version_exists(self, function_name: str, version: str) -> bool:
        with translated(f"reading version {version}", f"function '{function_name}'"):
            try:
                self._lambda.get_function_configuration(FunctionName=function_name, Qualifier=version)
            except ClientError as error:
                if error_code(error) == NOT_FOUND:
                    return False
                raise
        return True

    def _raw_configuration(self, function_name: str, qualifier: str = "$LATEST") -> dict[str, Any]:
        with translated("reading the configuration", f"function '{function_name}'"):
            return dict(self._lambda.get_function_configuration(FunctionName=function_name, Qualifier=qualifier))

    def provisioned(self, function_name: str, alias: str) -> Provisioned | None:
        with translated("reading the provisioned concurrency", f"alias '{alias}'"):
            try:
                raw = self._lambda.get_provisioned_concurrency_config(FunctionName=function_name, Qualifier=alias)
            except ClientError as error:
                if error_code(error) in (PROVISIONED_MISSING, NOT_FOUND):
                    return None
                raise
        return Provisioned(int(raw["RequestedProvisionedConcurrentExecutions"]), str(raw["Status"]))
