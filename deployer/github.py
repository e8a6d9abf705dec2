"""How the deployer talks back: GitHub's workflow commands, or a plain console.

Contract: ``ActionsIO`` is the only code that knows the runner's file commands
(``GITHUB_OUTPUT`` with heredoc delimiters, ``GITHUB_STEP_SUMMARY``) and stdout
workflow commands (``::group::``, ``::error::``, ``::add-mask::``), escaped as the
runner expects. ``ConsoleIO`` offers the same surface for the command line. Secrets
are masked through ``mask`` before anything could print them.

Terminal control characters (ESC, BEL, CR, C1) in any text are shown escaped
(``text.printable``) in the log and the summary. Untrusted text (a description, a tag, an alarm name, a file name, an answer from AWS
or from the function) never reaches the runner as a command. The runner reads a line
as a command when, trimmed, it starts with ``::``, or when it holds the legacy ``##[``
anywhere. Inside our own commands the text is escaped (``%``, CR and LF, and in
properties ``:`` and ``,``), so it stays one inert line. Plain log text that could
parse is wrapped in ``::stop-commands::TOKEN`` ... ``::TOKEN::`` with a fresh random
token, GitHub's documented way to echo untrusted output.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol, TextIO

from .errors import Problem, RunnerFileError
from .text import printable


class Reporter(Protocol):
    def mask(self, value: str) -> None: ...
    def group(self, title: str) -> AbstractContextManager[None]: ...
    def info(self, text: str) -> None: ...
    def notice(self, text: str) -> None: ...
    def warning(self, text: str) -> None: ...
    def error(self, problem: Problem) -> None: ...
    def outputs(self, values: Mapping[str, str]) -> None: ...
    def summary(self, markdown: str) -> None: ...


def could_be_command(text: str) -> bool:
    """Whether the runner could read any line of ``text`` as a workflow command.

    Splits on every line break Python knows, a superset of the runner's CR, LF and CRLF.
    """
    return any(line.lstrip().startswith("::") or "##[" in line for line in text.splitlines())


def inert(text: str) -> str:
    """``text`` as lines the runner echoes but never runs: wrapped in stop-commands when needed."""
    if not could_be_command(text):
        return text
    token = secrets.token_hex(16)
    while token in text:  # astronomically unlikely; the token must not resume early
        token = secrets.token_hex(16)
    return f"::stop-commands::{token}\n{text}\n::{token}::"


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
        self._summary_failed = False

    def _command(self, line: str) -> None:
        # Terminal control characters never reach the log raw, whoever wrote the text.
        self._out.write(printable(line) + "\n")
        self._out.flush()

    def mask(self, value: str) -> None:
        for line in value.splitlines():  # the runner masks line by line
            if line.strip():
                self._command(f"::add-mask::{escape_data(line)}")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._command(f"::group::{escape_data(printable(title))}")
        try:
            yield
        finally:
            self._command("::endgroup::")

    def info(self, text: str) -> None:
        self._command(inert(text))

    def notice(self, text: str) -> None:
        self._command(f"::notice::{escape_data(printable(text))}")

    def warning(self, text: str) -> None:
        self._command(f"::warning::{escape_data(printable(text))}")

    def error(self, problem: Problem) -> None:
        properties = [("file", problem.file), ("line", str(problem.line) if problem.line else ""), ("title", problem.place)]
        given = ",".join(f"{name}={escape_property(printable(value))}" for name, value in properties if value)
        self._command(f"::error{' ' + given if given else ''}::{escape_data(printable(problem.render()))}")

    def outputs(self, values: Mapping[str, str]) -> None:
        """Append the outputs; a file the runner gave that cannot be written is ``RunnerFileError``:
        later steps would read outputs that are not there, so the step must fail, and say so."""
        if not self._output_file:
            self.warning("GITHUB_OUTPUT is not set; step outputs are not written")
            return
        try:
            with Path(self._output_file).open("a", encoding="utf-8") as handle:
                handle.writelines(heredoc(name, value) for name, value in values.items())
        except OSError as error:
            raise RunnerFileError.of(
                f"the step outputs could not be written to GITHUB_OUTPUT ({self._output_file}): {error.strerror or error}",
                "the runner's GITHUB_OUTPUT file",
                "later steps cannot read this step's outputs; check the runner (a self-hosted runner's disk, permissions, "
                "or a container option that hides the file)",
            ) from None

    def summary(self, markdown: str) -> None:
        """Append to the job summary. The summary is a report, not an outcome: a file that cannot
        be written is a warning, and the deploy's own outcome stands."""
        if not self._summary_file or self._summary_failed:
            return
        try:
            with Path(self._summary_file).open("a", encoding="utf-8") as handle:
                handle.write(printable(markdown) + "\n")
        except OSError as error:
            self._summary_failed = True
            self.warning(
                f"the job summary could not be written to GITHUB_STEP_SUMMARY ({self._summary_file}): "
                f"{error.strerror or error}; the deploy's outcome is in this log and the step outputs"
            )


class ConsoleIO:
    """Human-readable progress on stderr (stdout stays free for ``--json``)."""

    def __init__(self, out: TextIO = sys.stderr, show_summary: bool = True) -> None:
        self._out = out
        self._show_summary = show_summary
        self._masked: list[str] = []

    def _clean(self, text: str) -> str:
        for secret in self._masked:
            text = text.replace(secret, "***")
        # The console may itself be a workflow step's log (the CLI run from a `run:` step),
        # or a terminal that would obey control characters.
        return inert(printable(text))

    def _print(self, text: str) -> None:
        self._out.write(self._clean(text) + "\n")
        self._out.flush()

    def mask(self, value: str) -> None:
        self._masked.extend(line for line in value.splitlines() if line.strip())

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._print(f"▸ {title}")
        yield

    def info(self, text: str) -> None:
        self._print(f"  {text}")

    def notice(self, text: str) -> None:
        self._print(f"notice: {text}")

    def warning(self, text: str) -> None:
        self._print(f"warning: {text}")

    def error(self, problem: Problem) -> None:
        at = f"{problem.file}:{problem.line}: " if problem.file else ""
        self._print(f"error: {at}{problem.render(terminal=True)}")

    def outputs(self, values: Mapping[str, str]) -> None:
        return None  # the summary and --json carry the same facts on the console

    def summary(self, markdown: str) -> None:
        """The summary as terminal text (tables, colour on a colour terminal), never Markdown source."""
        if not self._show_summary:
            return
        from .terminal import TERMINAL_WIDTH, render  # noqa: PLC0415 - rich loads for a terminal's summary only: the action never needs it

        tty = self._out.isatty()
        colour = tty and "NO_COLOR" not in os.environ
        width = shutil.get_terminal_size((TERMINAL_WIDTH, 24)).columns if tty else TERMINAL_WIDTH
        # Cleaned before it is drawn: the colour rich adds is the only control text written.
        self._out.write("\n" + inert(render(self._clean(markdown), width, colour)) + "\n")
        self._out.flush()
