"""The command line as a newcomer met it (adopting a console-made function, following the
README): each case as it was seen, run as a person runs it (``python -m deployer`` as a
subprocess against the sandbox, outside any workflow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from deployer.sandbox import Sandbox
from tests.conftest import ROOT, make_zip
from tests.e2e.test_operator_e2e import cli

HANDLER = "def handler(event, context):\n    return 'console'\n"


@pytest.fixture
def adopted(sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> Path:
    """A function made in the console, with no alias, and nothing of lambda-deploy's on it."""
    sandbox.fidelity.in_progress_reads = 0  # type: ignore[union-attr]
    lambda_client.create_function(
        FunctionName="orders",
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": HANDLER})},
    )
    yield workspace  # type: ignore[misc]
    sandbox.fidelity.in_progress_reads = 2  # type: ignore[union-attr]


def test_init_never_overwrites_without_force_and_writes_the_source_it_downloaded_to(sandbox: Sandbox, adopted: Path) -> None:
    first = cli(sandbox, adopted, "init", "--function-name", "orders", "--output", "deploy.yml", "--download-code", "src")
    assert first.returncode == 0, first.stderr
    assert yaml.safe_load((adopted / "deploy.yml").read_text())["functions"][0]["source"] == "src"
    (adopted / "deploy.yml").write_text("# my edits\n")
    (adopted / "src" / "handler.py").write_text("# my edits\n")
    (adopted / "src" / "mine.py").write_text("X = 1\n")

    again = cli(sandbox, adopted, "init", "--function-name", "orders", "--output", "deploy.yml", "--download-code", "src")
    assert again.returncode == 1 and "exists; init never overwrites a file unless asked" in again.stderr and "--force" in again.stderr
    assert (adopted / "deploy.yml").read_text() == "# my edits\n" and (adopted / "src" / "handler.py").read_text() == "# my edits\n"
    (adopted / "deploy.yml").unlink()
    into_edited = cli(sandbox, adopted, "init", "--function-name", "orders", "--output", "deploy.yml", "--download-code", "src")
    assert into_edited.returncode == 1 and "is not empty" in into_edited.stderr and not (adopted / "deploy.yml").exists()

    forced = cli(sandbox, adopted, "init", "--function-name", "orders", "--output", "deploy.yml", "--download-code", "src", "--force")
    assert forced.returncode == 0, forced.stderr
    assert (adopted / "src" / "handler.py").read_text() == HANDLER and (adopted / "src" / "mine.py").exists()


def test_init_then_list_then_diff_outside_a_workflow(sandbox: Sandbox, adopted: Path) -> None:
    assert cli(sandbox, adopted, "init", "--function-name", "orders", "--output", "deploy.yml", "--download-code", "src").returncode == 0
    listed = cli(sandbox, adopted, "list", "--config", "deploy.yml")  # no alias anywhere: list needs none
    assert listed.returncode == 0 and listed.stdout.split() == ["orders"], listed.stderr
    no_branch = cli(sandbox, adopted, "diff", "--config", "deploy.yml")
    assert no_branch.returncode == 1 and "give --alias" in no_branch.stderr and "git checkout" in no_branch.stderr
    same = cli(sandbox, adopted, "diff", "--config", "deploy.yml", "--alias", "live")
    assert same.returncode == 3  # the alias does not exist yet: creating it is the one difference
    assert "create alias live" in same.stdout and "code" not in same.stdout.split("steps:")[0].replace("(alias live)", "")
    subprocess.run(["git", "init", "-q", "-b", "feature/login"], cwd=adopted, check=True)
    branch = cli(sandbox, adopted, "diff", "--config", "deploy.yml")
    assert branch.returncode == 3 and "create alias feature-login" in branch.stdout, branch.stdout + branch.stderr


def test_new_folders_and_folders_given_as_files_are_said_not_traced(sandbox: Sandbox, adopted: Path) -> None:
    nested = cli(sandbox, adopted, "init", "--function-name", "orders", "--output", "newdir/x.yml")
    assert nested.returncode == 0 and (adopted / "newdir" / "x.yml").is_file(), nested.stderr
    folder = cli(sandbox, adopted, "init", "--function-name", "orders", "--output", "newdir")
    assert folder.returncode == 1 and "newdir is a folder" in folder.stderr


@pytest.mark.parametrize("command", ["demo", "schema"])
def test_a_pipe_closed_early_ends_quietly(command: str) -> None:
    done = subprocess.run(
        f"{sys.executable} -m deployer {command} | head -1", shell=True, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.stdout.strip() and "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr + done.stdout
    assert "internal error" not in done.stderr + done.stdout


def test_cleanup_of_what_is_not_there_reports_nothing_removed(sandbox: Sandbox, workspace: Path) -> None:
    done = cli(sandbox, workspace, "cleanup", "--function-name", "nope", "--alias", "live")
    assert done.returncode == 0, done.stderr
    assert "removed" not in (done.stdout + done.stderr).replace("Aliases removed", "").lower()
    assert "Nothing to clean up" in done.stdout + done.stderr


def test_a_code_url_that_cannot_be_fetched_is_exit_1_with_the_reason_and_no_html(sandbox: Sandbox, adopted: Path) -> None:
    (adopted / "app" / "handler.py").write_text("def handler(event, context):\n    return 'new'\n")
    sandbox.fidelity.code_url_broken = True  # type: ignore[union-attr]
    done = cli(sandbox, adopted, "diff", "--function-name", "orders", "--source", "app", "--alias", "live")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the live package could not be downloaded (HTTP 404 Not Found)" in done.stderr
    assert "<html" not in done.stdout + done.stderr and "bug in lambda-deploy" not in done.stderr
    deployed = cli(sandbox, adopted, "deploy", "--function-name", "orders", "--source", "app", "--alias", "live")
    assert deployed.returncode == 0 and "the package is uploaded" in deployed.stderr, deployed.stderr  # a deploy only loses the saving


def test_a_terminal_is_told_in_terminal_terms(sandbox: Sandbox, adopted: Path) -> None:
    env_free = cli(sandbox, adopted, "diff", "--function-name", "orders", "--source", "app", "--alias", "live", "--json")
    assert "→" in env_free.stdout and "\\u2192" not in env_free.stdout  # JSON for people: the arrow as it is
    assert json.loads(env_free.stdout)["differs"] is True
    deployed = cli(sandbox, adopted, "deploy", "--function-name", "orders", "--source", "app", "--alias", "live")
    shown = deployed.stdout + deployed.stderr
    assert deployed.returncode == 0 and "Deployed" in shown
    assert "|---|" not in shown and "<details>" not in shown and "<br>" not in shown and "```mermaid" not in shown
    missing = cli(sandbox, adopted, "promote", "--function-name", "nope", "--alias", "live")
    assert missing.returncode == 1 and "will be created" not in missing.stderr
