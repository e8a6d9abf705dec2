"""Runner emulation: run entrypoint.py the way GitHub's runner runs a container action.

Inputs become ``INPUT_<ID>`` variables built from action.yml with its defaults, the
step gets fresh ``GITHUB_OUTPUT`` / ``GITHUB_STEP_SUMMARY`` files that are parsed with
the runner's heredoc rules afterwards, and AWS is the sandbox on loopback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from deployer.sandbox import Sandbox
from tests.conftest import ROOT
from tests.unit.test_report import parse_github_output


@dataclass(frozen=True)
class ActionRun:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str

    @property
    def errors(self) -> list[str]:
        """``::error`` lines as the runner shows them (workflow-command escapes undone)."""
        lines = [line for line in self.stdout.splitlines() if line.startswith("::error")]
        return [line.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%") for line in lines]


def create_inputs(role_arn: str) -> dict[str, str]:
    """Inputs that create the sample function ``orders`` (workspace ``app/``) with alias ``live``."""
    return {
        "function-name": "orders",
        "source": "app",
        "alias": "live",
        "role": role_arn,
        "runtime": "python3.12",
        "handler": "handler.handler",
    }


def input_env(given: dict[str, str]) -> dict[str, str]:
    """What the runner sets: every declared input, given value or action.yml default."""
    declared = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    unknown = set(given) - set(declared)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    return {f"INPUT_{name.upper().replace(' ', '_')}": given.get(name, str(spec.get("default", ""))) for name, spec in declared.items()}


def github_env(event: str = "push", ref_name: str = "main", head_ref: str = "") -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_REF_NAME": ref_name,
        "GITHUB_REF": f"refs/heads/{ref_name}",
        "GITHUB_HEAD_REF": head_ref,
        "GITHUB_SHA": "5ca1ab1e" * 5,
        "GITHUB_RUN_ID": "4242",
        "GITHUB_ACTOR": "octocat",
        "GITHUB_REPOSITORY": "octo/orders",
    }


@dataclass(frozen=True)
class Step:
    """One prepared step: the environment the runner would give it and its file commands."""

    env: dict[str, str]
    output: Path
    summary: Path

    def result(self, returncode: int, stdout: str, stderr: str) -> ActionRun:
        outputs = parse_github_output(self.output.read_text() if self.output.is_file() else "")
        return ActionRun(returncode, stdout, stderr, outputs, self.summary.read_text())


def prepare(
    workspace: Path,
    sandbox: Sandbox,
    inputs: dict[str, str],
    github: dict[str, str] | None = None,
    file_commands: Path | None = None,
) -> Step:
    files = file_commands or workspace.parent / f"file_commands_{os.getpid()}"
    files.mkdir(exist_ok=True)
    output, summary = files / "output", files / "summary"
    for path in (output, summary):
        if not path.is_dir():  # a test may make one a directory to provoke a failure
            path.write_text("")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workspace.parent),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        **sandbox.env(),
        **(github if github is not None else github_env()),
        **input_env(inputs),
    }
    return Step(env, output, summary)


ENTRYPOINT = [sys.executable, str(ROOT / "entrypoint.py")]


def run_action(
    workspace: Path,
    sandbox: Sandbox,
    inputs: dict[str, str],
    github: dict[str, str] | None = None,
    file_commands: Path | None = None,
) -> ActionRun:
    step = prepare(workspace, sandbox, inputs, github, file_commands)
    done = subprocess.run(ENTRYPOINT, cwd=workspace, env=step.env, capture_output=True, text=True, timeout=120, check=False)
    return step.result(done.returncode, done.stdout, done.stderr)


def start_action(workspace: Path, sandbox: Sandbox, inputs: dict[str, str]) -> tuple[subprocess.Popen[str], Step]:
    """Start the step without waiting, for tests that act while it runs."""
    step = prepare(workspace, sandbox, inputs)
    process = subprocess.Popen(ENTRYPOINT, cwd=workspace, env=step.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, step
