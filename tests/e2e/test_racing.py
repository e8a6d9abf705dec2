"""Two deploys of one function at once, as two runners would run them.

The sandbox holds both uploads until both have arrived, so they really overlap. Lambda
takes one; the other finds the function busy (409), waits, and then meets a RevisionId
that the winner used up (412). Exactly one publishes and moves the alias; the other
stops and says why; and no run that exits 0 claims code its version does not hold.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from deployer.sandbox import Sandbox
from tests.e2e.runner import create_inputs, run_action, start_action


@pytest.mark.parametrize("trial", range(3))
def test_racing_deploys_have_exactly_one_winner(
    sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any, tmp_path: Path, trial: int
) -> None:
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]
    assert run_action(workspace, sandbox, create_inputs(role_arn)).returncode == 0
    other = tmp_path / f"other-{trial}"
    shutil.copytree(workspace, other)
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'from A'\n")
    (other / "app" / "handler.py").write_text("def handler(event, context):\n    return 'from B'\n")
    sandbox.fidelity.rendezvous("UpdateFunctionCode", parties=2)  # type: ignore[union-attr]
    inputs = {"function-name": "orders", "source": "app", "alias": "live"}
    started = [
        start_action(workspace, sandbox, inputs, file_commands=tmp_path / f"cmds-a-{trial}"),
        start_action(other, sandbox, inputs, file_commands=tmp_path / f"cmds-b-{trial}"),
    ]
    runs = [step.result(process.wait(timeout=120), *process.communicate()) for process, step in started]
    winners = [run for run in runs if run.returncode == 0]
    losers = [run for run in runs if run.returncode != 0]
    assert len(winners) == 1 and len(losers) == 1, [(r.returncode, r.stdout[-600:]) for r in runs]
    winner, loser = winners[0], losers[0]
    assert loser.returncode == 1 and "Traceback" not in loser.stdout + loser.stderr
    assert any("was changed by another deploy while this one ran; nothing of ours was published" in e for e in loser.errors)
    assert (winner.outputs["status"], winner.outputs["version"]) == ("deployed", "2")
    version = lambda_client.get_function_configuration(FunctionName="orders", Qualifier=winner.outputs["version"])
    assert version["CodeSha256"] == winner.outputs["code-sha256"]
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "2"
    listed = lambda_client.list_versions_by_function(FunctionName="orders")["Versions"]
    assert [v["Version"] for v in listed] == ["$LATEST", "1", "2"]
    sandbox.fidelity.in_progress_reads = 2  # type: ignore[union-attr]
