"""``python -m deployer demo``: the whole pipeline against a local sandbox, no AWS account.

It starts moto's server (behind the fidelity layer) on loopback, forces this process's
AWS settings at it with dummy credentials so nothing can reach real AWS, then:
1. creates a role and deploys ``examples/hello`` (function created, version 1, alias);
2. deploys it again unchanged (the version is reused, nothing is published);
3. changes the code and deploys (exactly one new version; the alias moves).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .github import ConsoleIO
from .pipeline import main as run_pipeline
from .sandbox import Sandbox

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "hello"
FUNCTION = "lambda-deploy-demo"


def _isolate(sandbox: Sandbox) -> None:
    """Point every AWS client of this process at the sandbox, whatever the user's setup."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        os.environ.pop(key, None)
    os.environ.update(sandbox.env())
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


def _create_role() -> str:
    import boto3

    iam = boto3.client("iam", region_name=os.environ["AWS_REGION"])
    role = iam.create_role(RoleName="lambda-deploy-demo", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}')
    return str(role["Role"]["Arn"])


def run_demo() -> int:
    if not EXAMPLES.is_dir():
        print(f"error: the demo needs the repository's examples/ folder (looked in {EXAMPLES}); run it from a checkout")
        return 1
    io = ConsoleIO()
    with Sandbox() as sandbox, tempfile.TemporaryDirectory(prefix="lambda-deploy-demo-") as workspace:
        _isolate(sandbox)
        shutil.copytree(EXAMPLES, Path(workspace) / "hello")
        inputs = {
            "function-name": FUNCTION,
            "source": "hello",
            "role": _create_role(),
            "runtime": "python3.12",
            "handler": "app.handler",
            "environment": "GREETING=Good morning\nAPI_TOKEN=demo-secret-value",
            "alias": "live",
        }
        env = {
            **os.environ,
            "GITHUB_WORKSPACE": workspace,
            "GITHUB_SHA": "0123456789abcdef",
            "GITHUB_REF_NAME": "main",
            "GITHUB_ACTOR": "demo",
        }
        steps = (
            ("1/3 first deploy: the function is created, version 1 published, alias 'live' created", None),
            ("2/3 the same code again: nothing is published, the version is reused", None),
            ("3/3 a code change: exactly one new version, and the alias moves", "\n# changed by the demo\n"),
        )
        print(f"Sandbox AWS (moto + fidelity layer) at {sandbox.endpoint}; no real AWS is reachable.\n")
        for title, change in steps:
            print(f"\n━━ Demo {title}")
            if change:
                with (Path(workspace) / "hello" / "app.py").open("a", encoding="utf-8") as handle:
                    handle.write(change)
            code, _ = run_pipeline(inputs, env, io)
            if code != 0:
                return code
    print("\nDemo finished: create → unchanged (reused) → changed (new version, alias moved).")
    return 0
