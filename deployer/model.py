"""The data that flows between stages: observed state, plan steps and the result.

Everything here is a frozen dataclass with no behaviour beyond describing itself, so
the planner stays a pure function of (settings, artifact hash, state) and the executor
and the dry-run can both walk the same ``Plan``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from .analysis import Check, ColdStarts
from .schedule import Strategy, format_duration


class Command(StrEnum):
    """What a run does: the action's ``command`` input, the CLI's subcommand."""

    DEPLOY = "deploy"
    DIFF = "diff"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    CLEANUP = "cleanup"
    LIST = "list"
    STATUS = "status"
    INIT = "init"
    LOGS = "logs"
    INVOKE = "invoke"
    SCHEMA = "schema"
    DEMO = "demo"


# Written into an alias's description while it carries rollout weights, so a run that
# finds weights left behind (a killed runner, a waiting canary) can say where they came from.
TRACE_PREFIX = "lambda-deploy rollout in progress"

# What Lambda reports about a function or a version that is not what a version holds: its
# identity, bookkeeping and state. Everything else counts, a field this list does not know
# included, so the re-run check errs on the side of publishing (a duplicate version) rather
# than missing a change (ImageConfigResponse, say, which the request calls ImageConfig).
NOT_CONTENT = frozenset(
    {"FunctionName", "FunctionArn", "Version", "RevisionId", "LastModified", "Description", "CodeSize", "MasterArn",
     "State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason", "LastUpdateStatusReasonCode",
     "RuntimeVersionConfig", "SigningProfileVersionArn", "SigningJobArn", "ConfigSha256", "ResponseMetadata"}
)  # fmt: skip


def version_content(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The code and configuration a version holds, as comparable data."""
    content = {key: value for key, value in raw.items() if key not in NOT_CONTENT and value not in (None, {}, [], "")}
    if "Layers" in content:
        content["Layers"] = [layer["Arn"] if isinstance(layer, Mapping) else layer for layer in content["Layers"]]
    if "VpcConfig" in content:
        content["VpcConfig"] = {k: v for k, v in content["VpcConfig"].items() if k != "VpcId" and v not in (None, [], "")} or None
    if "SnapStart" in content:
        # OptimizationStatus is On for a version with a snapshot and Off for $LATEST: state, not configuration.
        content["SnapStart"] = content["SnapStart"].get("ApplyOn", "None")
    return {key: value for key, value in content.items() if value is not None}


def _fingerprint(raw: Mapping[str, Any]) -> str:
    encoded = json.dumps(version_content(raw), sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


@dataclass(frozen=True)
class FunctionConfig:
    """A function's configuration as Lambda reports it, for $LATEST or a version."""

    name: str
    arn: str
    version: str
    code_sha256: str
    revision_id: str
    handler: str
    runtime: str
    role: str
    memory: int
    timeout: int
    description: str
    layers: tuple[str, ...]
    environment: Mapping[str, str]
    architecture: str
    state: str
    last_update_status: str
    fingerprint: str
    dead_letter_target: str = ""  # the dead-letter queue's ARN; "" when there is none
    snap_start: str = "None"  # SnapStart ApplyOn: PublishedVersions | None
    package_type: str = "Zip"  # Zip | Image
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)  # as Lambda answered, for the surface's rows

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> FunctionConfig:
        return cls(
            name=raw["FunctionName"],
            arn=raw["FunctionArn"],
            version=raw.get("Version", "$LATEST"),
            code_sha256=raw.get("CodeSha256", ""),
            revision_id=raw.get("RevisionId", ""),
            handler=raw.get("Handler", ""),
            runtime=raw.get("Runtime", ""),
            role=raw.get("Role", ""),
            memory=int(raw.get("MemorySize", 128)),
            timeout=int(raw.get("Timeout", 3)),
            description=raw.get("Description", ""),
            layers=tuple(layer["Arn"] for layer in raw.get("Layers", [])),
            environment=dict(raw.get("Environment", {}).get("Variables", {})),
            architecture=(raw.get("Architectures") or ["x86_64"])[0],
            state=raw.get("State", ""),
            last_update_status=raw.get("LastUpdateStatus", ""),
            fingerprint=_fingerprint(raw),
            dead_letter_target=str((raw.get("DeadLetterConfig") or {}).get("TargetArn") or ""),
            snap_start=str((raw.get("SnapStart") or {}).get("ApplyOn") or "None"),
            package_type=str(raw.get("PackageType") or "Zip"),
            raw=dict(raw),
        )

    @property
    def unqualified_arn(self) -> str:
        return self.arn.removesuffix(f":{self.version}") if self.version != "$LATEST" else self.arn


@dataclass(frozen=True)
class AliasState:
    name: str
    arn: str
    version: str
    weights: Mapping[str, float]
    revision_id: str
    description: str = ""

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> AliasState:
        routing = raw.get("RoutingConfig") or {}
        return cls(
            name=raw["Name"],
            arn=raw["AliasArn"],
            version=raw["FunctionVersion"],
            weights=dict(routing.get("AdditionalVersionWeights") or {}),
            revision_id=raw.get("RevisionId", ""),
            description=raw.get("Description", ""),
        )

    @property
    def canary(self) -> tuple[str, float] | None:
        """(version, weight) of the additional routed version, if any."""
        return next(iter(self.weights.items()), None)


@dataclass(frozen=True)
class FunctionUrl:
    url: str
    auth_type: str  # AWS_IAM | NONE
    cors: Mapping[str, Any] = field(default_factory=dict)
    invoke_mode: str = "BUFFERED"


# The resource-policy statements a public function URL needs (Lambda Developer Guide,
# "Control access to Lambda function URLs": since October 2025 both actions), kept per
# alias, since each alias has its own policy.
PUBLIC_URL_STATEMENTS: Mapping[str, Mapping[str, Any]] = {
    "lambda-deploy-public-url": {"Action": "lambda:InvokeFunctionUrl", "Principal": "*", "FunctionUrlAuthType": "NONE"},
    "lambda-deploy-public-url-invoke": {"Action": "lambda:InvokeFunction", "Principal": "*", "InvokedViaFunctionUrl": True},
}


@dataclass(frozen=True)
class Lifecycle:
    """What previews and pruning need to know, read only when they are asked for."""

    versions: tuple[str, ...] = ()  # every published version
    aliases: tuple[AliasState, ...] = ()  # every alias of the function
    url: FunctionUrl | None = None  # the function URL on this run's alias
    statements: frozenset[str] = frozenset()  # our public-URL statements on this run's alias
    ages: Mapping[str, float] = field(default_factory=dict)  # seconds since each version was last modified, by AWS's clock


@dataclass(frozen=True)
class Preview:
    """One preview alias a cleanup removes, with what hangs on it: its function URL and our
    public-URL statements. ``alias`` None: the alias is gone and only those are left."""

    name: str
    alias: AliasState | None
    url: FunctionUrl | None = None
    statements: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Provisioned:
    """The provisioned concurrency configured on an alias."""

    requested: int
    status: str  # IN_PROGRESS | READY | FAILED


@dataclass(frozen=True)
class Production:
    """What production rules need to know, read only when the inputs ask for it."""

    reserved_concurrency: int | None = None  # None: no reservation
    provisioned: Provisioned | None = None  # on this run's alias
    previous: AliasState | None = None  # the previous-alias, when one is named
    rollback_to: AliasState | None = None  # command: rollback with to-version naming an alias (blue/green)
    code_signing: str | None = None  # the attached code-signing configuration ("" none); None when not read


@dataclass(frozen=True)
class FunctionState:
    """What AWS has now. ``latest`` is None when the function does not exist."""

    latest: FunctionConfig | None
    published: FunctionConfig | None  # the newest published version
    alias: AliasState | None
    tags: Mapping[str, str] = field(default_factory=dict)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    production: Production = field(default_factory=Production)
    serving: FunctionConfig | None = None  # the version the alias serves (its main version), as Lambda reports it

    @property
    def base(self) -> FunctionConfig | None:
        """What this run's alias serves: the state a deploy compares with to decide whether a
        version is needed. ``$LATEST`` for a new alias (there is nothing else yet); None when the
        alias's version was not read, or is ``$LATEST`` itself (a version must then be made)."""
        if self.alias is None:
            return self.latest
        if self.alias.version == "$LATEST":
            return None
        if self.serving is not None and self.serving.version == self.alias.version:
            return self.serving
        if self.published is not None and self.published.version == self.alias.version:
            return self.published
        return None


# --- plan steps --------------------------------------------------------------------


class Action:
    """What every plan step is: ``mutates`` says whether it changes the function or its aliases
    (pruning, reusing a version and a smoke test do not: a plan of only those is "unchanged")."""

    mutates: ClassVar[bool] = True


@dataclass(frozen=True)
class Change:
    """One configuration field that differs; never carries environment values."""

    field: str
    before: str
    after: str

    def describe(self) -> str:
        return f"{self.field}: {self.before} → {self.after}"


@dataclass(frozen=True)
class CreateFunction(Action):
    params: Mapping[str, Any]  # CreateFunction parameters, without the zip

    def describe(self) -> str:
        what = (
            "container image"
            if self.params.get("PackageType") == "Image"
            else f"{self.params.get('Runtime')}, {self.params.get('Handler')}"
        )
        return f"create function {self.params['FunctionName']} ({what})"


@dataclass(frozen=True)
class UploadToS3(Action):
    """The package goes to S3 first (content-addressed: skipped when it is there already)."""

    bucket: str
    key: str

    def describe(self) -> str:
        return f"upload the package to s3://{self.bucket}/{self.key} (skipped when it is there already)"


@dataclass(frozen=True)
class UpdateCode(Action):
    old_sha256: str
    new_sha256: str
    architecture: str | None  # set only when the architecture changes

    def describe(self) -> str:
        arch = f", architecture → {self.architecture}" if self.architecture else ""
        return f"upload code {self.old_sha256[:12]}… → {self.new_sha256[:12]}…{arch}"


@dataclass(frozen=True)
class UpdateConfiguration(Action):
    params: Mapping[str, Any]  # UpdateFunctionConfiguration parameters that differ
    changes: tuple[Change, ...]

    def describe(self) -> str:
        return "update configuration: " + "; ".join(c.describe() for c in self.changes)


@dataclass(frozen=True)
class TagFunction(Action):
    tags: Mapping[str, str]

    def describe(self) -> str:
        return "tag function: " + ", ".join(sorted(self.tags))


@dataclass(frozen=True)
class PublishVersion(Action):
    description: str

    def describe(self) -> str:
        return "publish a new version"


@dataclass(frozen=True)
class ReuseVersion(Action):
    mutates: ClassVar[bool] = False
    version: str

    def describe(self) -> str:
        return f"reuse version {self.version} ($LATEST is unchanged since it was published)"


@dataclass(frozen=True)
class SetReservedConcurrency(Action):
    wanted: int | None  # None removes the reservation
    current: int | None

    def describe(self) -> str:
        if self.wanted is None:
            return f"remove the reserved concurrency (was {self.current})"
        return f"set the reserved concurrency: {'none' if self.current is None else self.current} → {self.wanted}"


@dataclass(frozen=True)
class SetCodeSigning(Action):
    """Attach a code-signing configuration to the function, or detach it (``wanted`` "")."""

    wanted: str
    current: str

    def describe(self) -> str:
        if not self.wanted:
            return f"detach the code-signing configuration {self.current}"
        return f"attach the code-signing configuration {self.wanted}" + (f" (was {self.current})" if self.current else "")


@dataclass(frozen=True)
class SetProvisionedConcurrency(Action):
    alias: str
    wanted: int  # 0 removes the config
    current: int | None

    def describe(self) -> str:
        if self.wanted == 0:
            return f"remove the provisioned concurrency of alias {self.alias} (was {self.current})"
        return f"set the provisioned concurrency of alias {self.alias}: {self.current or 0} → {self.wanted}, and wait until it is READY"


@dataclass(frozen=True)
class PointPreviousAlias(Action):
    """Blue/green: keep the version the main alias is leaving one alias away."""

    name: str
    version: str
    from_version: str | None  # None when the alias is created
    revision_id: str | None

    def describe(self) -> str:
        moved = f"{self.from_version} → {self.version}" if self.from_version else f"→ {self.version} (created)"
        return f"point alias {self.name} at the version being left: {moved}"


@dataclass(frozen=True)
class PointAlias(Action):
    """Create the alias or move it; ``version`` None means the version this plan publishes."""

    name: str
    from_version: str | None
    version: str | None
    revision_id: str | None  # None when the alias is created
    warm: bool = False  # wait for its provisioned concurrency to be READY after the move
    description: str | None = None  # written with the move (a preview's marker and audit); None leaves it

    def describe(self) -> str:
        target = self.version or "the new version"
        if self.from_version is None:
            return f"create alias {self.name} → {target}"
        return f"move alias {self.name}: {self.from_version} → {target}"


@dataclass(frozen=True)
class SmokeTest(Action):
    """Invoke the target version directly before any traffic moves."""

    mutates: ClassVar[bool] = False

    payload: str
    expect: Any

    def describe(self) -> str:
        expecting = " and check the response contains smoke-expect" if self.expect is not None else ""
        return f"smoke-test the new version with smoke-payload{expecting}"


@dataclass(frozen=True)
class ShiftTraffic(Action):
    """Move the alias from ``stable`` to the target in stages, under health gates."""

    name: str
    stable: str
    strategy: Strategy
    revision_id: str
    description: str  # the alias's own description, restored when the rollout ends
    warm: bool = False  # after each weight change, wait for provisioned concurrency to be READY

    def describe(self) -> str:
        warm = "; each step waits for provisioned concurrency" if self.warm else ""
        return f"shift alias {self.name} from version {self.stable} to the new version: {self.strategy.describe()}{warm}"


@dataclass(frozen=True)
class OpenCanary(Action):
    """Route ``weight`` to the target and stop; a later run promotes or rolls back."""

    name: str
    stable: str
    weight: float
    revision_id: str
    description: str = ""  # the alias's own description, restored if the canary cannot open
    warm: bool = False

    def describe(self) -> str:
        return f"open a canary on alias {self.name}: {self.weight:.0%} to the new version, the rest on version {self.stable}"


@dataclass(frozen=True)
class FinishCanary(Action):
    """``promote`` or ``rollback``: the alias wholly on ``target``, its weights cleared."""

    command: Command  # PROMOTE or ROLLBACK
    alias: AliasState
    target: str

    def describe(self) -> str:
        return f"{self.command}: point alias {self.alias.name} wholly at version {self.target} and clear its weights"


@dataclass(frozen=True)
class HandOffToCodeDeploy(Action):
    name: str
    stable: str
    application: str
    group: str
    config_name: str
    schedule_seconds: float
    before_hook: str | None
    after_hook: str | None
    alarms: tuple[str, ...] = ()  # passed to the deployment; CodeDeploy stops and rolls back on them

    def describe(self) -> str:
        watched = f", rolling back on alarms {', '.join(self.alarms)}" if self.alarms else ""
        return (
            f"hand alias {self.name} (version {self.stable} → the new version) to CodeDeploy "
            f"{self.application}/{self.group} with {self.config_name}{watched}"
        )


@dataclass(frozen=True)
class EnsureFunctionUrl(Action):
    """Create the alias's function URL, or change its auth type."""

    alias: str
    auth_type: str  # AWS_IAM | NONE
    current: str | None  # the auth type it has now; None when there is no URL yet
    cors: Mapping[str, Any] | None = None  # None: leave CORS as it is
    invoke_mode: str | None = None  # None: leave it

    def describe(self) -> str:
        shown = "public" if self.auth_type == "NONE" else "AWS_IAM"
        extra = ", CORS " + (", ".join(sorted(self.cors)) or "off") if self.cors is not None else ""
        extra += f", invoke mode {self.invoke_mode}" if self.invoke_mode else ""
        if self.current is None:
            return f"create a function URL on alias {self.alias} ({shown}{extra})"
        return f"change the function URL of alias {self.alias} to {shown}{extra}"


@dataclass(frozen=True)
class GrantPublicUrl(Action):
    alias: str
    statements: tuple[str, ...]  # which of PUBLIC_URL_STATEMENTS to add

    def describe(self) -> str:
        return f"allow anyone to call alias {self.alias}'s URL (resource-policy statements {', '.join(self.statements)})"


@dataclass(frozen=True)
class RevokeUrlPermissions(Action):
    alias: str
    statements: tuple[str, ...]

    def describe(self) -> str:
        return f"remove the public-URL statements {', '.join(self.statements)} from alias {self.alias}"


@dataclass(frozen=True)
class DeleteFunctionUrl(Action):
    alias: str

    def describe(self) -> str:
        return f"delete the function URL of alias {self.alias}"


@dataclass(frozen=True)
class DeleteAlias(Action):
    name: str
    version: str
    description: str  # the alias is deleted only while its description is still this (re-checked just before)

    def describe(self) -> str:
        return f"delete alias {self.name} (it pointed at version {self.version})"


@dataclass(frozen=True)
class PruneVersions(Action):
    """Delete versions beyond the newest ``keep`` that no alias references and that are older
    than ``grace``; re-checked at run time."""

    mutates: ClassVar[bool] = False

    keep: int
    expected: tuple[str, ...]  # what the state read before the run suggests
    grace: float = 0.0  # seconds: younger versions are kept (one may be another deploy's, not yet aliased)

    def describe(self) -> str:
        shown = ", ".join(self.expected) if self.expected else "none"
        younger = f", older than {format_duration(self.grace)}" if self.grace else ""
        return f"prune versions beyond the newest {self.keep} that no alias references{younger} (now: {shown})"


Step = (
    UploadToS3 | CreateFunction | UpdateCode | UpdateConfiguration | TagFunction | PublishVersion | ReuseVersion | PointAlias
    | SmokeTest | ShiftTraffic | OpenCanary | HandOffToCodeDeploy | FinishCanary
    | EnsureFunctionUrl | GrantPublicUrl | RevokeUrlPermissions | DeleteFunctionUrl | DeleteAlias | PruneVersions
    | SetReservedConcurrency | SetProvisionedConcurrency | PointPreviousAlias | SetCodeSigning
)  # fmt: skip


@dataclass(frozen=True)
class Plan:
    function_name: str
    alias: str
    steps: tuple[Step, ...]
    code_before: str  # "" when the function is new
    code_after: str
    changes: tuple[Change, ...]
    previous_version: str  # "" when the alias is new
    reused_version: str | None  # set when nothing new is published

    @property
    def mutates(self) -> bool:
        return any(step.mutates for step in self.steps)

    @property
    def publishes(self) -> bool:
        return any(isinstance(step, PublishVersion) for step in self.steps)


# --- result ------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEvent:
    at: float  # seconds since the rollout started
    weight: float  # share of traffic on the new version after this event
    event: str
    detail: str


@dataclass(frozen=True)
class RolloutOutcome:
    status: str  # deployed | canary | promoted | rolled-back | aborted
    version: str  # what the alias points to (wholly or as its main version) now
    stable: str
    canary: str
    reason: str = ""
    timeline: tuple[TimelineEvent, ...] = ()
    requested: bool = False  # a rollback the user asked for is a success, not a failure
    analysis: tuple[Check, ...] = ()  # canary analysis: each health check, both versions side by side
    cold_starts: tuple[ColdStarts, ...] = ()  # the new and the stable version's, in the rollout's window

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES and not self.requested


FAILED_STATUSES = ("rolled-back", "aborted")


@dataclass(frozen=True)
class Pruned:
    """What pruning did: versions deleted, and versions left with the reason."""

    deleted: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Result:
    status: str  # deployed | unchanged | planned | canary | promoted | rolled-back | aborted | cleaned-up
    function_arn: str
    version: str
    previous_version: str
    alias: str
    alias_arn: str
    code_sha256: str
    changed: bool
    plan: Plan
    calls: Mapping[str, int] = field(default_factory=dict)
    timings: tuple[tuple[str, float], ...] = ()
    rollout: RolloutOutcome | None = None
    function_url: str = ""
    pruned: Pruned = field(default_factory=Pruned)
    previous_alias: tuple[str, str] | None = None  # (name, version) of the blue/green alias
    artifact: str = ""  # the image or S3 object deployed as it is; "" for a package built from source
    removed: tuple[tuple[str, str], ...] = ()  # cleanup: (alias, the version it pointed at) of each preview alias removed
    files: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] = ((), (), ())  # diff: files added, removed, changed

    @property
    def failed(self) -> bool:
        return self.rollout is not None and self.rollout.failed
