"""``cleanup``: remove a pull request's previews, then prune.

On a pull request with no ``alias``: every alias that carries the pull request's preview
marker, whatever branch made it, with each one's function URL and the URL's permission
statements; with ``alias``: that alias, if it is a preview this run may remove. Then
``keep-versions`` prunes. What is already gone is a notice; nothing is reported removed that
was not there.
"""

from __future__ import annotations

from . import functions
from .base import Spec

SPEC = Spec(
    "delete the pull request's preview aliases, their function URLs and the URLs' permissions, then prune with --keep-versions",
    functions.run,
    in_action=True,
)
