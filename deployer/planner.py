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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import environment, surface
from .errors import DeployError, Problem
from .limits import snapstart_problem
from .model import (
    PUBLIC_URL_STATEMENTS,
    TRACE_PREFIX,
    AliasState,
    Change,
    Command,
    CreateFunction,
    DeleteAlias,
    DeleteFunctionUrl,
    EnsureFunctionUrl,
    FinishCanary,
    FunctionConfig,
    FunctionState,
    GrantPublicUrl,
    HandOffToCodeDeploy,
    OpenCanary,
    Plan,
    PointAlias,
    PointPreviousAlias,
    Preview,
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
from .ownership import may_clean_up, owner_of, owns, wave_mark
from .settings import FunctionSettings, GitContext, RolloutSettings, Settings
from .settings.function import SIZE_HINT

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
    return environment.merged(wanted.environment, current, wanted.environment_mode)


def environment_change(before: Mapping[str, str], after: Mapping[str, str]) -> Change | None:
    """Keys added (+), changed (~) and removed (-); values are never shown."""
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    if not (added or removed or changed):
        return None
    words = [f"+{k}" for k in added] + [f"~{k}" for k in changed] + [f"-{k}" for k in removed]
    return Change("environment", f"{len(before)} keys", f"{len(after)} keys ({' '.join(words)})")


def _check_environment(variables: Mapping[str, str]) -> None:
    problems = environment.problems(variables)
    if problems:
        hint = "after merging with the variables the function has; " + SIZE_HINT
        raise DeployError(*(Problem(p, hint=hint, input="environment") for p in problems))


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
        "PackageType": "Image" if image else "Zip",
        "Architectures": [wanted.architecture or "x86_64"],
        # Function-level tags describe production: a preview that creates the function records
        # its commit on its version and alias only.
        "Tags": {**({} if settings.preview else deploy_tags(settings.git)), **wanted.tags},
    }
    params.update(surface.create_members(wanted.configuration, settings.function_name))
    if wanted.code_signing:
        params["CodeSigningConfigArn"] = wanted.code_signing
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


VERSIONED_ROWS = tuple(row for row in surface.ROWS if row.versioned)
FUNCTION_ROWS = tuple(row for row in surface.ROWS if not row.versioned)  # the function's own (its description)


def _refuse_what_lambda_cannot_change(settings: Settings, latest: FunctionConfig) -> None:
    if settings.code.package_type and settings.code.package_type != latest.package_type:
        raise DeployError.about(
            "package-type",
            f"function '{settings.function_name}' is a {latest.package_type} function; Lambda cannot change a function's package "
            f"type to {settings.code.package_type}",
            "deploy the image to a new function (another function-name), then move your traffic to it",
        )
    for row, before, after in surface.differences(settings.function.configuration, latest.raw, settings.function_name):
        if row.create_only:
            raise DeployError.of(
                f"function '{settings.function_name}' has {row.input} {before}; Lambda sets it only when it creates a function, "
                f"so it cannot become {after}",
                f"input '{row.input}'",
                f"leave {row.input} out, or deploy to a new function (another function-name)",
            )


def _update_steps(settings: Settings, artifact_sha256: str, state: FunctionState, latest: FunctionConfig) -> _Update:
    """What production's alias serves decides whether a version is needed; $LATEST decides what
    must be sent before one is published. A preview may have rewritten $LATEST since production
    last shipped: production's own version is the base, so an unchanged production deploy sends
    nothing, and a changed one resets what a preview changed in $LATEST to production's values."""
    wanted, name = settings.function, settings.function_name
    _refuse_what_lambda_cannot_change(settings, latest)
    base = state.base
    source = base or latest  # unknown production (a hand-made state): compared with $LATEST, and published
    if problem := surface.logging_problem(wanted.configuration, source.raw, name):
        raise DeployError.of(problem, "input 'application-log-level' / 'system-log-level'", "set log-format: JSON, or leave the levels out")
    given = wanted.configuration
    environment = merged_environment(wanted, source.environment)
    produced = [Change(row.input, before, after) for row, before, after in surface.differences(given, source.raw, name, VERSIONED_ROWS)]
    if environment is not None and (env_change := environment_change(source.environment, environment)):
        produced.append(env_change)
    own = [Change(row.input, before, after) for row, before, after in surface.differences(given, latest.raw, name, FUNCTION_ROWS)]
    production_holds = base is not None and state.alias is not None and artifact_sha256 == base.code_sha256 and not produced
    # What $LATEST must hold: production's values with the given ones over them (the description stays the function's).
    desired = {row.input: given[row.input] if row.input in given else surface.reported(row, source.raw, name) for row in VERSIONED_ROWS}
    desired.update({row.input: given[row.input] for row in FUNCTION_ROWS if row.input in given})
    steps: list[Step] = []
    sent: list[Change] = []
    if not production_holds:
        architecture = str(desired["architecture"])
        new_arch = architecture if architecture != latest.architecture else None
        if artifact_sha256 != latest.code_sha256 or new_arch:
            steps.append(UpdateCode(latest.code_sha256, artifact_sha256, new_arch))
        differing = surface.differences(desired, latest.raw, name, (row for row in surface.ROWS if not row.with_code))
        sent = [Change(row.input, before, after) for row, before, after in differing]
        params = surface.request(desired, latest.raw, name, (row for row, _, _ in differing))
        target_environment = environment if environment is not None else dict(source.environment)
        if (latest_env := environment_change(latest.environment, target_environment)) is not None:
            _check_environment(target_environment)
            params["Environment"] = {"Variables": target_environment}
            sent.append(latest_env)
    else:
        differing = surface.differences(desired, latest.raw, name, FUNCTION_ROWS)
        sent = [Change(row.input, before, after) for row, before, after in differing]
        params = surface.request(desired, latest.raw, name, (row for row, _, _ in differing))
    if params:
        steps.append(UpdateConfiguration(params, tuple(sent)))
    return _Update(steps, [*produced, *own], production_holds)


@dataclass(frozen=True)
class _Update:
    steps: list[Step]
    changes: list[Change]  # what production will see change (and the function's own description)
    production_holds: bool  # the alias's version already holds the wanted code and configuration


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
    if settings.rollout.engine == "codedeploy" and alias.version == "$LATEST":
        raise DeployError.of(
            f"alias '{alias.name}' points at $LATEST, and CodeDeploy shifts an alias only from a published version (an AppSpec's "
            "CurrentVersion cannot be $LATEST); nothing was changed",
            f"alias '{alias.name}'",
            "point the alias at a published version first: deploy once with engine: native (all at once), then hand the next "
            "change to CodeDeploy",
        )
    stable, latest = state.serving, state.latest
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
    # A preview's alias records the commit, run and actor that moved it; anyone else's description is left alone.
    own = settings.alias_description if owns(settings.owner, alias) else None
    described = own if own is not None else alias.description
    previous = [] if settings.preview else _previous_step(settings, state, alias)  # the previous-alias is production's
    steps: list[Step] = [*previous, *_provisioned_step(settings, state)]
    if rollout.smoke_payload is not None:
        steps.append(SmokeTest(rollout.smoke_payload, rollout.smoke_expect))
    if rollout.canary_weight is not None:
        steps.append(OpenCanary(alias.name, alias.version, rollout.canary_weight, alias.revision_id, described, warm))
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
        steps.append(ShiftTraffic(alias.name, alias.version, rollout.strategy, alias.revision_id, described, warm))
    else:
        steps.append(PointAlias(alias.name, alias.version, target, alias.revision_id, warm, own))
    return steps


def _alias_step(settings: Settings, state: FunctionState, target: str | None) -> list[Step]:
    alias = state.alias
    if alias is None:
        # Nothing stable to compare with yet: a new alias starts on the new version.
        smoke = [SmokeTest(settings.rollout.smoke_payload, settings.rollout.smoke_expect)] if settings.rollout.smoke_payload else []
        created = PointAlias(settings.alias, None, target, None, description=settings.alias_description)
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
        raise DeployError.about("snapstart", problem, "leave snapstart out, or set false, for this runtime")


def package_key(prefix: str, artifact_sha256: str) -> str:
    """The package's S3 key: named by its SHA-256, so the same code is stored once and reused."""
    return f"{prefix}{base64.b64decode(artifact_sha256).hex()}.zip"


def make_plan(settings: Settings, artifact_sha256: str, state: FunctionState) -> Plan:
    latest = state.latest
    _check_snapstart(settings, state.base or latest)
    if latest is None:
        steps, changes = _create_steps(settings)
        holds = False
    else:
        update = _update_steps(settings, artifact_sha256, state, latest)
        steps, changes, holds = update.steps, update.changes, update.production_holds
    if settings.s3_bucket and settings.code.kind == "package" and any(isinstance(step, CreateFunction | UpdateCode) for step in steps):
        steps.insert(0, UploadToS3(settings.s3_bucket, package_key(settings.s3_key_prefix, artifact_sha256)))
    if not settings.preview:  # function-wide settings describe production; a preview leaves them alone
        steps.extend(_tag_steps(settings, state, written=bool(steps)))
        steps.extend(_reserved_step(settings, state))
        steps.extend(_code_signing_step(settings, state))
    target = _version_to_serve(
        state, holds, written=any(isinstance(step, CreateFunction | UpdateCode | UpdateConfiguration) for step in steps)
    )
    steps.append(PublishVersion(audit_note(settings.git)) if target is None else ReuseVersion(target))
    steps.extend(_alias_step(settings, state, target))
    steps.extend(_url_steps(settings, state))
    steps.extend(_prune_steps(settings, state, *_after_deploy(state, settings.alias, steps)))
    base = state.base or latest
    return Plan(
        function_name=settings.function_name,
        alias=settings.alias,
        steps=tuple(steps),
        code_before=base.code_sha256 if base else "",
        code_after=artifact_sha256,
        changes=tuple(changes),
        previous_version=state.alias.version if state.alias else "",
        reused_version=target,
    )


def _version_to_serve(state: FunctionState, holds: bool, written: bool) -> str | None:
    """The published version the alias will serve, or None when one must be published: the
    alias's own when it already holds what is wanted; else the newest version when $LATEST is
    left as it is and that version holds exactly what $LATEST does (Lambda would not publish
    it again either, and a pull request's preview may have published this very build)."""
    if holds and state.alias is not None:
        return state.alias.version
    newest, latest = state.published, state.latest
    if not written and newest is not None and latest is not None and latest.fingerprint == newest.fingerprint:
        return newest.version
    return None


def _tag_steps(settings: Settings, state: FunctionState, written: bool) -> list[Step]:
    """The user's tags, and the audit tags of the deploy that changed the function."""
    tags = dict(settings.function.tags)
    if written:
        tags.update(deploy_tags(settings.git))
    return [TagFunction(tags)] if state.latest is not None and any(state.tags.get(key) != value for key, value in tags.items()) else []


def make_finish_plan(settings: Settings, state: FunctionState) -> Plan:
    """``promote`` (the alias wholly on its canary version) or ``rollback`` (wholly on its stable
    version, or on ``to-version``: a published version, or the version an alias such as
    ``previous`` points at). Refused, with what to do, when there is nothing to finish."""
    alias, command, rollout = state.alias, settings.command, settings.rollout
    if state.latest is None or alias is None:
        raise DeployError.about(
            "alias",
            f"cannot {command}: alias '{settings.alias}' of function '{settings.function_name}' does not exist",
            "check function-name, alias and aws-region",
        )
    to_version = rollout.to_version
    if rollout.to_alias is not None:
        found = state.production.rollback_to
        if found is None:
            raise DeployError.about(
                "to-version",
                f"alias '{rollout.to_alias}' of function '{settings.function_name}' does not exist",
                "deploy with previous-alias first, or give a version number",
            )
        to_version = found.version
    # A wave moved this alias and recorded from where: a rollback with no target goes back there.
    recorded = wave_mark(alias.description)
    came_from = recorded.before if recorded is not None and recorded.version == alias.version else ""
    if command is Command.ROLLBACK and to_version is None and alias.canary is None and came_from not in ("", alias.version):
        to_version = came_from
    if alias.canary is None and (command is Command.PROMOTE or to_version is None):
        hint = "deploy with canary-weight first" if command is Command.PROMOTE else "give to-version to point the alias at a given version"
        raise DeployError.about(
            "command",
            f"cannot {command}: no canary is in progress on alias '{alias.name}' (it points wholly at version {alias.version})",
            hint,
        )
    if to_version is not None and to_version not in state.lifecycle.versions:
        raise DeployError.about(
            "to-version",
            f"version {to_version} of function '{settings.function_name}' does not exist",
            "give a published version number (see the function's Versions tab)",
        )
    canary = alias.canary[0] if alias.canary else alias.version
    target = canary if command is Command.PROMOTE else (to_version or alias.version)
    code = state.latest.code_sha256
    return Plan(settings.function_name, alias.name, (FinishCanary(command, alias, target),), code, code, (), alias.version, alias.version)


def make_cleanup_plan(settings: Settings, state: FunctionState, previews: Sequence[Preview]) -> Plan:
    """Remove the previews: each one's public-URL statements, its URL, the alias; then prune.
    Only an alias marked as this run's preview (``ownership``) is removed; a named alias that
    is anything else is a ``DeployError`` that says whose it is."""
    for preview in previews:
        alias = preview.alias
        if alias is not None and not may_clean_up(settings.owner, alias):
            whose = (
                settings.owner.describe() if settings.owner else "anyone (outside GitHub, cleanup deletes only aliases marked as previews)"
            )
            raise DeployError.of(
                f"cleanup refused: alias '{alias.name}' is not the preview of {whose}; it is {owner_of(alias)}. Nothing was deleted",
                f"alias '{alias.name}'",
                "cleanup deletes only the preview aliases that this pull request's deploys created; to remove another alias, "
                "delete it yourself (aws lambda delete-alias)",
            )
    steps: list[Step] = []
    for preview in previews:
        if held := tuple(sid for sid in PUBLIC_URL_STATEMENTS if sid in preview.statements):
            steps.append(RevokeUrlPermissions(preview.name, held))
        if preview.url is not None:
            steps.append(DeleteFunctionUrl(preview.name))
        if preview.alias is not None:
            steps.append(DeleteAlias(preview.alias.name, preview.alias.version, preview.alias.description))
    removed = {preview.name for preview in previews}
    remaining = [a for a in state.lifecycle.aliases if a.name not in removed]
    steps.extend(_prune_steps(settings, state, state.lifecycle.versions, remaining))
    code = state.latest.code_sha256 if state.latest else ""
    previous = next((preview.alias.version for preview in previews if preview.alias is not None), "")
    return Plan(settings.function_name, settings.alias, tuple(steps), code, code, (), previous, None)
