"""What GitHub would render from the action's Markdown, read with a CommonMark parser (markdown-it-py).

``problems(markdown)`` lists what must never be in a summary or a comment: HTML other than the
action's own tags, a mention (``@name`` in text, which notifies that user), or a raw control or
bidi character. ``code_spans(markdown)`` gives the literal text of every code span, so a test
can check that a name is shown whole. Tables are parsed as GitHub's flavour does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from markdown_it import MarkdownIt

# The action's own HTML: folded sections, line breaks in cells, the footer, and the hidden marker.
OWN_TAGS = re.compile(r"<(/?details|/?summary|br|/?sub)>|<!-- lambda-deploy (preview|diff): [A-Za-z0-9_:./ -]+ -->\Z")
MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]")
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table").enable("strikethrough")


def tokens(markdown: str) -> Iterator[Any]:
    for token in _parser().parse(markdown):
        yield token
        yield from token.children or ()


def problems(markdown: str) -> list[str]:
    found = []
    for token in tokens(markdown):
        if token.type in ("html_block", "html_inline"):
            for tag in re.findall(r"<!--.*?-->|<[^>]*>", token.content, flags=re.S):
                if not OWN_TAGS.match(tag):
                    found.append(f"HTML that is not the action's own: {tag!r}")
            if token.type == "html_inline" and not re.findall(r"<[^>]*>", token.content):
                found.append(f"HTML: {token.content!r}")
        if token.type == "text" and MENTION.search(token.content):
            found.append(f"a mention: {token.content!r}")
    if RAW.search(markdown):
        found.append("a raw control or bidi character")
    return found


def code_spans(markdown: str) -> list[str]:
    return [token.content for token in tokens(markdown) if token.type == "code_inline"]
