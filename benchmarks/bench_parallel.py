"""Many functions: one step with a deploy file against one step per function.

Both go through ``entrypoint.py`` as the runner runs it, against the sandbox with 100 ms
added to every call and a few ``InProgress`` reads after every change (so botocore's
waiters poll as they do against Lambda). The baseline, measured in the same run, is N
single-function runs one after another (N workflow steps); ours is one run with a deploy
file of the same N functions (``max-parallel`` at its default, 4). The goal is at most 1/3
of the baseline's time; this script reports, it does not assert.
"""

from __future__ import annotations

import argparse
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


def timed(sandbox: Sandbox, workspace: Path, inputs: dict[str, str]) -> float:
    step = prepare(workspace, sandbox, inputs)
    started = time.monotonic()
    done = subprocess.run(ENTRYPOINT, cwd=workspace, env=step.env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"a deploy failed: {done.stdout[-3000:]}")
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every AWS call")
    parser.add_argument("--in-progress-reads", type=int, default=2, help="reads a change stays InProgress")
    args = parser.parse_args()
    with Sandbox(in_progress_reads=args.in_progress_reads) as sandbox, tempfile.TemporaryDirectory(prefix="lambda-deploy-many-") as scratch:
        env = sandbox.env()
        iam = boto3.client("iam", region_name=env["AWS_REGION"], endpoint_url=env["AWS_ENDPOINT_URL"],
                           aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
        role = iam.create_role(RoleName="many", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        workspace = Path(scratch) / "workspace"
        names = [f"fn-{index:02}" for index in range(args.functions)]
        for name in names:
            (workspace / "services" / name).mkdir(parents=True)
            (workspace / "services" / name / "app.py").write_text(f"def handler(event, context):\n    return {name!r}\n")
        assert sandbox.network is not None
        sandbox.network.latency = args.latency
        common = {"runtime": "python3.12", "handler": "app.handler", "role": role, "alias": "live"}
        singles = sum(
            timed(sandbox, workspace, {"function-name": f"single-{name}", "source": f"services/{name}", **common}) for name in names
        )
        lines = ["defaults:", *(f"  {key}: {value}" for key, value in common.items()), "functions:"]
        lines += [line for name in names for line in (f"  - function-name: many-{name}", f"    source: services/{name}")]
        (workspace / "deploy.yml").write_text("\n".join(lines) + "\n")
        fleet = timed(sandbox, workspace, {"function-name": "", "config": "deploy.yml"})
    print(f"{args.functions} functions, {args.latency * 1000:.0f} ms per call, {args.in_progress_reads} InProgress reads per change")
    print(f"baseline: {args.functions} single-function runs, one after another: {singles:.1f} s")
    print(f"one run with a deploy file (max-parallel 4):           {fleet:.1f} s")
    print(f"ratio: {fleet / singles:.2f} of the baseline's time (goal <= 0.33)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
