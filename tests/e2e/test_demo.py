"""The README's first command: the demo runs its eight deploys against the embedded sandbox
and ends with exit 0, each step showing what it is there to show."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def test_the_demo_shows_every_step_and_ends_well() -> None:
    done = subprocess.run([sys.executable, "-m", "deployer", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    said = done.stdout + done.stderr
    assert done.returncode == 0, said[-3000:]
    assert [int(step) for step in re.findall(r"━━ Demo (\d)/8", said)] == list(range(1, 9))
    assert "no real AWS is reachable" in said and "Traceback" not in said
    assert "demo-secret-value" not in said  # an environment value is never printed
    # 7: the slow release is judged against the stable one and rolled back, naming both numbers.
    assert re.search(r"rolled-back: p99 \d+ ms vs stable \d+ ms: \+\d+%, limit \+25%", said), said[-3000:]
    # 8: three regions in two waves, one package.
    assert "Deployed in every wave" in said and said.count("(built once)") == 2
    assert said.index("wave one-box: bake passed") < said.index("wave europe: deploying to eu-west-1, eu-central-1")
    assert done.stdout.rstrip().endswith("three regions in two waves."), done.stdout[-500:]
