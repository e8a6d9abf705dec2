"""Waves through ``entrypoint.py`` as the runner runs it: one artifact to three regions (and a
second account), wave by wave with real (short) bakes; an alarm during a bake, ``halt``,
SIGTERM during a bake, and a re-run that costs nothing where nothing changed."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from deployer.sandbox import Sandbox
from tests.conftest import create_alarm, push_image
from tests.e2e.runner import ActionRun, run_action, start_action

REGIONS = ("us-east-1", "eu-west-1", "eu-central-1")
ALARM = "orders-errors"
OTHER_ACCOUNT = "222222222222"


def waves_file(workspace: Path, bake: str = "2s", failure: str = "rollback", europe_role: str = "", function_role: str = "") -> None:
    role = f"\n    role-to-assume: {europe_role}" if europe_role else ""
    (workspace / "deploy.yml").write_text(
        f"""waves:
  - name: one-box
    regions: [us-east-1]
    bake: 1s
  - name: europe
    regions: [eu-west-1, eu-central-1]{role}
    bake: {bake}
wave-failure: {failure}
defaults:
  runtime: python3.12
  handler: handler.handler
  role: {function_role}
  alias: live
  alarms: {ALARM}
  health-interval: 1
functions:
  - function-name: orders
    source: app
"""
    )


@pytest.fixture
def regions(fast: Sandbox, workspace: Path, role_arn: str) -> Path:
    for region in REGIONS:
        create_alarm(boto3.client("cloudwatch", region_name=region), ALARM)
    waves_file(workspace, function_role=role_arn)
    return workspace


def alias_version(region: str, account_client: Any = None) -> str:
    client = account_client or boto3.client("lambda", region_name=region)
    return str(client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"])


def versions() -> dict[str, str]:
    return {region: alias_version(region) for region in REGIONS}


def release(workspace: Path, answer: int) -> None:
    (workspace / "app" / "handler.py").write_text(f"def handler(event, context):\n    return {answer}\n")


def set_alarm(region: str, state: str) -> None:
    boto3.client("cloudwatch", region_name=region).set_alarm_state(AlarmName=ALARM, StateValue=state, StateReason="test")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def deploy(workspace: Path, sandbox: Sandbox) -> ActionRun:
    return run_action(workspace, sandbox, {"config": "deploy.yml"})


def test_three_regions_in_two_waves_with_one_artifact(regions: Path, fast: Sandbox) -> None:
    first = deploy(regions, fast)
    assert first.returncode == 0, first.stdout + first.stderr
    assert versions() == dict.fromkeys(REGIONS, "1")
    results = json.loads(first.outputs["results"])
    assert [(r["wave"], r["region"], r["account"], r["status"]) for r in results] == [
        ("one-box", "us-east-1", "123456789012", "deployed"),
        ("europe", "eu-west-1", "123456789012", "deployed"),
        ("europe", "eu-central-1", "123456789012", "deployed"),
    ]
    assert [(w["name"], w["status"], w["bake"]) for w in json.loads(first.outputs["waves"])] == [
        ("one-box", "deployed", "passed"),
        ("europe", "deployed", "passed"),
    ]
    assert first.outputs["status"] == "deployed"
    assert "| one-box | us-east-1 (123456789012) | `orders` |" in first.summary and "```mermaid\ngantt" in first.summary
    # One artifact: packaged once, the same CodeSha256 in every region.
    assert first.stdout.count("CodeSha256 ") >= 1 and first.stdout.count("(built once)") == 2
    hashes = {boto3.client("lambda", region_name=r).get_function_configuration(FunctionName="orders", Qualifier="live")["CodeSha256"]
              for r in REGIONS}  # fmt: skip
    assert len(hashes) == 1
    # Europe started only after one-box's bake passed.
    timeline = first.stdout
    assert timeline.index("wave one-box: bake passed") < timeline.index("wave europe: deploying")


def test_an_alarm_in_the_second_waves_region_rolls_every_region_back(regions: Path, fast: Sandbox) -> None:
    assert deploy(regions, fast).returncode == 0
    release(regions, 2)
    waves_file(regions, bake="30s", function_role=_role(regions))
    process, step = start_action(regions, fast, {"config": "deploy.yml"})
    wait_for(lambda: alias_version("eu-central-1") == "2" and alias_version("eu-west-1") == "2", "europe on version 2")
    set_alarm("eu-central-1", "ALARM")
    stdout, stderr = process.communicate(timeout=60)
    run = step.result(process.returncode, stdout, stderr)
    assert run.returncode == 1, run.stdout
    assert versions() == dict.fromkeys(REGIONS, "1")  # europe, then the finished one-box wave
    assert run.outputs["status"] == "rolled-back"
    error = " ".join(run.errors)
    assert "wave 'europe' failed" in error and "eu-central-1" in error and ALARM in error
    assert "| europe | eu-central-1 (123456789012) | `orders` | 1 → 2 |" in run.summary and ALARM in run.summary
    assert [w["status"] for w in json.loads(run.outputs["waves"])] == ["rolled-back", "rolled-back"]


def test_an_alarm_missing_in_a_later_waves_region_stops_the_run_before_the_first_wave(
    fast: Sandbox, workspace: Path, role_arn: str
) -> None:
    """Every target is reached before anything changes: a gate that cannot be read in Europe is
    said now, not after the first wave deployed and baked."""
    for region in ("us-east-1", "eu-west-1"):  # none in eu-central-1
        create_alarm(boto3.client("cloudwatch", region_name=region), ALARM)
    waves_file(workspace, function_role=role_arn)
    run = deploy(workspace, fast)
    assert run.returncode == 1, run.stdout
    error = " ".join(run.errors)
    assert f"orders in eu-central-1: no CloudWatch alarm named '{ALARM}' in this account and region" in error
    assert "eu-west-1" not in error and "wave one-box: deploying" not in run.stdout
    for region in REGIONS:  # nothing was created anywhere
        with pytest.raises(ClientError):
            boto3.client("lambda", region_name=region).get_function(FunctionName="orders")


def test_halt_keeps_the_finished_wave_and_a_rerun_writes_nothing_there(regions: Path, fast: Sandbox) -> None:
    assert deploy(regions, fast).returncode == 0
    release(regions, 2)
    waves_file(regions, bake="30s", failure="halt", function_role=_role(regions))
    process, step = start_action(regions, fast, {"config": "deploy.yml"})
    wait_for(lambda: alias_version("eu-west-1") == "2", "europe on version 2")
    set_alarm("eu-west-1", "ALARM")
    stdout, stderr = process.communicate(timeout=60)
    halted = step.result(process.returncode, stdout, stderr)
    assert halted.returncode == 1 and versions() == {"us-east-1": "2", "eu-west-1": "1", "eu-central-1": "1"}, halted.stdout
    assert [w["status"] for w in json.loads(halted.outputs["waves"])] == ["kept", "rolled-back"]

    set_alarm("eu-west-1", "OK")
    waves_file(regions, bake="1s", failure="halt", function_role=_role(regions))
    assert fast.network is not None
    fast.network.arm({})
    resumed = deploy(regions, fast)
    assert resumed.returncode == 0, resumed.stdout
    assert versions() == dict.fromkeys(REGIONS, "2")
    writes = [
        s for s in fast.network.seen if s.region == "us-east-1" and s.method in ("PUT", "POST", "DELETE") and "/2015-03-31/" in s.path
    ]
    assert writes == [], writes  # one-box was done and baked: reads only
    one_box = json.loads(resumed.outputs["results"])[0]
    assert (one_box["status"], one_box["bake"]) == ("unchanged", "already baked")
    assert "already baked for these versions" in resumed.stdout


def test_sigterm_during_a_bake_rolls_every_wave_back(regions: Path, fast: Sandbox) -> None:
    assert deploy(regions, fast).returncode == 0
    release(regions, 2)
    waves_file(regions, bake="60s", function_role=_role(regions))
    process, step = start_action(regions, fast, {"config": "deploy.yml"})
    wait_for(lambda: alias_version("eu-west-1") == "2" and alias_version("eu-central-1") == "2", "europe on version 2")
    time.sleep(1.5)  # inside europe's bake
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    run = step.result(process.returncode, stdout, stderr)
    assert run.returncode == 1, run.stdout
    assert versions() == dict.fromkeys(REGIONS, "1")
    assert run.outputs["status"] == "cancelled" and "cancelled by SIGTERM" in run.stdout


def test_a_wave_in_another_account_by_role(regions: Path, fast: Sandbox, workspace: Path) -> None:
    other = _assumed(f"arn:aws:iam::{OTHER_ACCOUNT}:role/deploy")
    for account_client in (boto3.client("iam", region_name="us-east-1"), other.client("iam", region_name="us-east-1")):
        account_client.create_role(RoleName="orders-exec", AssumeRolePolicyDocument="{}")
    for region in ("eu-west-1", "eu-central-1"):
        create_alarm(other.client("cloudwatch", region_name=region), ALARM)
    waves_file(workspace, europe_role=f"arn:aws:iam::{OTHER_ACCOUNT}:role/deploy", function_role="arn:aws:iam::{account}:role/orders-exec")
    run = deploy(workspace, fast)
    assert run.returncode == 0, run.stdout + run.stderr
    accounts = [(r["region"], r["account"]) for r in json.loads(run.outputs["results"])]
    assert accounts == [("us-east-1", "123456789012"), ("eu-west-1", OTHER_ACCOUNT), ("eu-central-1", OTHER_ACCOUNT)]
    there = other.client("lambda", region_name="eu-west-1").get_function_configuration(FunctionName="orders")
    assert there["FunctionArn"].split(":")[4] == OTHER_ACCOUNT and there["Role"] == f"arn:aws:iam::{OTHER_ACCOUNT}:role/orders-exec"
    assert "assumed role arn:aws:iam::222222222222:role/deploy" in run.stdout


def _role(workspace: Path) -> str:
    text = (workspace / "deploy.yml").read_text()
    return text.split("  role: ", 1)[1].split("\n", 1)[0]


def _assumed(role_arn: str) -> boto3.session.Session:
    credentials = boto3.client("sts", region_name="us-east-1").assume_role(RoleArn=role_arn, RoleSessionName="test-setup")["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def test_diff_status_and_rollback_take_the_same_file_to_every_target(regions: Path, fast: Sandbox) -> None:
    assert deploy(regions, fast).returncode == 0
    release(regions, 2)
    assert deploy(regions, fast).returncode == 0 and versions() == dict.fromkeys(REGIONS, "2")

    same = run_action(regions, fast, {"config": "deploy.yml", "command": "diff"})
    assert same.returncode == 0 and same.outputs["changed"] == "false", same.stdout
    assert "#### Wave one-box: us-east-1, then a 1s bake" in same.summary and "#### Wave europe: eu-west-1, eu-central-1" in same.summary
    release(regions, 3)
    differs = run_action(regions, fast, {"config": "deploy.yml", "command": "diff"})
    assert differs.outputs["changed"] == "true" and differs.summary.count("| code |") == 3, differs.summary

    status = run_action(regions, fast, {"config": "deploy.yml", "command": "status"})
    assert status.returncode == 0, status.stdout
    for region in REGIONS:
        assert f"`orders@{region}`" in status.summary

    back = run_action(regions, fast, {"config": "deploy.yml", "command": "rollback"})
    assert back.returncode == 0, back.stdout
    assert versions() == dict.fromkeys(REGIONS, "1")  # each target back where its wave moved it from
    assert back.stdout.index("orders@eu-central-1") < back.stdout.index("orders@us-east-1")  # newest wave first


def test_a_single_function_takes_waves_as_an_input(fast: Sandbox, workspace: Path, role_arn: str) -> None:
    for region in ("us-east-1", "eu-west-1"):
        create_alarm(boto3.client("cloudwatch", region_name=region), ALARM)
    inputs = {
        "function-name": "orders",
        "source": "app",
        "runtime": "python3.12",
        "handler": "handler.handler",
        "role": role_arn,
        "alias": "live",
        "alarms": ALARM,
        "health-interval": "1",
        "waves": "- name: first\n  regions: [us-east-1]\n  bake: 1s\n- name: second\n  regions: [eu-west-1]\n",
    }
    run = run_action(workspace, fast, inputs)
    assert run.returncode == 0, run.stdout
    assert [(r["wave"], r["region"], r["version"]) for r in json.loads(run.outputs["results"])] == [
        ("first", "us-east-1", "1"),
        ("second", "eu-west-1", "1"),
    ]
    refused = run_action(workspace, fast, {**inputs, "aws-region": "us-east-1"})
    assert refused.returncode == 1 and any("cannot be given with waves" in e for e in refused.errors)


def test_wave_failure_is_an_input_too(fast: Sandbox, workspace: Path, role_arn: str) -> None:
    """With the waves input, wave-failure: halt keeps the finished wave when a later one fails; a
    value it does not know is an error before anything is created."""
    for region in ("us-east-1", "eu-west-1"):
        create_alarm(boto3.client("cloudwatch", region_name=region), ALARM)
    set_alarm("eu-west-1", "ALARM")  # the second wave cannot start from a quiet baseline
    inputs = {
        "function-name": "orders",
        "source": "app",
        "runtime": "python3.12",
        "handler": "handler.handler",
        "role": role_arn,
        "alias": "live",
        "alarms": ALARM,
        "health-interval": "1",
        "waves": "- name: first\n  regions: [us-east-1]\n  bake: 1s\n- name: second\n  regions: [eu-west-1]\n",
    }
    unknown = run_action(workspace, fast, {**inputs, "wave-failure": "maybe"})
    assert unknown.returncode == 1 and any("input 'wave-failure': 'maybe' is not one of: rollback, halt" in e for e in unknown.errors)
    assert not _exists("us-east-1")
    halted = run_action(workspace, fast, {**inputs, "wave-failure": "halt"})
    assert halted.returncode == 1, halted.stdout
    assert alias_version("us-east-1") == "1" and not _exists("eu-west-1")  # the first wave kept its new version
    assert [w["status"] for w in json.loads(halted.outputs["waves"])] == ["kept", "rolled-back"]


IMAGE_REGIONS = ("us-east-1", "eu-west-1")


def image_waves_file(workspace: Path, image_uri: str, role: str) -> None:
    (workspace / "deploy.yml").write_text(
        f"""waves:
  - name: one-box
    regions: [us-east-1]
    bake: 3s
  - name: europe
    regions: [eu-west-1]
defaults:
  role: {role}
  alias: live
  health-interval: 1
functions:
  - function-name: orders
    package-type: Image
    image-uri: {image_uri}
    image-command: app.handler
"""
    )


def registries(layers: dict[str, str]) -> dict[str, Any]:
    """An ``orders`` repository in each region, tag ``v1`` on an image made of the region's layer."""
    clients = {region: boto3.client("ecr", region_name=region) for region in layers}
    for region, layer in layers.items():
        clients[region].create_repository(repositoryName="orders")
        push_image(clients[region], "v1", layer)
    return clients


TEMPLATED = "123456789012.dkr.ecr.{region}.amazonaws.com/orders:v1"


def test_an_image_is_one_digest_in_every_region_and_a_tag_pushed_mid_bake_stays_out(fast: Sandbox, workspace: Path, role_arn: str) -> None:
    ecr = registries(dict.fromkeys(IMAGE_REGIONS, "layer one"))  # replicated: the same image, one digest
    digest = ecr["us-east-1"].describe_images(repositoryName="orders")["imageDetails"][0]["imageDigest"].removeprefix("sha256:")
    image_waves_file(workspace, TEMPLATED, role_arn)
    process, step = start_action(workspace, fast, {"config": "deploy.yml"})
    wait_for(lambda: _exists("us-east-1"), "one-box deployed")
    # ECR keeps an image whose tag moved on (untagged); moto deletes it unless another tag holds it.
    push_image(ecr["eu-west-1"], "kept", "layer one")
    moved = push_image(ecr["eu-west-1"], "v1", "layer two")  # during one-box's bake, the tag moves in Europe
    stdout, stderr = process.communicate(timeout=60)
    run = step.result(process.returncode, stdout, stderr)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"one image, sha256:{digest}, in all 2 targets" in run.stdout
    for region in IMAGE_REGIONS:
        code = boto3.client("lambda", region_name=region).get_function(FunctionName="orders", Qualifier="live")
        assert code["Configuration"]["CodeSha256"] == digest != moved, region
        assert code["Code"]["ImageUri"] == f"123456789012.dkr.ecr.{region}.amazonaws.com/orders@sha256:{digest}"


def test_different_images_in_the_targets_are_refused_before_anything_changes(fast: Sandbox, workspace: Path, role_arn: str) -> None:
    ecr = registries({"us-east-1": "layer one", "eu-west-1": "layer two"})
    digests = {r: c.describe_images(repositoryName="orders")["imageDetails"][0]["imageDigest"][7:19] for r, c in ecr.items()}
    image_waves_file(workspace, TEMPLATED, role_arn)
    run = deploy(workspace, fast)
    assert run.returncode == 1, run.stdout
    error = " ".join(run.errors)
    assert "image-uri names different images in the targets" in error and "one artifact goes to every target" in error
    assert f"sha256:{digests['us-east-1']} in us-east-1" in error and f"sha256:{digests['eu-west-1']} in eu-west-1" in error
    assert not any(_exists(region) for region in IMAGE_REGIONS)  # refused before the first wave changed anything

    # One region's URI for every target: Lambda pulls only from its own region; the fix is said.
    image_waves_file(workspace, TEMPLATED.format(region="us-east-1"), role_arn)
    pinned = deploy(workspace, fast)
    assert pinned.returncode == 1 and not any(_exists(region) for region in IMAGE_REGIONS), pinned.stdout
    said = " ".join(pinned.errors)
    assert "orders in eu-west-1: the image is in ECR in us-east-1 and the function in eu-west-1" in said and "{region}" in said
    diff = run_action(workspace, fast, {"config": "deploy.yml", "command": "diff"})  # the plan says so too
    assert diff.returncode == 1 and "the image is in ECR in us-east-1 and the function in eu-west-1" in " ".join(diff.errors), diff.stdout


def _exists(region: str) -> bool:
    try:
        boto3.client("lambda", region_name=region).get_alias(FunctionName="orders", Name="live")
    except boto3.client("lambda", region_name=region).exceptions.ResourceNotFoundException:
        return False
    return True
