"""Waves: the wall time of N regions deployed in waves, against the sum of the bakes.

One run through ``entrypoint.py`` as the runner runs it, against the sandbox with 50 ms added
to every call and one ``InProgress`` read after every change: waves of 1, 2, 4 ... regions
(``--regions`` in all), each baking ``--bake`` seconds under an alarm gate checked every
second. The baseline, in the same run, is the sum of the bakes: the least time any tool that
bakes each wave could take. What is left (wall time minus the bakes) is the orchestration's
own cost (deploys, health checks, the records on the aliases), reported per target. A second,
unchanged run (a resume after everything is done) shows the cost of a re-run: reads only.
This script reports; it does not assert.
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

REGIONS = (
    "us-east-1", "eu-west-1", "eu-central-1", "us-west-2", "ap-southeast-1", "ap-northeast-1", "sa-east-1", "ca-central-1",
    "eu-north-1", "ap-south-1", "us-east-2", "eu-west-2", "ap-southeast-2", "eu-west-3", "us-west-1",
)  # fmt: skip


def waves_of(regions: list[str]) -> list[list[str]]:
    """Waves of growing size: 1, 2, 4, ..."""
    waves, size = [], 1
    while regions:
        waves.append(regions[:size])
        regions, size = regions[size:], size * 2
    return waves


def timed(sandbox: Sandbox, workspace: Path) -> tuple[float, int]:
    step = prepare(workspace, sandbox, {"config": "deploy.yml"})
    assert sandbox.network is not None
    sandbox.network.arm({})
    started = time.monotonic()
    done = subprocess.run(ENTRYPOINT, cwd=workspace, env=step.env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the deploy failed: {done.stdout[-3000:]}")
    return time.monotonic() - started, sandbox.network.requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=7, help=f"at most {len(REGIONS)}")
    parser.add_argument("--bake", type=float, default=3.0, help="seconds each wave bakes")
    args = parser.parse_args()
    regions = list(REGIONS[: args.regions])
    waves = waves_of(regions)
    with Sandbox(in_progress_reads=1) as sandbox, tempfile.TemporaryDirectory(prefix="lambda-deploy-waves-") as scratch:
        assert sandbox.network is not None
        sandbox.network.latency = 0.05
        workspace = Path(scratch) / "workspace"
        (workspace / "app").mkdir(parents=True)
        (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'ok'\n")
        env = sandbox.env()
        keys = {"endpoint_url": env["AWS_ENDPOINT_URL"], "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        role = boto3.client("iam", region_name="us-east-1", **keys).create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        for region in regions:
            boto3.client("cloudwatch", region_name=region, **keys).put_metric_alarm(
                AlarmName="orders-errors", MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=60,
                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
            )  # fmt: skip
        listed = "".join(
            f"  - name: wave-{number}\n    regions: [{', '.join(wave)}]\n    bake: {args.bake:g}s\n" for number, wave in enumerate(waves, 1)
        )
        (workspace / "deploy.yml").write_text(
            f"waves:\n{listed}defaults:\n  runtime: python3.12\n  handler: handler.handler\n  role: {role}\n  alias: live\n"
            "  alarms: orders-errors\n  health-interval: 1\nfunctions:\n  - function-name: orders\n    source: app\n"
        )
        wall, calls = timed(sandbox, workspace)
        again, reads = timed(sandbox, workspace)
    bakes = args.bake * len(waves)
    overhead = wall - bakes
    print(f"{len(regions)} regions in {len(waves)} waves ({', '.join(str(len(w)) for w in waves)}), bake {args.bake:g} s each")
    print(f"baseline, the sum of the bakes:   {bakes:.2f} s")
    print(f"lambda-deploy, wall time:         {wall:.2f} s ({calls} AWS calls)")
    per_wave, per_target = overhead / len(waves), overhead / len(regions)
    print(f"orchestration overhead:           {overhead:.2f} s = {per_wave:.2f} s a wave, {per_target:.2f} s a target")
    print(f"ratio to the sum of the bakes:    {wall / bakes:.2f}")
    print(f"re-run, everything done:          {again:.2f} s ({reads} AWS calls, no bake repeated)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
