"""``promote``: the alias goes wholly to its canary version, its weights cleared.

Refused while one of ``alarms`` is in ``ALARM``, when no canary is open, and (with ``engine:
codedeploy``) while a CodeDeploy deployment shifts the alias.
"""

from __future__ import annotations

from . import functions
from .base import Spec

SPEC = Spec("move the alias wholly to its canary version and clear its weights", functions.run, in_action=True)
