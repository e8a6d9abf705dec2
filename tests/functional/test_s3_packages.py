"""Packages through S3: content-addressed keys, an upload skipped when the object is there,
boto3's multipart transfer for big packages, and the limits checked before anything moves."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from deployer.aws import Services
from deployer.errors import DeployError
from deployer.github import ConsoleIO
from deployer.model import Result
from deployer.package import Artifact, build_artifact
from deployer.pipeline import check_package_size, deploy
from deployer.planner import package_key
from deployer.sandbox import REGION, Sandbox
from deployer.settings import load_settings

BUCKET = "deploy-artifacts"


def run(workspace: Path, name: str = "orders", **inputs: str) -> Result:
    env = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": REGION}
    settings = load_settings({"function-name": name, "source": "app", "alias": "live", **inputs}, env)
    return deploy(settings, Services.connect(REGION, 10, poll_delay=0.01), ConsoleIO(io.StringIO()))


@pytest.fixture
def bucket(sandbox: Sandbox) -> Any:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    return s3


@pytest.fixture
def create(role_arn: str) -> dict[str, str]:
    return {"role": role_arn, "runtime": "python3.12", "handler": "handler.handler", "s3-bucket": BUCKET}


def keys(s3: Any) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_the_package_goes_through_s3_once_for_every_function_with_that_code(
    bucket: Any, workspace: Path, create: dict[str, str], lambda_client: Any
) -> None:
    first = run(workspace, **create)
    key = package_key("lambda-deploy/", first.code_sha256)
    assert keys(bucket) == [key] and first.calls["PutObject"] == 1
    assert lambda_client.get_function(FunctionName="orders")["Configuration"]["CodeSha256"] == first.code_sha256
    second = run(workspace, name="orders-copy", **create)  # the same code: the object is reused
    assert "PutObject" not in second.calls and second.calls["HeadObject"] == 1 and keys(bucket) == [key]
    assert lambda_client.get_function(FunctionName="orders-copy")["Configuration"]["CodeSha256"] == first.code_sha256
    unchanged = run(workspace, **create)
    assert unchanged.status == "unchanged" and not {"HeadObject", "PutObject"} & set(unchanged.calls)


def test_a_package_over_50_mb_goes_up_in_parts_and_a_dry_run_only_plans_it(
    bucket: Any, workspace: Path, create: dict[str, str], lambda_client: Any
) -> None:
    (workspace / "app" / "blob.bin").write_bytes(os.urandom(51 * 1024 * 1024))
    planned = run(workspace, **create, **{"dry-run": "true", "s3-key-prefix": "builds/"})
    assert [type(s).__name__ for s in planned.plan.steps][:2] == ["UploadToS3", "CreateFunction"]
    assert planned.plan.steps[0].key.startswith("builds/")  # type: ignore[union-attr]
    assert keys(bucket) == [] and lambda_client.list_functions()["Functions"] == []
    done = run(workspace, **create, **{"s3-key-prefix": "builds/"})
    assert done.status == "deployed" and done.calls["UploadPart"] >= 6 and done.calls["CompleteMultipartUpload"] == 1
    assert keys(bucket) == [package_key("builds/", done.code_sha256)]
    assert lambda_client.get_function(FunctionName="orders")["Configuration"]["CodeSha256"] == done.code_sha256


def test_without_a_bucket_a_big_package_fails_before_any_call(sandbox: Sandbox, workspace: Path, role_arn: str) -> None:
    (workspace / "app" / "blob.bin").write_bytes(os.urandom(51 * 1024 * 1024))
    sandbox.network.arm({})  # type: ignore[union-attr]
    with pytest.raises(DeployError, match=r"the package is 51\.\d MB zipped; .*at most 50 MB uploaded directly. set s3-bucket"):
        run(workspace, role=role_arn, runtime="python3.12", handler="handler.handler")
    assert sandbox.network.requests == 0  # type: ignore[union-attr]


def test_the_unzipped_limit_holds_either_way() -> None:
    huge = Artifact(b"PK", "sha=", 1, "directory", unzipped_size=251 * 1024 * 1024)
    for bucket in (None, BUCKET):
        with pytest.raises(DeployError, match=r"unzips to 251\.0 MB; Lambda allows 250 MB unzipped"):
            check_package_size(huge, bucket)
    check_package_size(Artifact(b"PK", "sha=", 1, "directory", unzipped_size=250 * 1024 * 1024), None)


def test_s3_keys_are_named_by_the_packages_sha256(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    artifact = build_artifact(tmp_path)
    key = package_key("teams/orders/", artifact.sha256)
    hexdigest = hashlib.sha256(artifact.zip_bytes).hexdigest()
    assert key == f"teams/orders/{hexdigest}.zip" and len(hexdigest) == 64
