"""Which preview aliases a run uses or removes: the one a pull request owns, never someone else's.

Contract: ``claim_preview_alias(settings, services, io)`` gives a derived (preview) alias the
name it may use (``ownership.choose_preview_alias``: the alias it owns, else the derived name
when it is free, else a distinct fallback) and says when it is not the derived name;
``previews_to_remove(settings, state, services, io)`` gives a cleanup every alias that
carries this pull request's (or branch's) marker, whatever branch name made it, each with
its function URL and our public-URL statements; a named alias is that alias alone. Both read
AWS, neither changes it.
"""

from __future__ import annotations

from dataclasses import replace

from .aws import Services
from .github import Reporter
from .model import AliasState, Command, FunctionState, Preview
from .ownership import choose_preview_alias, owner_of, owns
from .settings import Settings


def claim_preview_alias(settings: Settings, services: Services, io: Reporter) -> Settings:
    """A derived (preview) alias: the one this pull request or branch owns, else the derived
    name when it is free, else a distinct fallback (``ownership.choose_preview_alias``).
    A cleanup claims nothing: it removes every alias this preview owns (``_previews_to_remove``)."""
    owner = settings.owner
    if not settings.alias_derived or owner is None or settings.command is Command.CLEANUP:  # a cleanup removes every alias it owns
        return settings
    base, fallback = settings.alias, owner.fallback(settings.alias)
    existing = {name: services.lambda_.get_alias(settings.function_name, name) for name in (base, fallback)}
    reserved = frozenset(name for name in (settings.rollout.previous_alias,) if name)
    chosen = choose_preview_alias(base, owner, existing, reserved)
    if chosen != base:
        taken = existing[base]
        whose = owner_of(taken) if taken is not None else "the previous-alias"
        io.notice(f"alias {base} is {whose}, not the preview of {owner.describe()}; this preview uses alias {chosen}")
    return replace(settings, alias=chosen)


def previews_to_remove(settings: Settings, state: FunctionState, services: Services, io: Reporter) -> tuple[Preview, ...]:
    """A derived (preview) cleanup removes every alias marked as this pull request's (or branch's)
    preview, whatever branch name made it; a named alias is that alias alone (refused by the plan
    if it is not a preview this run may remove). What is already gone is a notice."""
    named = Preview(settings.alias, state.alias, state.lifecycle.url, state.lifecycle.statements)
    if state.latest is not None and state.alias is None:
        io.notice(f"alias {settings.alias} does not exist (already removed?); removing only what is left of it")
    if not (settings.alias_derived and settings.owner is not None):
        return (named,) if state.latest is not None else ()
    owner = settings.owner
    owned = [alias for alias in state.lifecycle.aliases if owns(owner, alias)]
    if state.alias is not None and not owns(owner, state.alias):
        io.notice(f"alias {settings.alias} is {owner_of(state.alias)}, not the preview of {owner.describe()}: it is left alone")
    if not owned:
        io.notice(f"no alias of function {settings.function_name} is the preview of {owner.describe()}: there is nothing to remove")
    previews = [named if alias.name == settings.alias else _preview_parts(services, settings.function_name, alias) for alias in owned]
    if state.alias is None and (named.url is not None or named.statements):  # what a half-finished cleanup left
        previews.append(named)
    return tuple(previews)


def _preview_parts(services: Services, function_name: str, alias: AliasState) -> Preview:
    gateway = services.lambda_
    return Preview(alias.name, alias, gateway.function_url(function_name, alias.name), gateway.url_statements(function_name, alias.name))
