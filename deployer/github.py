"""How the deployer talks back: GitHub's workflow commands, or a plain console.

Contract: ``ActionsIO`` is the only code that knows the runner's file commands
(``GITHUB_OUTPUT`` with heredoc delimiters, ``GITHUB_STEP_SUMMARY``) and stdout
workflow commands (``::group::``, ``::error::``, ``::add-mask::``), escaped as the
runner expects. ``ConsoleIO`` offers the same surface for the command line. Secrets
are masked through ``mask`` before anything could print them.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol, TextIO

from .errors import Problem


class Reporter(Protocol):
    def mask(self, value: str) -> None: ...
    def group(self, title: str) -> AbstractContextManager[None]: ...
    def info(self, text: str) -> None: ...
    def warning(self, text: str) -> None: ...
    def error(self, problem: Problem) -> None: ...
    def outputs(self, values: Mapping[str, str]) -> None: ...
    def summary(self, markdown: str) -> None: ...


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def heredoc(name: str, value: str) -> str:
    """``name<<DELIM`` block with a delimiter that cannot occur in the value."""
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while delimiter in value:  # astronomically unlikely, but a collision would corrupt outputs
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


class ActionsIO:
    def __init__(self, env: Mapping[str, str], out: TextIO = sys.stdout) -> None:
        self._out = out
        self._output_file = env.get("GITHUB_OUTPUT", "")
        self._summary_file = env.get("GITHUB_STEP_SUMMARY", "")

    def _command(self, line: str) -> None:
        self._out.write(line + "\n")
        self._out.flush()

    def mask(self, value: str) -> None:
        for line in value.splitlines():  # the runner masks line by line
            if line.strip():
                self._command(f"::add-mask::{escape_data(line)}")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._command(f"::group::{escape_data(title)}")
        try:
            yield
        finally:
            self._command("::endgroup::")

    def info(self, text: str) -> None:
        self._command(text)

    def warning(self, text: str) -> None:
        self._command(f"::warning::{escape_data(text)}")

    def error(self, problem: Problem) -> None:
        title = f" title={escape_property(problem.where)}" if problem.where else ""
        self._command(f"::error{title}::{escape_data(problem.render())}")

    def outputs(self, values: Mapping[str, str]) -> None:
        if not self._output_file:
            self.warning("GITHUB_OUTPUT is not set; step outputs are not written")
            return
        with Path(self._output_file).open("a", encoding="utf-8") as handle:
            handle.writelines(heredoc(name, value) for name, value in values.items())

    def summary(self, markdown: str) -> None:
        if self._summary_file:
            with Path(self._summary_file).open("a", encoding="utf-8") as handle:
                handle.write(markdown + "\n")


class ConsoleIO:
    """Human-readable progress on stderr (stdout stays free for ``--json``)."""

    def __init__(self, out: TextIO = sys.stderr, show_summary: bool = True) -> None:
        self._out = out
        self._show_summary = show_summary
        self._masked: list[str] = []

    def _print(self, text: str) -> None:
        for secret in self._masked:
            text = text.replace(secret, "***")
        self._out.write(text + "\n")
        self._out.flush()

    def mask(self, value: str) -> None:
        self._masked.extend(line for line in value.splitlines() if line.strip())

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._print(f"▸ {title}")
        yield

    def info(self, text: str) -> None:
        self._print(f"  {text}")

    def warning(self, text: str) -> None:
        self._print(f"warning: {text}")

    def error(self, problem: Problem) -> None:
        self._print(f"error: {problem.render()}")

    def outputs(self, values: Mapping[str, str]) -> None:
        return None  # the summary and --json carry the same facts on the console

    def summary(self, markdown: str) -> None:
        if self._show_summary:
            self._print("\n" + markdown)
