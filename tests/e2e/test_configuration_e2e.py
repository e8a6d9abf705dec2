"""Every Lambda setting through entrypoint.py: VPC, tracing, storage, logging, DLQ, KMS, EFS,
code signing, URL CORS and streaming, container images and prebuilt S3 artifacts.

What Lambda fills in itself (the VpcId, the default LoggingConfig) is no difference; the same
inputs again make no mutating call; the subnets in another order make none either; one
changed setting is one UpdateFunctionConfiguration and one new version."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.sandbox import ACCOUNT, REGION, Sandbox
from tests.conftest import make_zip, push_image
from tests.e2e.runner import ActionRun, create_inputs, run_action

MUTATING = {
    "CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion", "CreateAlias", "UpdateAlias",
    "TagResource", "PutFunctionCodeSigningConfig", "DeleteFunctionCodeSigningConfig", "UpdateFunctionUrlConfig",
    "CreateFunctionUrlConfig",
}  # fmt: skip
KMS = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab"
DLQ = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-dlq"
EFS = f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:access-point/fsap-0123456789abcdef0"
SIGNING = f"arn:aws:lambda:{REGION}:{ACCOUNT}:code-signing-config:csc-0123456789abcdef0"


@pytest.fixture
def network(fast: Sandbox) -> dict[str, Any]:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24")["Subnet"]["SubnetId"] for n in (1, 2)]
    group = ec2.create_security_group(GroupName="orders", Description="orders", VpcId=vpc)["GroupId"]
    return {"vpc": vpc, "subnets": subnets, "group": group}


def mutations(run: ActionRun) -> set[str]:
    return set(run.calls) & MUTATING


def configuration(lambda_client: Any, qualifier: str = "$LATEST") -> dict[str, Any]:
    return dict(lambda_client.get_function_configuration(FunctionName="orders", Qualifier=qualifier))


def test_a_create_sends_every_setting_and_the_same_inputs_again_change_nothing(
    fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any, network: dict[str, Any]
) -> None:
    subnets = network["subnets"]
    settings = {
        "subnet-ids": "\n".join(subnets),
        "security-group-ids": network["group"],
        "tracing": "Active",
        "ephemeral-storage": "2048",
        "log-format": "JSON",
        "application-log-level": "WARN",
        "dead-letter-target": DLQ,
        "kms-key-arn": KMS,
        "file-systems": f"{EFS}=/mnt/data",
        "code-signing-config-arn": SIGNING,
    }
    created = run_action(workspace, fast, {**create_inputs(role_arn), **settings})
    assert created.returncode == 0, created.stdout
    have = configuration(lambda_client)
    assert sorted(have["VpcConfig"]["SubnetIds"]) == sorted(subnets) and have["VpcConfig"]["SecurityGroupIds"] == [network["group"]]
    assert have["TracingConfig"] == {"Mode": "Active"} and have["EphemeralStorage"] == {"Size": 2048}
    assert have["LoggingConfig"]["LogFormat"] == "JSON" and have["LoggingConfig"]["ApplicationLogLevel"] == "WARN"
    assert have["LoggingConfig"]["LogGroup"] == "/aws/lambda/orders"
    assert have["DeadLetterConfig"] == {"TargetArn": DLQ} and have["KMSKeyArn"] == KMS
    assert have["FileSystemConfigs"] == [{"Arn": EFS, "LocalMountPath": "/mnt/data"}]
    assert lambda_client.get_function_code_signing_config(FunctionName="orders")["CodeSigningConfigArn"] == SIGNING
    assert configuration(lambda_client, "1")["TracingConfig"] == {"Mode": "Active"}  # version 1 has it all too

    again = run_action(workspace, fast, {**create_inputs(role_arn), **settings})
    assert again.returncode == 0 and again.outputs["status"] == "unchanged" and not mutations(again), again.calls
    reordered = {**settings, "subnet-ids": "\n".join(reversed(subnets))}
    assert not mutations(run_action(workspace, fast, {**create_inputs(role_arn), **reordered}))

    changed = run_action(workspace, fast, {**create_inputs(role_arn), **settings, "ephemeral-storage": "4096"})
    assert changed.returncode == 0 and changed.outputs["version"] == "2", changed.stdout
    assert changed.calls["UpdateFunctionConfiguration"] == 1 and changed.calls["PublishVersion"] == 1
    assert "ephemeral-storage: 2048 → 4096" in changed.summary
    assert configuration(lambda_client)["EphemeralStorage"] == {"Size": 4096}
    assert sorted(configuration(lambda_client)["VpcConfig"]["SubnetIds"]) == sorted(subnets)  # the rest of the structure kept


def test_settings_not_given_are_left_alone_and_none_removes_them(
    fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any, network: dict[str, Any]
) -> None:
    given = {"subnet-ids": network["subnets"][0], "security-group-ids": network["group"], "dead-letter-target": DLQ, "kms-key-arn": KMS}
    assert run_action(workspace, fast, {**create_inputs(role_arn), **given}).returncode == 0
    (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 2\n")
    plain = run_action(workspace, fast, create_inputs(role_arn))  # a code change only: every setting stays
    assert plain.returncode == 0 and "UpdateFunctionConfiguration" not in plain.calls
    assert configuration(lambda_client)["KMSKeyArn"] == KMS and configuration(lambda_client)["DeadLetterConfig"] == {"TargetArn": DLQ}

    planned = run_action(
        workspace,
        fast,
        {**create_inputs(role_arn), "subnet-ids": "none", "dead-letter-target": "none", "kms-key-arn": "none", "dry-run": "true"},
    )
    assert planned.outputs["status"] == "planned" and not mutations(planned)
    for line in ("dead-letter-target: " + DLQ + " → (none)", "kms-key-arn: " + KMS + " → (none)"):
        assert line in planned.stdout, planned.stdout
    removed = run_action(
        workspace, fast, {**create_inputs(role_arn), "subnet-ids": "none", "dead-letter-target": "none", "kms-key-arn": "none"}
    )
    assert removed.returncode == 0, removed.stdout
    have = configuration(lambda_client)
    assert have.get("VpcConfig", {}).get("SubnetIds", []) == [] and have.get("VpcConfig", {}).get("SecurityGroupIds", []) == []
    assert "DeadLetterConfig" not in have or not have["DeadLetterConfig"].get("TargetArn")
    assert not have.get("KMSKeyArn")


def test_url_cors_and_streaming(fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:
    cors = "allow-origins=https://app.example.com, https://admin.example.com\nallow-methods=GET,POST\nmax-age=600\nallow-credentials=true"
    inputs = {
        **create_inputs(role_arn),
        "function-url": "aws-iam",
        "function-url-cors": cors,
        "function-url-invoke-mode": "RESPONSE_STREAM",
    }
    assert run_action(workspace, fast, inputs).returncode == 0
    url = lambda_client.get_function_url_config(FunctionName="orders", Qualifier="live")
    assert url["Cors"]["AllowOrigins"] == ["https://app.example.com", "https://admin.example.com"] and url["Cors"]["MaxAge"] == 600
    assert url["Cors"]["AllowCredentials"] is True and url["InvokeMode"] == "RESPONSE_STREAM"
    again = run_action(workspace, fast, inputs)
    assert not mutations(again), again.calls
    off = run_action(workspace, fast, {**inputs, "function-url-cors": "none"})
    assert off.calls.get("UpdateFunctionUrlConfig") == 1 and not lambda_client.get_function_url_config(
        FunctionName="orders", Qualifier="live"
    ).get("Cors")


def test_an_image_function_is_created_reused_and_moved_to_a_new_digest(
    fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    ecr = boto3.client("ecr", region_name=REGION)
    repository = ecr.create_repository(repositoryName="orders")["repository"]["repositoryUri"]
    first = push_image(ecr, "stable", "layer one")
    inputs = {
        "function-name": "orders",
        "alias": "live",
        "role": role_arn,
        "package-type": "Image",
        "image-uri": f"{repository}:stable",
        "image-command": "app.handler",
    }
    created = run_action(workspace, fast, inputs)
    assert created.returncode == 0, created.stdout
    assert (created.outputs["version"], created.outputs["code-sha256"]) == ("1", first)
    assert configuration(lambda_client)["PackageType"] == "Image" and configuration(lambda_client)["CodeSha256"] == first
    assert f"`{repository}:stable`" in created.summary

    again = run_action(workspace, fast, inputs)
    assert again.outputs["status"] == "unchanged" and not mutations(again), again.calls

    second = push_image(ecr, "stable", "layer two")  # the tag now points at a new digest
    moved = run_action(workspace, fast, inputs)
    assert moved.returncode == 0 and (moved.outputs["version"], moved.outputs["code-sha256"]) == ("2", second), moved.stdout
    assert lambda_client.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "2"

    missing = run_action(workspace, fast, {**inputs, "image-uri": f"{repository}:nope"})
    assert missing.returncode == 1 and any("ECR has no image orders:nope" in e for e in missing.errors)


@pytest.mark.parametrize(
    ("setting", "value", "interrupted"),
    [
        ("image-command", "app.other", {"ImageConfig": {"Command": ["app.other"]}}),
        ("memory", "512", {"MemorySize": 512}),
    ],
)
def test_a_rerun_after_a_setting_reached_latest_but_no_version_publishes_it(
    fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any, setting: str, value: str, interrupted: dict[str, Any]
) -> None:
    """A run stopped after UpdateFunctionConfiguration left the new setting on $LATEST only; the re-run
    must see that live serves the old one (ImageConfig is reported as ImageConfigResponse) and publish."""
    ecr = boto3.client("ecr", region_name=REGION)
    repository = ecr.create_repository(repositoryName="orders")["repository"]["repositoryUri"]
    push_image(ecr, "stable", "layer one")
    inputs = {"function-name": "orders", "alias": "live", "role": role_arn, "package-type": "Image"}
    inputs |= {"image-uri": f"{repository}:stable", "image-command": "app.handler", "memory": "256"}
    assert run_action(workspace, fast, inputs).returncode == 0
    lambda_client.update_function_configuration(FunctionName="orders", **interrupted)  # what the interrupted run did

    rerun = run_action(workspace, fast, {**inputs, setting: value})
    assert rerun.returncode == 0, rerun.stdout
    assert (rerun.outputs["status"], rerun.outputs["version"]) == ("deployed", "2"), rerun.outputs
    live = lambda_client.get_function_configuration(FunctionName="orders", Qualifier="live")
    assert (live["ImageConfigResponse"]["ImageConfig"].get("Command"), live["MemorySize"]) == (
        ["app.other"] if setting == "image-command" else ["app.handler"],
        512 if setting == "memory" else 256,
    )


def test_a_prebuilt_s3_object_is_deployed_as_it_is(fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="artifacts")
    package = make_zip({"handler.py": "def handler(event, context):\n    return 'built once'\n"})
    s3.put_object(Bucket="artifacts", Key="builds/orders-1.zip", Body=package)
    inputs = {**create_inputs(role_arn), "source": "", "s3-bucket": "artifacts", "s3-key": "builds/orders-1.zip"}
    deployed = run_action(workspace, fast, inputs)
    assert deployed.returncode == 0, deployed.stdout

    expected = base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert deployed.outputs["code-sha256"] == expected == configuration(lambda_client)["CodeSha256"]
    again = run_action(workspace, fast, inputs)
    assert again.outputs["status"] == "unchanged" and not mutations(again)

    both = run_action(workspace, fast, {**inputs, "source": "app"})
    assert both.returncode == 1 and any("input 'source': cannot be combined with s3-key" in e for e in both.errors)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"tracing": "Sometimes"}, "input 'tracing': 'Sometimes' is not one of: Active, PassThrough"),
        ({"ephemeral-storage": "100"}, "input 'ephemeral-storage': 100 is outside the allowed range 512..10240"),
        ({"log-format": "Text", "application-log-level": "WARN"}, "application-log-level apply to JSON logs only"),
        ({"image-uri": "docker.io/library/python:3"}, "input 'image-uri': 'docker.io/library/python:3' is not an ECR image"),
        ({"package-type": "Image"}, "input 'package-type': Image needs image-uri"),
        ({"function-url-cors": "allow-everything=yes"}, "input 'function-url-cors': 'allow-everything=yes' is not KEY=VALUE"),
        ({"s3-key": "a.zip"}, "input 's3-key': needs s3-bucket"),
        ({"file-systems": "fsap-1"}, "input 'file-systems': 'fsap-1' is not ACCESS_POINT_ARN=/mnt/path"),
    ],
)
def test_bad_settings_are_refused_before_any_call(
    fast: Sandbox, workspace: Path, role_arn: str, given: dict[str, str], message: str
) -> None:
    run = run_action(workspace, fast, {**create_inputs(role_arn), **given})
    assert run.returncode == 1 and any(message in e for e in run.errors), run.errors
    assert fast.network.seen == [] or not any(s.number for s in fast.network.seen)  # type: ignore[union-attr]


def test_the_remaining_settings_reach_lambda_through_the_entrypoint(
    fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any, network: dict[str, Any]
) -> None:
    """ipv6-dual-stack, system-log-level and log-group on a zip function; image-entrypoint and
    image-working-directory on an image; s3-object-version on a versioned bucket."""
    settings = {
        "subnet-ids": network["subnets"][0],
        "security-group-ids": network["group"],
        "ipv6-dual-stack": "true",
        "log-format": "JSON",
        "system-log-level": "WARN",
        "log-group": "/orders/api",
    }
    assert run_action(workspace, fast, {**create_inputs(role_arn), **settings}).returncode == 0
    have = configuration(lambda_client)
    assert have["VpcConfig"]["Ipv6AllowedForDualStack"] is True
    assert have["LoggingConfig"]["SystemLogLevel"] == "WARN" and have["LoggingConfig"]["LogGroup"] == "/orders/api"
    assert not mutations(run_action(workspace, fast, {**create_inputs(role_arn), **settings}))

    ecr = boto3.client("ecr", region_name=REGION)
    repository = ecr.create_repository(repositoryName="orders")["repository"]["repositoryUri"]
    push_image(ecr, "v1", "layer")
    image = {
        "function-name": "orders-image",
        "alias": "live",
        "role": role_arn,
        "package-type": "Image",
        "image-uri": f"{repository}:v1",
        "image-entrypoint": "/lambda-entrypoint.sh",
        "image-working-directory": "/var/task",
    }
    assert run_action(workspace, fast, image).returncode == 0
    config = lambda_client.get_function_configuration(FunctionName="orders-image")["ImageConfigResponse"]["ImageConfig"]
    assert config["EntryPoint"] == ["/lambda-entrypoint.sh"] and config["WorkingDirectory"] == "/var/task"

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="artifacts")
    s3.put_bucket_versioning(Bucket="artifacts", VersioningConfiguration={"Status": "Enabled"})
    first = make_zip({"handler.py": "def handler(event, context):\n    return 1\n"})
    # One version only: moto's Lambda reads the newest object whatever S3ObjectVersion says (a gap the
    # action's CodeSha256 guard catches: with a newer object it refuses to publish, as it should).
    version = s3.put_object(Bucket="artifacts", Key="orders.zip", Body=first)["VersionId"]
    pinned = {
        **create_inputs(role_arn),
        "function-name": "orders-s3",
        "source": "",
        "s3-bucket": "artifacts",
        "s3-key": "orders.zip",
        "s3-object-version": version,
    }
    deployed = run_action(workspace, fast, pinned)
    assert deployed.returncode == 0, deployed.stdout

    assert deployed.outputs["code-sha256"] == base64.b64encode(hashlib.sha256(first).digest()).decode()
