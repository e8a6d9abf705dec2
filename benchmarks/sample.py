"""The sample function both sandbox benchmarks deploy: a role, ``app/handler.py`` and the inputs."""

from __future__ import annotations

from pathlib import Path

import boto3

from deployer.sandbox import REGION


def sample_function(workspace: Path, name: str = "bench") -> dict[str, str]:
    role = boto3.client("iam", region_name=REGION).create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    (workspace / "app").mkdir()
    (workspace / "app" / "handler.py").write_text("def handler(e, c):\n    return 1\n")
    return {"function-name": name, "source": "app", "alias": "live", "role": role, "runtime": "python3.12", "handler": "handler.handler"}
