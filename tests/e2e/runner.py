"""Runner emulation: run entrypoint.py the way GitHub's runner runs a container action.

Inputs become ``INPUT_<ID>`` variables built from action.yml with its defaults, the
step gets fresh ``GITHUB_OUTPUT`` / ``GITHUB_STEP_SUMMARY`` files that are parsed with
the runner's heredoc rules afterwards, and AWS is the sandbox on loopback.

The step's log is read the way the runner reads it (``workflow_commands``: a trimmed
line starting with ``::``, the legacy ``##[`` anywhere in a line, ``stop-commands``
honoured), and every run is checked for log hygiene: no command other than the ones
the action issues itself, and no secret anywhere but in ``::add-mask::``.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from deployer.masking import values_to_mask
from deployer.sandbox import Sandbox
from deployer.settings import parse_environment
from tests.conftest import ROOT
from tests.unit.test_report import parse_github_output

# The runner's registered commands (its ActionCommandManager and the file-command era's
# leftovers); names compare without regard to case.
RUNNER_COMMANDS = frozenset(
    {"set-env", "set-output", "save-state", "add-path", "add-mask", "add-matcher", "remove-matcher", "warning", "error",
     "notice", "debug", "group", "endgroup", "echo", "stop-commands"}
)  # fmt: skip
ISSUED_BY_THE_ACTION = frozenset({"group", "endgroup", "error", "warning", "notice", "debug", "add-mask"})


@dataclass(frozen=True)
class Command:
    name: str
    properties: dict[str, str]
    data: str
    line: str


def _unescape(text: str, mapping: Iterable[tuple[str, str]]) -> str:
    for escaped, plain in mapping:
        text = text.replace(escaped, plain)
    return text


_DATA = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))
_PROPERTY = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))


def _parse_v2(line: str, registered: set[str]) -> Command | None:
    message = line.lstrip()
    end = message.find("::", 2)
    if not message.startswith("::") or end < 0:
        return None
    name, _, raw = message[2:end].partition(" ")
    if name.lower() not in registered:
        return None
    pairs = (item.partition("=") for item in raw.strip().split(",") if item)
    properties = {key: _unescape(value, _PROPERTY) for key, eq, value in pairs if eq and key and value}
    return Command(name.lower(), properties, _unescape(message[end + 2 :], _DATA), line)


def _parse_v1(line: str, registered: set[str]) -> Command | None:
    start = line.find("##[")
    end = line.find("]", start)
    if start < 0 or end < 0:
        return None
    name, _, raw = line[start + 3 : end].partition(" ")
    if name.lower() not in registered:
        return None
    pairs = (item.partition("=") for item in raw.split(";") if item)
    return Command(name.lower(), {key: value for key, eq, value in pairs if eq}, line[end + 1 :], line)


def workflow_commands(log: str) -> list[Command]:
    """The commands the runner would carry out for this log, in order."""
    registered = set(RUNNER_COMMANDS)
    stop_token = ""
    commands: list[Command] = []
    for line in re.split(r"\r\n|\r|\n", log):
        command = _parse_v2(line, registered) or _parse_v1(line, registered)
        if command is None:
            continue
        if stop_token:
            if command.name == stop_token:
                registered.discard(stop_token)
                stop_token = ""
            continue
        if command.name == "stop-commands":
            stop_token = command.data.lower()
            registered.add(stop_token)
            continue
        commands.append(command)
    return commands


# Terminal control characters (C0 but tab and line feed, DEL, C1) and the invisible ones that
# reorder or split a line: bidirectional controls, the Unicode line and paragraph separators.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def log_problems(run: ActionRun) -> list[str]:
    """What is wrong with a run's log: commands the action did not issue, a secret shown, or
    a raw terminal control character anywhere the runner or a reader would show it."""
    problems = [f"the runner would run '{c.name}' from: {c.line!r}" for c in run.commands if c.name not in ISSUED_BY_THE_ACTION]
    shown = {"stdout": run.stdout, "stderr": run.stderr, "the summary": run.summary, **{f"output {k}": v for k, v in run.outputs.items()}}
    for where, text in shown.items():
        if found := RAW_CONTROL.search(text):
            problems.append(f"a raw control character {found.group()!r} in {where}")
    masked_before: dict[str, int] = {}
    lines = run.stdout.splitlines()
    for number, line in enumerate(lines):
        for secret in run.secrets:
            if secret in line:
                if line.startswith("::add-mask::"):
                    masked_before.setdefault(secret, number)
                elif secret not in masked_before:
                    problems.append(f"secret shown before it was masked, line {number + 1}")
    for secret in run.secrets:
        if secret in run.stderr or secret in run.summary or any(secret in value for value in run.outputs.values()):
            problems.append("a secret reached stderr, the summary or an output")
    return problems


@dataclass(frozen=True)
class ActionRun:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def calls(self) -> dict[str, int]:
        """The AWS calls the summary reports, by operation."""
        found = re.search(r"^\| AWS calls \| (.*) \|$", self.summary, flags=re.M)
        counted = (item.partition(" ×") for item in (found.group(1).split(", ") if found else []))
        return {name: int(times or 1) for name, _, times in counted}

    @property
    def commands(self) -> list[Command]:
        return workflow_commands(self.stdout + "\n" + self.stderr)

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


# What ${{ github.token }} evaluates to in these runs (a default in action.yml).
GITHUB_TOKEN = "ghs_fakeJobToken0123456789abcdef"


def input_values(given: dict[str, str]) -> dict[str, str]:
    """Every declared input: the given value or action.yml's default, evaluated as the runner does."""
    declared = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    unknown = set(given) - set(declared)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    values = {name: given.get(name, str(spec.get("default", ""))) for name, spec in declared.items()}
    return {name: value.replace("${{ github.token }}", GITHUB_TOKEN) for name, value in values.items()}


def input_env(given: dict[str, str]) -> dict[str, str]:
    """What the runner sets: ``INPUT_<ID>`` for every declared input."""
    return {f"INPUT_{name.upper().replace(' ', '_')}": value for name, value in input_values(given).items()}


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


def secrets_of(inputs: dict[str, str]) -> tuple[str, ...]:
    """Values a run must never show: environment values and tokens (long enough to be real)."""

    environment: dict[str, str] = {}
    if inputs.get("environment", "").strip():
        with contextlib.suppress(ValueError):  # a malformed environment is refused without echoing it
            environment = parse_environment(inputs["environment"])
    tokens = [inputs[name] for name in ("github-token",) if inputs.get(name)]
    return values_to_mask(environment, tokens)


@dataclass(frozen=True)
class Step:
    """One prepared step: the environment the runner would give it and its file commands."""

    env: dict[str, str]
    output: Path
    summary: Path
    secrets: tuple[str, ...] = ()

    def result(self, returncode: int, stdout: str, stderr: str) -> ActionRun:
        outputs = parse_github_output(self.output.read_text() if self.output.is_file() else "")
        run = ActionRun(returncode, stdout, stderr, outputs, self.summary.read_bytes().decode("utf-8"), self.secrets)
        problems = log_problems(run)
        assert not problems, "log hygiene:\n" + "\n".join(problems)
        return run


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
    secrets = secrets_of(input_values(inputs)) + tuple(v for k, v in env.items() if k == "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    return Step(env, output, summary, secrets)


ENTRYPOINT = [sys.executable, str(ROOT / "entrypoint.py")]


def run_action(
    workspace: Path,
    sandbox: Sandbox,
    inputs: dict[str, str],
    github: dict[str, str] | None = None,
    file_commands: Path | None = None,
) -> ActionRun:
    step = prepare(workspace, sandbox, inputs, github, file_commands)
    # Bytes, decoded here: text mode would turn a raw CR into a line break and hide it.
    done = subprocess.run(ENTRYPOINT, cwd=workspace, env=step.env, capture_output=True, timeout=120, check=False)
    return step.result(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))


def start_action(
    workspace: Path, sandbox: Sandbox, inputs: dict[str, str], file_commands: Path | None = None
) -> tuple[subprocess.Popen[str], Step]:
    """Start the step without waiting, for tests that act while it runs."""
    step = prepare(workspace, sandbox, inputs, file_commands=file_commands)
    process = subprocess.Popen(ENTRYPOINT, cwd=workspace, env=step.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, step
