"""AWS calls per deploy, against the minimal sequence, on the sandbox (no AWS account).

Runs a create, an unchanged redeploy and a code-change deploy through the real
pipeline against moto + the fidelity layer, counting every API call botocore sends
(waiter polls included). The sandbox settles at once here, so each wait is a single
poll; on real Lambda a wait polls about once a second until the update finishes.
The minimal sequence is what any correct deploy must call: read the state, then the
mutations.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sample import sample_function

from deployer.aws import Services
from deployer.github import ConsoleIO
from deployer.pipeline import deploy
from deployer.sandbox import REGION, Sandbox
from deployer.settings import load_settings

READ_STATE = ["GetFunction", "ListVersionsByFunction", "GetAlias"]
MINIMAL = {
    "create": ["GetFunction", "CreateFunction", "PublishVersion", "CreateAlias"],
    "unchanged": READ_STATE,
    "code change": [*READ_STATE, "UpdateFunctionCode", "PublishVersion", "UpdateAlias"],
}


def main() -> int:
    with Sandbox(in_progress_reads=0) as sandbox, tempfile.TemporaryDirectory() as workspace:
        os.environ.update(sandbox.env())
        inputs = sample_function(Path(workspace))
        app = Path(workspace) / "app"
        env = {"GITHUB_WORKSPACE": workspace, "AWS_REGION": REGION}
        print(f"{'deploy':<12} {'calls':>5} {'minimal':>7} {'extra':>5}  breakdown")
        for scenario, sequence in MINIMAL.items():
            if scenario == "code change":
                (app / "handler.py").write_text("def handler(e, c):\n    return 2\n")
            services = Services.connect(REGION, 60, poll_delay=0.01)
            result = deploy(load_settings(inputs, env), services, ConsoleIO(io.StringIO()))
            total = sum(result.calls.values())
            minimal = len(sequence)
            breakdown = ", ".join(f"{name}×{count}" for name, count in result.calls.items())
            print(f"{scenario:<12} {total:>5} {minimal:>7} {total - minimal:>5}  {breakdown}")
    print("extra = waiter polls (one per wait when Lambda settles at once) and the RevisionId re-read before publishing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
