"""Waves against the sandbox, in process with an injected clock: a bucket per region, a failed
rollout that fails its wave, and an alias someone else moved that a rollback leaves alone."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.app import main
from deployer.aws import Connector
from deployer.pipeline import connect_with
from deployer.sandbox import Sandbox
from tests.conftest import create_alarm
from tests.fakes import FakeClock, SummaryConsole

REGIONS = ("us-east-1", "eu-west-1", "eu-central-1")


def write(workspace: Path, role_arn: str, extra: str = "", bake: str = "5m") -> None:
    (workspace / "deploy.yml").write_text(
        f"""waves:
  - name: one-box
    regions: [us-east-1]
    bake: {bake}
  - name: europe
    regions: [eu-west-1, eu-central-1]
    bake: {bake}
defaults:
  runtime: python3.12
  handler: handler.handler
  role: {role_arn}
  alias: live
  alarms: orders-errors
  health-interval: 60
{extra}functions:
  - function-name: orders
    source: app
"""
    )


def run(workspace: Path, clock: FakeClock | None = None) -> tuple[int, dict[str, Any], str]:
    out = io.StringIO()
    console = SummaryConsole(out)
    env = {"GITHUB_WORKSPACE": str(workspace), "GITHUB_REF_NAME": "main", "GITHUB_SHA": "ab" * 20}
    connect = connect_with(Connector(poll_delay=0.01))
    code, payload = main({"config": "deploy.yml"}, env, console, connect=connect, clock=clock or FakeClock())
    return code, payload, out.getvalue() + "\n".join(console.summaries)


@pytest.fixture
def alarms(fast: Sandbox) -> None:
    for region in REGIONS:
        create_alarm(boto3.client("cloudwatch", region_name=region), "orders-errors")


def version_in(region: str) -> str:
    return str(boto3.client("lambda", region_name=region).get_alias(FunctionName="orders", Name="live")["FunctionVersion"])


def test_the_package_goes_to_a_bucket_per_region(alarms: None, workspace: Path, role_arn: str) -> None:
    for region in REGIONS:
        s3 = boto3.client("s3", region_name=region)
        config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=f"artifacts-{region}", **config)
    write(workspace, role_arn, "  s3-bucket: artifacts-{region}\n")
    code, _, log = run(workspace)
    assert code == 0, log
    keys = {region: [o["Key"] for o in boto3.client("s3", region_name=region).list_objects_v2(Bucket=f"artifacts-{region}")["Contents"]]
            for region in REGIONS}  # fmt: skip
    assert len({tuple(k) for k in keys.values()}) == 1 and all(
        len(k) == 1 for k in keys.values()
    )  # the same object, each region its own copy
    assert log.count("(built once)") == 2


def test_a_rollout_that_fails_in_the_second_wave_fails_it_and_rolls_the_first_back(
    alarms: None, fast: Sandbox, workspace: Path, role_arn: str
) -> None:
    write(workspace, role_arn)
    assert run(workspace)[0] == 0
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 2\n")
    write(workspace, role_arn, "  smoke-payload: '{\"ping\": 1}'\n")
    clock = FakeClock()  # version 2 fails from the end of one-box's bake on: europe's smoke tests fail
    clock.at(299, lambda: fast.fidelity.failing_versions.add("2"))  # type: ignore[union-attr]
    code, payload, log = run(workspace, clock)
    assert code == 1, log
    assert {region: version_in(region) for region in REGIONS} == dict.fromkeys(REGIONS, "1")
    waves = {wave["name"]: wave["status"] for wave in payload["waves"]}
    assert waves == {"one-box": "rolled-back", "europe": "rolled-back"}
    assert "wave 'europe' failed" in log and "smoke" in log


def test_a_rollback_leaves_an_alias_someone_else_moved(alarms: None, workspace: Path, role_arn: str) -> None:
    write(workspace, role_arn)
    assert run(workspace)[0] == 0
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 2\n")
    clock = FakeClock()
    lambda_us = boto3.client("lambda", region_name="us-east-1")
    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")

    def meanwhile() -> None:  # someone pins us-east-1 by hand, then europe's alarm fires
        lambda_us.update_alias(FunctionName="orders", Name="live", FunctionVersion="1")
        cloudwatch.set_alarm_state(AlarmName="orders-errors", StateValue="ALARM", StateReason="test")

    clock.at(300 + 120, meanwhile)  # inside europe's bake
    code, payload, log = run(workspace, clock)
    assert code == 1, log
    one_box = next(entry for entry in payload["results"] if entry["region"] == "us-east-1")
    assert one_box["rolled-back"].startswith("left alone: someone moved it to version 1"), one_box
    assert "someone moved it" in log and version_in("eu-west-1") == "1" and version_in("eu-central-1") == "1"
    assert json.dumps(payload["timeline"])  # the timeline is data too
