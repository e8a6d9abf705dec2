"""Every command, one module each, behind one table.

Contract: ``COMMANDS`` maps each ``Command`` to its module's ``SPEC`` (``base.Spec``): a
summary, whether the action's ``command`` input may name it, its inputs and flags, its
``run``. ``app.run`` is the one dispatcher (the action and the CLI both call it); the CLI's
subcommands and ``--help`` are made from this table.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import Command
from . import cleanup, demo, deploy, diff, init, invoke, logs, promote, rollback, schema, status
from . import list as listing
from .base import Spec

COMMANDS: Mapping[Command, Spec] = {
    Command.DEPLOY: deploy.SPEC,
    Command.DIFF: diff.SPEC,
    Command.PROMOTE: promote.SPEC,
    Command.ROLLBACK: rollback.SPEC,
    Command.CLEANUP: cleanup.SPEC,
    Command.LIST: listing.SPEC,
    Command.STATUS: status.SPEC,
    Command.INIT: init.SPEC,
    Command.LOGS: logs.SPEC,
    Command.INVOKE: invoke.SPEC,
    Command.SCHEMA: schema.SPEC,
    Command.DEMO: demo.SPEC,
}
ACTION_COMMANDS = tuple(command for command, spec in COMMANDS.items() if spec.in_action)
