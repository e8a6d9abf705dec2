"""Fixtures the CodeDeploy tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deployer.sandbox import Sandbox
from tests.conftest import create_codedeploy_group
from tests.functional.test_codedeploy import run


@pytest.fixture
def live_v1(sandbox: Sandbox, workspace: Path, role_arn: str) -> Iterator[Path]:
    sandbox.fidelity.in_progress_reads = 0  # type: ignore[union-attr]
    assert run(workspace, role=role_arn, runtime="python3.12", handler="handler.handler").version == "1"
    create_codedeploy_group(role_arn)
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'v2'\n")
    yield workspace
    sandbox.fidelity.in_progress_reads = 2  # type: ignore[union-attr]
