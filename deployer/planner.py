"""Desired settings + observed state -> ``Plan`` (pure).

Contract: ``make_plan(settings, artifact_sha256, state)`` compares what the user asked
for with what Lambda has and returns the minimal steps: code is uploaded only when
its hash (or the architecture) differs from $LATEST, configuration fields are sent only
when given and different, a version is published only when $LATEST differs from the
newest published version, and the alias moves only when it points elsewhere. It raises
``DeployError`` for what AWS would refuse (a missing role/runtime/handler on create,
an environment over 4 KB after merging, an alias that still carries a canary) so that
this happens before the first mutating call. How the alias moves follows the rollout
settings: a smoke test first when asked, then a plain move, a staged shift, a one-shot
canary or a hand-off to CodeDeploy. A new alias starts on the new version: there is
no stable version to compare against. After the alias, the function URL is made to
match ``function-url`` (only what differs), and with ``keep-versions`` the versions
beyond the newest N that no alias will reference are pruned (``prune_candidates``).
``make_cleanup_plan`` removes a preview: its public-URL statements, its URL, the alias,
then prunes; each step only for what exists. No I/O, no clock.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from typing import Any

from . import surface
from .errors import DeployError, Problem
from .limits import snapstart_problem
from .model import (
    PUBLIC_URL_STATEMENTS,
    TRACE_PREFIX,
    AliasState,
    Change,
    CreateFunction,
    DeleteAlias,
    DeleteFunctionUrl,
    EnsureFunctionUrl,
    FunctionConfig,
    FunctionState,
    GrantPublicUrl,
    HandOffToCodeDeploy,
    OpenCanary,
    Plan,
    PointAlias,
    PointPreviousAlias,
    PruneVersions,
    PublishVersion,
    ReuseVersion,
    RevokeUrlPermissions,
    SetCodeSigning,
    SetProvisionedConcurrency,
    SetReservedConcurrency,
    ShiftTraffic,
    SmokeTest,
    Step,
    TagFunction,
    UpdateCode,
    UpdateConfiguration,
    UploadToS3,
)
from .ownership import may_clean_up, owner_of, owns
from .settings import FunctionSettings, GitContext, RolloutSettings, Settings, environment_problems

TAG_PREFIX = "lambda-deploy:"
_TAG_UNSAFE = re.compile(r"[^\w .:/=+\-@]")
DESCRIPTION_LIMIT = 256


def audit_note(git: GitContext) -> str:
    """The published version's description: who shipped what from where (≤256 chars)."""
    parts = ["lambda-deploy"]
    if git.sha:
        parts.append(f"commit {git.sha[:12]}")
    if git.ref:
        parts.append(f"ref {git.ref}")
    if git.run_id:
        parts.append(f"run {git.run_id}")
    if git.actor:
        parts.append(f"by {git.actor}")
    return " ".join(parts)[:DESCRIPTION_LIMIT]


def deploy_tags(git: GitContext) -> dict[str, str]:
    """Tags recording the last deploy that changed the function."""
    values = {"commit": git.sha, "ref": git.ref, "run-id": git.run_id, "actor": git.actor}
    return {f"{TAG_PREFIX}{key}": _TAG_UNSAFE.sub("_", value)[:256] for key, value in values.items() if value}


def merged_environment(wanted: FunctionSettings, current: Mapping[str, str]) -> dict[str, str] | None:
    """The complete variable set to send, or None when the input was not given."""
    if wanted.environment is None:
        return None
    if wanted.environment_mode == "replace":
        return dict(wanted.environment)
    return {**current, **wanted.environment}


def environment_change(before: Mapping[str, str], after: Mapping[str, str]) -> Change | None:
    """Keys added (+), changed (~) and removed (-); values are never shown."""
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    if not (added or removed or changed):
        return None
    words = [f"+{k}" for k in added] + [f"~{k}" for k in changed] + [f"-{k}" for k in removed]
    return Change("environment", f"{len(before)} keys", f"{len(after)} keys ({' '.join(words)})")


def _scalar_changes(wanted: FunctionSettings, latest: FunctionConfig) -> tuple[dict[str, Any], list[Change]]:
    fields: list[tuple[str, str, object, object]] = [
        ("Handler", "handler", wanted.handler, latest.handler),
        ("Runtime", "runtime", wanted.runtime, latest.runtime),
        ("Role", "role", wanted.role, latest.role),
        ("MemorySize", "memory", wanted.memory, latest.memory),
        ("Timeout", "timeout", wanted.timeout, latest.timeout),
        ("Description", "description", wanted.description, latest.description),
        ("Layers", "layers", list(wanted.layers) if wanted.layers is not None else None, list(latest.layers)),
        ("SnapStart", "snapstart", _snapstart(wanted.snapstart), {"ApplyOn": latest.snap_start}),
    ]
    params: dict[str, Any] = {}
    changes: list[Change] = []
    for api_name, name, want, have in fields:
        if want is not None and want != have:
            params[api_name] = want
            changes.append(Change(name, _show(have), _show(want)))
    return params, changes


def _snapstart(enabled: bool | None) -> dict[str, str] | None:
    return None if enabled is None else {"ApplyOn": "PublishedVersions" if enabled else "None"}


def _show(value: object) -> str:
    if isinstance(value, dict) and "ApplyOn" in value:
        return "on" if value["ApplyOn"] == "PublishedVersions" else "off"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value) if value not in ("", None) else "(empty)"


def _check_environment(variables: Mapping[str, str]) -> None:
    problems = environment_problems(variables)
    if problems:
        raise DeployError(*(Problem(p, "input 'environment'", "after merging with the function's current variables") for p in problems))


def _create_steps(settings: Settings) -> tuple[list[Step], list[Change]]:
    wanted = settings.function
    image = settings.code.kind == "image"
    needed = (("role", wanted.role),) if image else (("role", wanted.role), ("runtime", wanted.runtime), ("handler", wanted.handler))
    missing = [name for name, value in needed if not value]
    if missing:
        raise DeployError.of(
            f"function '{settings.function_name}' does not exist, and creating it needs {', '.join(missing)}",
            "inputs " + ", ".join(f"'{m}'" for m in missing),
            "give them, or check function-name and aws-region",
        )
    params: dict[str, Any] = {
        "FunctionName": settings.function_name,
        "Role": wanted.role,
        "PackageType": "Image" if image else "Zip",
        "Architectures": [wanted.architecture or "x86_64"],
        "Tags": {**deploy_tags(settings.git), **wanted.tags},
    }
    params.update(surface.create_members(wanted.configuration, settings.function_name))
    if wanted.code_signing:
        params["CodeSigningConfigArn"] = wanted.code_signing
    optional = {
        "Runtime": wanted.runtime,
        "Handler": wanted.handler,
        "MemorySize": wanted.memory,
        "Timeout": wanted.timeout,
        "Description": wanted.description,
        "SnapStart": _snapstart(wanted.snapstart),
    }
    params.update({key: value for key, value in optional.items() if value is not None})
    if wanted.layers:
        params["Layers"] = list(wanted.layers)
    environment = merged_environment(wanted, {})
    if environment:
        _check_environment(environment)
        params["Environment"] = {"Variables": environment}
    changes = [Change("function", "(none)", "created")]
    changes += [
        Change(row.input, "(none)", surface.show(row, wanted.configuration[row.input]))
        for row in surface.ROWS
        if row.input in params_given(wanted)
    ]
    if environment:
        changes.append(Change("environment", "0 keys", f"{len(environment)} keys ({' '.join('+' + k for k in sorted(environment))})"))
    return [CreateFunction(params)], changes


def _update_steps(
    settings: Settings, artifact_sha256: str, state: FunctionState, latest: FunctionConfig
) -> tuple[list[Step], list[Change]]:
    wanted = settings.function
    steps: list[Step] = []
    changes: list[Change] = []
    new_arch = wanted.architecture if wanted.architecture and wanted.architecture != latest.architecture else None
    if artifact_sha256 != latest.code_sha256 or new_arch:
        steps.append(UpdateCode(latest.code_sha256, artifact_sha256, new_arch))
        if new_arch:
            changes.append(Change("architecture", latest.architecture, new_arch))
    if settings.code.package_type and settings.code.package_type != latest.package_type:
        raise DeployError.of(
            f"function '{settings.function_name}' is a {latest.package_type} function; Lambda cannot change a function's package "
            f"type to {settings.code.package_type}",
            "input 'package-type'",
            "deploy the image to a new function (another function-name), then move your traffic to it",
        )
    params, scalar_changes = _scalar_changes(wanted, latest)
    changes.extend(scalar_changes)
    if problem := surface.logging_problem(wanted.configuration, latest.raw, settings.function_name):
        raise DeployError.of(problem, "input 'application-log-level' / 'system-log-level'", "set log-format: JSON, or leave the levels out")
    members, differing = surface.changes(wanted.configuration, latest.raw, settings.function_name)
    params.update(members)
    changes.extend(Change(name, before, after) for name, before, after in differing)
    environment = merged_environment(wanted, latest.environment)
    if environment is not None:
        env_change = environment_change(latest.environment, environment)
        if env_change:
            _check_environment(environment)
            params["Environment"] = {"Variables": environment}
            changes.append(env_change)
    if params:
        steps.append(UpdateConfiguration(params, tuple(c for c in changes if c.field != "architecture")))
    tags = dict(wanted.tags)
    if steps:
        tags.update(deploy_tags(settings.git))
    if any(state.tags.get(key) != value for key, value in tags.items()):
        steps.append(TagFunction(tags))
    return steps, changes


def stale_canary(alias: AliasState) -> DeployError:
    """An alias that still carries weights: explain it and how to resolve it."""
    canary, weight = alias.canary or ("?", 0.0)
    left_by = f" ({alias.description})" if alias.description.startswith(TRACE_PREFIX) else ""
    return DeployError.of(
        f"already routes {weight:.0%} of traffic to version {canary} and the rest to version "
        f"{alias.version}: a canary is in progress or an earlier rollout did not finish{left_by}; a second canary is never stacked",
        f"alias '{alias.name}'",
        f"resolve it first: 'command: promote' moves the alias wholly to version {canary}; 'command: rollback' moves it "
        f"wholly back to version {alias.version}. Then deploy again",
    )


def routes_by_weight(rollout: RolloutSettings) -> bool:
    """Whether the alias will route traffic between two versions on the way (a canary, a
    linear shift, a CodeDeploy preset other than all at once, or a one-shot canary)."""
    return rollout.canary_weight is not None or rollout.strategy.gradual


def routing_problems(stable: FunctionConfig, role: str, dead_letter: str) -> list[str]:
    """What keeps Lambda from routing an alias by weight between ``stable`` and a new version
    with ``role`` and ``dead_letter`` (Developer Guide, "Alias routing configuration": both
    versions published, with the same execution role and the same dead-letter queue, or none)."""
    problems = []
    if stable.version == "$LATEST":
        problems.append("the alias points at $LATEST, which is not a published version")
    if stable.role != role:
        problems.append(f"the execution role changes ({stable.role} → {role})")
    if stable.dead_letter_target != dead_letter:
        problems.append(f"the dead-letter queue changes ({stable.dead_letter_target or 'none'} → {dead_letter or 'none'})")
    return problems


def _check_routing(settings: Settings, state: FunctionState, alias: AliasState) -> None:
    stable, latest = state.production.stable, state.latest
    if stable is None or latest is None or not routes_by_weight(settings.rollout):
        return
    dead_letter = settings.function.configuration.get("dead-letter-target", latest.dead_letter_target)
    problems = routing_problems(stable, settings.function.role or latest.role, dead_letter)
    if problems:
        raise DeployError.of(
            f"this rollout would route traffic by weight between version {stable.version} and the new version, but "
            f"{'; '.join(problems)}. Lambda routes an alias between two versions only when both are published and have the same "
            "execution role and dead-letter queue; nothing was changed",
            f"alias '{alias.name}'",
            "ship this change all at once first (strategy: all-at-once, no canary-weight), then use canaries for the next changes",
        )


def _warm(settings: Settings, state: FunctionState) -> bool:
    """Whether the alias will have provisioned concurrency, set here or already."""
    wanted = settings.rollout.provisioned_concurrency
    current = state.production.provisioned
    return (wanted if wanted is not None else current.requested if current else 0) > 0


def _provisioned_step(settings: Settings, state: FunctionState) -> list[Step]:
    wanted = settings.rollout.provisioned_concurrency
    current = state.production.provisioned.requested if state.production.provisioned else None
    if wanted is None or wanted == (current or 0):
        return []
    return [SetProvisionedConcurrency(settings.alias, wanted, current)]


def _previous_step(settings: Settings, state: FunctionState, alias: AliasState) -> list[Step]:
    name, previous = settings.rollout.previous_alias, state.production.previous
    if name is None or (previous is not None and previous.version == alias.version):
        return []
    return [PointPreviousAlias(name, alias.version, previous.version if previous else None, previous.revision_id if previous else None)]


def _traffic_steps(settings: Settings, state: FunctionState, alias: AliasState, target: str | None) -> list[Step]:
    rollout = settings.rollout
    warm = _warm(settings, state)
    steps: list[Step] = [*_previous_step(settings, state, alias), *_provisioned_step(settings, state)]
    if rollout.smoke_payload is not None:
        steps.append(SmokeTest(rollout.smoke_payload, rollout.smoke_expect))
    if rollout.canary_weight is not None:
        steps.append(OpenCanary(alias.name, alias.version, rollout.canary_weight, alias.revision_id, alias.description, warm))
    elif rollout.engine == "codedeploy":
        steps.append(
            HandOffToCodeDeploy(
                alias.name,
                alias.version,
                rollout.codedeploy_application or "",
                rollout.codedeploy_group or "",
                rollout.strategy.codedeploy_config or "",
                rollout.strategy.total_seconds,
                rollout.before_traffic_hook,
                rollout.after_traffic_hook,
                rollout.alarms,
            )
        )
    elif rollout.strategy.gradual:
        steps.append(ShiftTraffic(alias.name, alias.version, rollout.strategy, alias.revision_id, alias.description, warm))
    else:
        steps.append(PointAlias(alias.name, alias.version, target, alias.revision_id, warm))
    return steps


def _alias_step(settings: Settings, state: FunctionState, target: str | None) -> list[Step]:
    alias = state.alias
    if alias is None:
        # Nothing stable to compare with yet: a new alias starts on the new version.
        smoke = [SmokeTest(settings.rollout.smoke_payload, settings.rollout.smoke_expect)] if settings.rollout.smoke_payload else []
        created = PointAlias(settings.alias, None, target, None, marker=settings.alias_marker)
        return [*smoke, created, *_provisioned_step(settings, state)]
    if settings.alias_derived and not owns(settings.owner, alias):
        # The pipeline chose an alias this preview owns; this holds the line if anything changed that.
        raise DeployError.of(
            f"alias '{alias.name}' is {owner_of(alias)}; a preview never moves an alias it does not own. Nothing was changed",
            f"alias '{alias.name}'",
            "give alias explicitly to deploy to it on purpose",
        )
    if alias.weights:
        raise stale_canary(alias)
    if target is not None and alias.version == target:
        return _provisioned_step(settings, state)
    _check_routing(settings, state, alias)
    return _traffic_steps(settings, state, alias, target)


def _reserved_step(settings: Settings, state: FunctionState) -> list[Step]:
    wanted, current = settings.function, state.production.reserved_concurrency
    if wanted.remove_reserved_concurrency and current is not None:
        return [SetReservedConcurrency(None, current)]
    if wanted.reserved_concurrency is not None and wanted.reserved_concurrency != current:
        return [SetReservedConcurrency(wanted.reserved_concurrency, current)]
    return []


def _code_signing_step(settings: Settings, state: FunctionState) -> list[Step]:
    wanted, current = settings.function.code_signing, state.production.code_signing
    if wanted is None or state.latest is None or wanted == (current or ""):
        return []
    return [SetCodeSigning(wanted, current or "")]


def params_given(wanted: FunctionSettings) -> set[str]:
    """The configuration rows a create sends (a removal sends nothing)."""
    return {name for name, value in wanted.configuration.items() if value not in ("", [])}


def referenced_versions(aliases: Iterable[AliasState]) -> set[str]:
    """Every version an alias points at, as its main version or as its weighted one."""
    return {version for alias in aliases for version in (alias.version, *alias.weights)}


def prune_candidates(
    versions: Iterable[str], aliases: Iterable[AliasState], keep: int, ages: Mapping[str, float] | None = None, grace: float = 0.0
) -> tuple[str, ...]:
    """Published versions beyond the newest ``keep`` that no alias references, as its main
    version or as its weighted one, and that are at least ``grace`` seconds old; oldest
    first. A version whose age is unknown counts as young. ``keep`` 0 prunes nothing;
    $LATEST is never a candidate. The grace is what keeps a version that another deploy
    has just published, and not yet pointed an alias at, from being deleted under it."""
    if keep <= 0:
        return ()
    numbered = sorted({int(v) for v in versions if v.isdigit()})
    referenced = referenced_versions(aliases)
    newest = set(numbered[-keep:])
    known = ages or {}

    def old_enough(version: str) -> bool:
        return grace <= 0 or known.get(version, -1.0) >= grace

    return tuple(str(v) for v in numbered if v not in newest and str(v) not in referenced and old_enough(str(v)))


def _prune_steps(settings: Settings, state: FunctionState, versions: Iterable[str], aliases: Iterable[AliasState]) -> list[Step]:
    keep, grace = settings.keep_versions, settings.prune_grace
    expected = prune_candidates(versions, aliases, keep, state.lifecycle.ages, grace)
    return [PruneVersions(keep, expected, grace)] if expected else []


def _url_steps(settings: Settings, state: FunctionState) -> list[Step]:
    if settings.function_url == "none":
        return []
    public = settings.function_url == "public"
    auth = "NONE" if public else "AWS_IAM"
    current = state.lifecycle.url
    steps: list[Step] = []
    cors, mode = settings.url_cors, settings.url_invoke_mode
    cors_differs = cors is not None and (current is None or dict(current.cors) != dict(cors))
    mode_differs = mode is not None and (current is None or current.invoke_mode != mode)
    if current is None or current.auth_type != auth or cors_differs or mode_differs:
        steps.append(
            EnsureFunctionUrl(
                settings.alias, auth, current.auth_type if current else None, cors if cors_differs else None, mode if mode_differs else None
            )
        )
    held = state.lifecycle.statements
    if public and (missing := tuple(sid for sid in PUBLIC_URL_STATEMENTS if sid not in held)):
        steps.append(GrantPublicUrl(settings.alias, missing))
    if not public and (present := tuple(sid for sid in PUBLIC_URL_STATEMENTS if sid in held)):
        steps.append(RevokeUrlPermissions(settings.alias, present))
    return steps


def _after_deploy(state: FunctionState, alias: str, steps: list[Step]) -> tuple[list[str], list[AliasState]]:
    """Versions and aliases as the plan will leave them, for choosing what to prune."""
    versions = list(state.lifecycle.versions)
    target = next((s.version for s in steps if isinstance(s, ReuseVersion)), None)
    if target is None:  # this plan publishes: the new version is the newest
        target = str(max((int(v) for v in versions if v.isdigit()), default=0) + 1)
        versions.append(target)
    canary = next((s for s in steps if isinstance(s, OpenCanary)), None)
    moved = [AliasState(alias, "", canary.stable, {target: canary.weight}, "") if canary else AliasState(alias, "", target, {}, "")]
    moved += [AliasState(s.name, "", s.version, {}, "") for s in steps if isinstance(s, PointPreviousAlias)]
    names = {a.name for a in moved}
    return versions, [a for a in state.lifecycle.aliases if a.name not in names] + moved


def _check_snapstart(settings: Settings, latest: FunctionConfig | None) -> None:
    runtime = settings.function.runtime or (latest.runtime if latest else "")
    if settings.function.snapstart and (problem := snapstart_problem(runtime)):
        raise DeployError.of(problem, "input 'snapstart'", "leave snapstart out, or set false, for this runtime")


def package_key(prefix: str, artifact_sha256: str) -> str:
    """The package's S3 key: named by its SHA-256, so the same code is stored once and reused."""
    return f"{prefix}{base64.b64decode(artifact_sha256).hex()}.zip"


def make_plan(settings: Settings, artifact_sha256: str, state: FunctionState) -> Plan:
    latest = state.latest
    _check_snapstart(settings, latest)
    if latest is None:
        steps, changes = _create_steps(settings)
    else:
        steps, changes = _update_steps(settings, artifact_sha256, state, latest)
    if settings.s3_bucket and settings.code.kind == "package" and any(isinstance(step, CreateFunction | UpdateCode) for step in steps):
        steps.insert(0, UploadToS3(settings.s3_bucket, package_key(settings.s3_key_prefix, artifact_sha256)))
    steps.extend(_reserved_step(settings, state))
    steps.extend(_code_signing_step(settings, state))
    config_moved = any(isinstance(step, (CreateFunction, UpdateCode, UpdateConfiguration)) for step in steps)
    reusable = (
        state.published
        if state.published is not None and latest is not None and not config_moved and latest.fingerprint == state.published.fingerprint
        else None
    )
    if reusable is None:
        steps.append(PublishVersion(audit_note(settings.git)))
        target: str | None = None
    else:
        steps.append(ReuseVersion(reusable.version))
        target = reusable.version
    steps.extend(_alias_step(settings, state, target))
    steps.extend(_url_steps(settings, state))
    steps.extend(_prune_steps(settings, state, *_after_deploy(state, settings.alias, steps)))
    return Plan(
        function_name=settings.function_name,
        alias=settings.alias,
        steps=tuple(steps),
        code_before=latest.code_sha256 if latest else "",
        code_after=artifact_sha256,
        changes=tuple(changes),
        previous_version=state.alias.version if state.alias else "",
        reused_version=target,
    )


def make_cleanup_plan(settings: Settings, state: FunctionState) -> Plan:
    """Remove the preview: its public-URL statements, its URL, the alias; then prune. Only
    an alias marked as this run's preview (``ownership``) is removed; anything else is a
    ``DeployError`` that says whose it is."""
    life, alias = state.lifecycle, state.alias
    if alias is not None and not may_clean_up(settings.owner, alias):
        whose = settings.owner.describe() if settings.owner else "anyone (outside GitHub, cleanup deletes only aliases marked as previews)"
        raise DeployError.of(
            f"cleanup refused: alias '{alias.name}' is not the preview of {whose}; it is {owner_of(alias)}. Nothing was deleted",
            f"alias '{alias.name}'",
            "cleanup deletes only the preview alias that this pull request's deploy created; to remove another alias, "
            "delete it yourself (aws lambda delete-alias)",
        )
    steps: list[Step] = []
    if held := tuple(sid for sid in PUBLIC_URL_STATEMENTS if sid in life.statements):
        steps.append(RevokeUrlPermissions(settings.alias, held))
    if life.url is not None:
        steps.append(DeleteFunctionUrl(settings.alias))
    if alias is not None:
        steps.append(DeleteAlias(alias.name, alias.version, alias.description))
    remaining = [a for a in life.aliases if a.name != settings.alias]
    steps.extend(_prune_steps(settings, state, life.versions, remaining))
    code = state.latest.code_sha256 if state.latest else ""
    previous = alias.version if alias else ""
    return Plan(settings.function_name, settings.alias, tuple(steps), code, code, (), previous, None)
