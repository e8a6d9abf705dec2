"""Coming from aws-actions/aws-lambda-deploy: examples/workflows/migrate.yml deploys one function
either way. The official step's inputs, translated by ``deployer.migrate``, are exactly the
lambda-deploy step's; deployed through entrypoint.py, they give the function the
configuration the official step's JSON describes. (The official action itself is a Node.js
action that needs its own repository; it does not run here.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from deployer.migrate import MAPPING, from_aws_lambda_deploy
from deployer.sandbox import REGION, Sandbox
from tests.conftest import ROOT
from tests.e2e.runner import run_action

EXAMPLE = ROOT / "examples" / "workflows" / "migrate.yml"


def steps() -> tuple[dict[str, Any], dict[str, Any]]:
    jobs = yaml.safe_load(EXAMPLE.read_text())["jobs"]
    (official,) = [s["with"] for s in jobs["before"]["steps"] if "aws-lambda-deploy" in s.get("uses", "")]
    (ours,) = [s["with"] for s in jobs["after"]["steps"] if "lambda-deploy/lambda-deploy" in s.get("uses", "")]
    return official, ours


def test_the_translation_of_the_official_step_is_the_example_step() -> None:
    official, ours = steps()
    translated, notes = from_aws_lambda_deploy(official)
    own = {k: str(v).strip() for k, v in ours.items() if k not in ("role-to-assume", "aws-region", "alias")}
    assert {k: v.strip() for k, v in translated.items()} == own
    assert notes == []


def test_every_official_input_has_an_answer_and_the_readme_shows_it() -> None:
    official_inputs = {
        "function-name", "package-type", "image-uri", "code-artifacts-dir", "handler", "runtime", "s3-bucket", "s3-key", "publish",
        "dry-run", "revision-id", "architectures", "source-kms-key-arn", "role", "function-description", "memory-size", "timeout",
        "vpc-config", "environment", "dead-letter-config", "kms-key-arn", "tracing-config", "layers", "file-system-configs",
        "image-config", "ephemeral-storage", "snap-start", "logging-config", "code-signing-config-arn", "tags",
    }  # fmt: skip  # the official action.yml's inputs
    assert set(MAPPING) == official_inputs
    readme = (ROOT / "README.md").read_text()
    for name, (_, said) in MAPPING.items():
        assert f"| `{name}` | {said} |" in readme, name
    with pytest.raises(ValueError, match="not an input of aws-actions/aws-lambda-deploy"):
        from_aws_lambda_deploy({"functionname": "x"})


def test_the_translated_step_deploys_what_the_official_json_describes(
    sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    sandbox.fidelity.in_progress_reads = 1  # type: ignore[union-attr]
    official, _ = steps()
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24")["Subnet"]["SubnetId"] for n in (1, 2)]
    group = ec2.create_security_group(GroupName="orders", Description="orders", VpcId=vpc)["GroupId"]
    here = {
        **official,
        "function-name": "orders",
        "code-artifacts-dir": "app",
        "handler": "handler.handler",
        "role": role_arn,
        "vpc-config": json.dumps({"SubnetIds": subnets, "SecurityGroupIds": [group]}),
    }
    translated, _ = from_aws_lambda_deploy(here)
    run = run_action(workspace, sandbox, {**translated, "alias": "live"})
    assert run.returncode == 0, run.stdout
    have = lambda_client.get_function_configuration(FunctionName="orders")
    assert (have["MemorySize"], have["Timeout"], have["Runtime"]) == (512, 30, "python3.12")
    assert have["Environment"]["Variables"] == json.loads(official["environment"])
    assert sorted(have["VpcConfig"]["SubnetIds"]) == sorted(subnets) and have["VpcConfig"]["SecurityGroupIds"] == [group]
    assert have["TracingConfig"] == json.loads(official["tracing-config"]) and have["EphemeralStorage"] == {"Size": 1024}
    assert have["LoggingConfig"]["LogFormat"] == "JSON" and have["LoggingConfig"]["ApplicationLogLevel"] == "WARN"
    assert have["DeadLetterConfig"] == json.loads(official["dead-letter-config"])
    again = run_action(workspace, sandbox, {**translated, "alias": "live"})
    assert again.outputs["status"] == "unchanged"  # the official action, run again, would update and publish again
    sandbox.fidelity.in_progress_reads = 2  # type: ignore[union-attr]
