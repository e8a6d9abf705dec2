"""The job summary as terminal text: what a workflow shows as Markdown, a terminal shows as
tables and (on a colour terminal) colour, rendered by ``rich``, never as Markdown source.

Contract: ``render(markdown, width, colour)`` takes a summary the action writes to
``GITHUB_STEP_SUMMARY`` (already made printable and masked by the caller) and returns text
for a terminal: headings, lists and tables as rich draws them, with the summary's own HTML
taken apart first (a ``<details><summary>`` fold becomes a bold title, ``<br>`` in a cell a
line break, ``<sub>`` footers and hidden comment markers go) and its Mermaid charts left out
(each chart's data is the table beside it). Only the command line uses this module.
"""

from __future__ import annotations

import io
import re
from typing import ClassVar

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import Markdown, MarkdownElement, TableElement
from rich.table import Table
from rich.text import Text

TERMINAL_WIDTH = 100  # when the output is not a terminal (a file, a pipe, a test)
LINE_BREAK = "\u2424"  # stands for a <br> inside a table cell until the cell is drawn (a row must stay one line)
_FOLD_TITLE = re.compile(r"<details>\s*<summary>(.*?)</summary>", re.DOTALL)
_CHART = re.compile(r"^```mermaid\n.*?^```\n?", re.DOTALL | re.MULTILINE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TAGS = re.compile(r"</?(?:details|summary|sub|sup)>")


def plain_markdown(markdown: str) -> str:
    """The summary's Markdown without the HTML and charts a terminal cannot show."""
    text = _CHART.sub("", markdown)
    text = _COMMENT.sub("", text)
    text = _FOLD_TITLE.sub(lambda match: f"**{match.group(1).strip()}**", text)
    text = text.replace("<br>", LINE_BREAK)
    return _TAGS.sub("", text)


class _Table(TableElement):
    """rich's Markdown table, but a table with an empty header row (the summary's two-column
    "| | |" facts) is drawn without one, and a cell's line breaks are kept."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        headings = [cell.content for cell in self.header.row.cells] if self.header is not None and self.header.row is not None else []
        table = Table(box=box.SIMPLE, pad_edge=False, show_edge=False, show_header=any(h.plain.strip() for h in headings))
        for heading in headings:
            table.add_column(heading)
        if not headings and self.body is not None and self.body.rows:
            for _ in self.body.rows[0].cells:
                table.add_column()
        if self.body is not None:
            for row in self.body.rows:
                table.add_row(*(Text("\n").join(cell.content.split(LINE_BREAK)) for cell in row.cells))
        yield table


class _Markdown(Markdown):
    elements: ClassVar[dict[str, type[MarkdownElement]]] = {**Markdown.elements, "table_open": _Table}


def render(markdown: str, width: int = TERMINAL_WIDTH, colour: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=colour,
        color_system="standard" if colour else None,
        no_color=not colour,
        highlight=False,
        emoji=False,
    )
    console.print(_Markdown(plain_markdown(markdown), hyperlinks=False))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()).strip("\n")
