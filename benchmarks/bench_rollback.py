"""Time from a failed health gate to the alias being back on stable.

Two measurements, both against the sandbox (moto + the fidelity layer):
1. on the injected clock: an alarm flips at seeded random moments of a 5-minute
   bake, for several health-intervals; the figure is flip -> alias restored, in
   rollout seconds (the gate is read every interval, so the bound is one interval);
2. end to end, in real seconds: ``entrypoint.py`` runs a canary as the runner would,
   the alarm is flipped once the canary has traffic, and the alias is watched until it
   is back on stable.
The goal: within one health-interval, and at most 10 s with the default interval.
For comparison, CodeDeploy evaluates its deployment group's alarms about once a
minute (AWS documentation); that is not measured here.
"""

from __future__ import annotations

import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
from sample import sample_function

from deployer.aws import Services
from deployer.github import ConsoleIO
from deployer.pipeline import deploy
from deployer.sandbox import REGION, Sandbox
from deployer.settings import load_settings
from tests.conftest import create_alarm
from tests.e2e.runner import ENTRYPOINT, github_env, input_env
from tests.fakes import FakeClock

ALARM = "bench-errors"
TRIALS = 8


def setup(workspace: Path) -> tuple[Any, Any, dict[str, str]]:
    inputs = sample_function(workspace)
    env = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": REGION}
    deploy(load_settings(inputs, env), Services.connect(REGION, 60, poll_delay=0.01), ConsoleIO(io.StringIO()))
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    create_alarm(cloudwatch, ALARM)
    return cloudwatch, boto3.client("lambda", region_name=REGION), inputs


def injected_clock(workspace: Path, cloudwatch: Any, inputs: dict[str, str]) -> None:
    rng = random.Random(11)
    env = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": REGION}
    print("injected clock: alarm flips at random moments of a 5m bake")
    print(f"{'health-interval':>15} {'trials':>6} {'mean':>7} {'max':>7}  (flip -> alias restored, rollout seconds)")
    for interval in (1, 10, 30):
        latencies = []
        for trial in range(TRIALS):
            (workspace / "app" / "handler.py").write_text(f"def handler(e, c):\n    return {interval * 100 + trial}\n")
            cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="reset")
            flip_at = rng.uniform(1, 299)
            clock = FakeClock()
            clock.at(flip_at, lambda: cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="bench"))
            rollout_inputs = {**inputs, "strategy": "canary 10% 5m", "alarms": ALARM, "health-interval": str(interval)}
            result = deploy(
                load_settings(rollout_inputs, env), Services.connect(REGION, 60, poll_delay=0.01), ConsoleIO(io.StringIO()), clock
            )
            assert result.rollout is not None and result.status == "rolled-back", result.status
            restored = next(e.at for e in result.rollout.timeline if e.event == "rolled back")
            latencies.append(restored - flip_at)
        print(f"{interval:>14}s {TRIALS:>6} {statistics.mean(latencies):>6.2f}s {max(latencies):>6.2f}s  (bound: {interval}s)")


def end_to_end(workspace: Path, sandbox: Sandbox, cloudwatch: Any, lambda_client: Any, inputs: dict[str, str]) -> None:
    print("end to end (entrypoint.py as the runner runs it, real seconds):")
    for interval in ("1", "10"):
        (workspace / "app" / "handler.py").write_text(f"def handler(e, c):\n    return 'e2e {interval}'\n")
        cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="reset")
        given = {k: v for k, v in inputs.items() if k in ("function-name", "source", "alias")}
        env = {
            "PATH": os.environ.get("PATH", ""), "GITHUB_WORKSPACE": str(workspace), "GITHUB_OUTPUT": os.devnull,
            **sandbox.env(), **github_env(),
            **input_env({**given, "strategy": "canary 10% 5m", "alarms": ALARM, "health-interval": interval}),
        }  # fmt: skip
        process = subprocess.Popen(ENTRYPOINT, cwd=workspace, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def weights() -> dict[str, float]:
            alias = lambda_client.get_alias(FunctionName="bench", Name="live")
            return dict((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights", {}))

        while not weights():
            time.sleep(0.05)
        flipped = time.monotonic()
        cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="bench")
        while weights():
            time.sleep(0.05)
        restored = time.monotonic()
        process.wait(timeout=60)
        print(
            f"  health-interval {interval:>2}s: alarm flip -> alias restored in {restored - flipped:.2f}s (exit code {process.returncode})"
        )


def main() -> int:
    with Sandbox(in_progress_reads=0) as sandbox, tempfile.TemporaryDirectory() as scratch:
        os.environ.update(sandbox.env())
        workspace = Path(scratch)
        cloudwatch, lambda_client, inputs = setup(workspace)
        injected_clock(workspace, cloudwatch, inputs)
        end_to_end(workspace, sandbox, cloudwatch, lambda_client, inputs)
    print("goal: within one health-interval, at most 10s by default; CodeDeploy polls its alarms about once a minute")
    return 0


if __name__ == "__main__":
    sys.exit(main())
