"""Shared fixtures: a sandbox AWS (moto's server + the fidelity layer) on loopback."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.sandbox import REGION, Sandbox

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may ever pick up a developer's real credentials or profile."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "GITHUB_", "INPUT_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture(scope="session")
def _sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(in_progress_reads=2) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(_sandbox_server: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """A clean sandbox for each test, with this process's AWS settings pointed at it."""
    _sandbox_server.reset()
    for key, value in _sandbox_server.env().items():
        monkeypatch.setenv(key, value)
    return _sandbox_server


@pytest.fixture
def fast(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The sandbox with one InProgress read after each update instead of two: end-to-end runs
    still wait on Lambda's states, in less time."""
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]
    yield sandbox
    sandbox.fidelity.in_progress_reads = 2  # type: ignore[union-attr]


@pytest.fixture
def lambda_client(sandbox: Sandbox) -> Any:
    return boto3.client("lambda", region_name=REGION)


@pytest.fixture
def role_arn(sandbox: Sandbox) -> str:
    iam = boto3.client("iam", region_name=REGION)
    return str(iam.create_role(RoleName="deploy-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"])


def alias_of(lambda_client: Any, name: str = "live") -> tuple[str, dict[str, float]]:
    """(version, weights) of the sample function's alias."""
    alias = lambda_client.get_alias(FunctionName="orders", Name=name)
    return alias["FunctionVersion"], (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights", {})


def make_zip(files: dict[str, str]) -> bytes:
    """A zip of the given files; fixed entry times, so the same files give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace holding a small function in app/."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "handler.py").write_text("def handler(event, context):\n    return {'ok': True}\n")
    return tmp_path


def create_alarm(cloudwatch: Any, name: str) -> None:
    """A CloudWatch alarm on the function's errors, in OK until a test flips it."""
    cloudwatch.put_metric_alarm(
        AlarmName=name, MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
    )  # fmt: skip


CODEDEPLOY_APP, CODEDEPLOY_GROUP = "orders-app", "orders-group"
PRE_HOOK, POST_HOOK = "CodeDeployHook_orders_pre", "CodeDeployHook_orders_post"


def create_codedeploy_group(role_arn: str, platform: str = "Lambda", rollback: bool = True, app: str = CODEDEPLOY_APP) -> Any:
    """A CodeDeploy application and deployment group for the sandbox's CodeDeploy model, and
    the two hook functions; returns the codedeploy client."""
    client = boto3.client("codedeploy", region_name=REGION)
    client.create_application(applicationName=app, computePlatform=platform)
    client.create_deployment_group(
        applicationName=app, deploymentGroupName=CODEDEPLOY_GROUP, serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        deploymentConfigName="CodeDeployDefault.LambdaAllAtOnce",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        autoRollbackConfiguration={"enabled": rollback, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] if rollback else []},
    )  # fmt: skip
    functions = boto3.client("lambda", region_name=REGION)
    for hook in (PRE_HOOK, POST_HOOK):
        functions.create_function(
            FunctionName=hook, Runtime="python3.12", Role=role_arn, Handler="hook.handler", Code={"ZipFile": make_zip({"hook.py": "x"})}
        )
    return client


def push_image(ecr: Any, tag: str, layer: str) -> str:
    """An image in the sandbox's ECR; distinct layers give a distinct digest."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 100, "digest": "sha256:" + "c" * 64},
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 10,
                "digest": "sha256:" + hashlib.sha256(layer.encode()).hexdigest(),
            }
        ],
    }
    image = ecr.put_image(repositoryName="orders", imageManifest=json.dumps(manifest), imageTag=tag)["image"]
    return str(image["imageId"]["imageDigest"]).removeprefix("sha256:")
