"""Start-up: from the process's start to its first AWS call, as the runner runs the action.

Runs ``entrypoint.py`` as a subprocess (``INPUT_*`` from action.yml, a small function)
against the sandbox, whose network layer timestamps every request it receives; the time
from just before the process is spawned to the first request is the start-up. Baselines
measured in the same run: the bare interpreter (``python3 -c pass``) and importing boto3
and making a Lambda client, the least any boto3-based action pays. Median of N runs.
The goal is <= 0.5 s; this script reports, it does not assert.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deployer.sandbox import Sandbox  # noqa: E402
from tests.e2e.runner import ENTRYPOINT, prepare  # noqa: E402


def first_call(sandbox: Sandbox, workspace: Path, inputs: dict[str, str]) -> float:
    step = prepare(workspace, sandbox, inputs)
    assert sandbox.network is not None
    sandbox.network.arm({})
    started = time.monotonic()
    done = subprocess.run(ENTRYPOINT, cwd=workspace, env=step.env, capture_output=True, text=True, check=False)
    ours = [seen.at for seen in sandbox.network.seen if seen.number]
    if done.returncode != 0 or not ours:
        raise SystemExit(f"the deploy failed: {done.stdout[-2000:]}")
    return ours[0] - started


def command(*argv: str) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, *argv], check=True, capture_output=True)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with Sandbox() as sandbox, tempfile.TemporaryDirectory(prefix="lambda-deploy-startup-") as scratch:
        workspace = Path(scratch) / "workspace"
        (workspace / "app").mkdir(parents=True)
        (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'ok'\n")

        role = boto3.client("iam", region_name="us-east-1", **_sandbox(sandbox)).create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        inputs = {
            "function-name": "startup",
            "source": "app",
            "alias": "live",
            "role": role["Role"]["Arn"],
            "runtime": "python3.12",
            "handler": "handler.handler",
        }
        ours = [first_call(sandbox, workspace, inputs) for _ in range(args.runs)]
        bare = [command("-c", "pass") for _ in range(args.runs)]
        client = "import boto3; boto3.session.Session(region_name='us-east-1').client('lambda')"
        boto = [command("-c", client) for _ in range(args.runs)]
    print(f"median of {args.runs} runs")
    print(f"python3 -c pass:                 {statistics.median(bare):.3f} s")
    print(f"import boto3 + a Lambda client:  {statistics.median(boto):.3f} s")
    runs = ", ".join(f"{t:.2f}" for t in ours)
    print(f"entrypoint.py to its first call: {statistics.median(ours):.3f} s (goal <= 0.5 s; all runs: {runs})")
    return 0


def _sandbox(sandbox: Sandbox) -> dict[str, str]:
    env = sandbox.env()
    return {"endpoint_url": env["AWS_ENDPOINT_URL"], "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


if __name__ == "__main__":
    sys.exit(main())
