"""``deploy``: package, update, publish and move the alias (the action's default command).

Every action input is a ``--flag`` of this command; ``--dry-run`` (or the ``plan``
subcommand) computes and shows the plan and changes nothing. With ``config``, every function
of the deploy file is deployed, ``max-parallel`` at a time.
"""

from __future__ import annotations

from . import functions
from .base import Spec

SPEC = Spec("package, update, publish and move the alias; --dry-run shows the plan and changes nothing", functions.run, in_action=True)
