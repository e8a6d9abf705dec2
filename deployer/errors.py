"""Errors a user can act on, kept apart from bugs.

A ``DeployError`` says *what* went wrong, *where* (an input name, a file, an AWS
resource) and a *hint* with the allowed values or the fix. Anything else that escapes
the pipeline is a bug in lambda-deploy and is reported as such (exit code 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the inputs or the world; rendered as one ``::error::``.

    ``file`` and ``line`` point into a file the user wrote (the deploy file), so the
    runner can annotate that line.
    """

    what: str
    where: str = ""
    hint: str = ""
    file: str = ""
    line: int = 0
    input: str = ""  # the action input (deploy-file key, CLI flag) it is about, when it is about one
    terminal_hint: str = ""  # the hint for someone at a terminal, when it differs from a workflow's

    def render(self, terminal: bool = False) -> str:
        """One line; at a terminal an input is named by its flag and the terminal's hint is given."""
        hint = self.terminal_hint if terminal and self.terminal_hint else self.hint
        place = f"--{self.input}" if terminal and self.input and not self.where else self.place
        text = f"{place}: {self.what}" if place else self.what
        return f"{text}. {hint}" if hint else text

    @property
    def place(self) -> str:
        return self.where or (f"input '{self.input}'" if self.input else "")


class DeployError(Exception):
    """A failure the user can fix; carries one or more problems. Exit code 1."""

    def __init__(self, *problems: Problem) -> None:
        if not problems:
            raise ValueError("DeployError needs at least one problem")
        self.problems = problems
        super().__init__("; ".join(p.render() for p in problems))

    @classmethod
    def of(cls, what: str, where: str = "", hint: str = "") -> Self:
        return cls(Problem(what, where, hint))

    @classmethod
    def about(cls, input_id: str, what: str, hint: str = "") -> Self:
        """A problem with one input: the deploy file points at its key, the CLI names its flag."""
        return cls(Problem(what, hint=hint, input=input_id))


class InputError(DeployError):
    """What was given is wrong (an input, the deploy file, a CLI flag): found before any AWS call."""


class RefusedError(DeployError):
    """AWS refused who we are or what we asked (access denied, bad or missing credentials):
    trying again cannot help; the role or the credentials must change."""


class ConflictError(DeployError):
    """Someone else changed the function or alias while we were working."""


class TransientError(DeployError):
    """It may pass if tried again later: AWS throttled or failed the call (5xx) through
    botocore's retries, or could not be reached. The only kind worth retrying."""


class ConnectionLost(TransientError):
    """AWS could not be reached, or stopped answering, after botocore's retries."""


class GroupBusy(DeployError):
    """CodeDeploy refused a deployment because the group already runs one (one at a time)."""


class ProvisioningFailed(DeployError):
    """An alias's provisioned concurrency reported FAILED: a rollout treats it as a failed gate."""


class RunnerFileError(DeployError):
    """A file the runner handed the step (GITHUB_OUTPUT) could not be written: the runner's problem,
    said plainly, never a bug of lambda-deploy."""


class Cancelled(Exception):
    """The runner asked us to stop (SIGTERM / SIGINT)."""
