"""Untrusted text made inert for a terminal and for Markdown (pure).

Contract: ``printable(text)`` shows every terminal control character (C0 but line feed and
tab, DEL, C1: ESC, BEL, CR, the OSC and CSI introducers) as a visible ``\\xNN`` escape, and
every bidirectional control (the embeddings, overrides and isolates U+202A..U+202E and
U+2066..U+2069, the marks U+200E, U+200F, U+061C) and the line and paragraph separators
U+2028/U+2029 as a ``\\uNNNN`` escape, so a description, a branch name or an answer from AWS
can neither recolour, retitle or rewrite the log, nor hide a line behind a carriage return,
nor show its text in another order than it is stored (the "Trojan Source" trick).

The one way untrusted text goes into Markdown (the job summary, the pull-request comment, the
``diff``): ``markdown_text(text)`` for prose, which also escapes what Markdown and HTML would
interpret (``<``, ``>``, ``&``, emphasis, links, code spans, strike-through, table pipes) and
breaks ``@mentions``; ``code_span(text)`` for a literal (a file name, an artifact), fenced so
that nothing in it can close it.
"""

from __future__ import annotations

import re

# C0 without \t and \n, DEL, and C1 (U+0080..U+009F).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidirectional controls and the Unicode line separators: invisible, and they reorder or split what is shown.
_INVISIBLE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_BACKTICKS = re.compile(r"`+")
# An @ that GitHub would read as a mention (of a user or a team).
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
# Underscores inside a word (LOG_LEVEL) never emphasise in GitHub's Markdown: only the others are escaped.
_MARKDOWN = re.compile(r"([\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")


def printable(text: str) -> str:
    shown = _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)
    return _INVISIBLE.sub(lambda found: f"\\u{ord(found.group()):04x}", shown)


def markdown_text(text: str) -> str:
    """One line of untrusted text, shown as it is in Markdown (and inside a table cell): HTML
    characters escaped, Markdown's own escaped, and ``@name`` broken by a zero-width space so
    it mentions nobody."""
    shown = printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MENTION.sub("@\u200b", _MARKDOWN.sub(r"\\\1", shown).replace("\n", " "))


def code_span(text: str, in_table: bool = False) -> str:
    """Untrusted text as a CommonMark code span, shown literally: the backtick fence is longer
    than any run of backticks in the text, so nothing inside can close it; a space pads the
    text when it starts or ends with a backtick or a space (CommonMark strips one each side);
    line breaks become spaces and control characters are escaped. Inside a table cell a pipe
    is escaped too (GitHub's tables split cells on pipes before they read code spans)."""
    shown = printable(text).replace("\n", " ")
    longest = max((len(run) for run in _BACKTICKS.findall(shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if shown[:1] in ("`", " ") or shown[-1:] in ("`", " ") or not shown else ""
    return f"{fence}{pad}{shown.replace('|', chr(92) + '|') if in_table else shown}{pad}{fence}"


def counted(number: int, noun: str) -> str:
    """``1 function``, ``2 functions``: the nouns the summaries count take a plain ``s``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
