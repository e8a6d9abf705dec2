"""Image: the bytes the action's image adds above its base, and its cold start.

Builds two images with podman on the same base (the one the container test uses):
ours, from the repository's Dockerfile, and the named baseline, a naive image of the
same code: ``python3 -m venv`` plus ``pip install boto3 pyyaml jsonschema`` (unpinned,
as a first draft would, with pip's cache off so the cache is not counted against it).
Added bytes are an image's size less its base's. The goal is at most 40% of the
naive image's. Cold start is from ``podman run`` to the deploy's first AWS call,
against the sandbox; its baseline is the same image running a bare boto3 script that
makes one Lambda call, the least any boto3-based container action pays. Median of N runs. This script reports, it does not assert.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deployer.sandbox import Sandbox  # noqa: E402
from tests.container.image import BASE, IMAGE, build, container_command, pip_cert, podman, podman_env, podman_missing  # noqa: E402

NAIVE = "localhost/lambda-deploy-naive:bench"
NAIVE_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ENV PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install boto3 pyyaml jsonschema
COPY deployer /app/deployer
COPY entrypoint.py action.yml /app/
ENTRYPOINT ["/opt/venv/bin/python", "/app/entrypoint.py"]
"""


def size(env: dict[str, str], image: str) -> int:
    shown = podman(env, "image", "inspect", "--format", "{{.Size}}", image)
    if shown.returncode != 0:
        raise SystemExit(f"podman image inspect {image} failed: {shown.stderr}")
    return int(shown.stdout.strip())


def build_naive(env: dict[str, str], scratch: Path) -> None:
    context = scratch / "naive"
    context.mkdir()
    shutil.copytree(ROOT / "deployer", context / "deployer", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("entrypoint.py", "action.yml"):
        shutil.copy(ROOT / name, context / name)
    (context / "Dockerfile").write_text(NAIVE_DOCKERFILE)
    built = podman(env, "build", "--network", "host", *cert_mount(), "--build-arg", f"BASE_IMAGE={BASE}", "-t", NAIVE, str(context))
    if built.returncode != 0:
        raise SystemExit(f"the naive image did not build: {built.stderr[-3000:]}")


def cert_mount() -> list[str]:
    """This machine's CA bundle, as the action's own build gets it, so pip can reach the index."""
    cert = pip_cert()
    return ["-v", f"{cert}:{cert}:ro"] if cert and Path(cert).is_file() else []


# The least a boto3-based container pays: import boto3, make a Lambda client, one call
# (sent with our user agent so the sandbox counts it as the action's).
BARE_CALL = """\
import sys
sys.path.insert(0, "/app")  # where the image installs its packages
import boto3, botocore.config
config = botocore.config.Config(user_agent_extra="lambda-deploy/bench")
boto3.session.Session().client("lambda", config=config).list_functions()
"""


def first_call(env: dict[str, str], sandbox: Sandbox, workspace: Path, inputs: dict[str, str], *script: str) -> float:
    """From ``podman run`` to the first request the sandbox sees from the container: the
    action with ``inputs``, or, given ``script``, python3 running that instead."""
    extra = ("--rm", "--entrypoint", "python3") if script else ("--rm",)
    command, variables, _ = container_command(env, workspace, sandbox, inputs, *extra)
    if script:
        command += ["-c", *script]
    assert sandbox.network is not None
    sandbox.network.arm({})
    started = time.monotonic()
    done = subprocess.run(command, env=variables, capture_output=True, text=True, timeout=300, check=False)
    ours = [seen.at for seen in sandbox.network.seen if seen.number]
    if done.returncode != 0 or not ours:
        raise SystemExit(f"the container failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return ours[0] - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if podman_missing():
        print(f"skipped: {podman_missing()}")
        return 0
    with tempfile.TemporaryDirectory(prefix="lambda-deploy-image-") as scratch_dir:
        scratch = Path(scratch_dir)
        env = podman_env(scratch)
        built = build(env, ROOT)
        if built.returncode != 0:
            raise SystemExit(f"the action's image did not build: {built.stderr[-3000:]}")
        build_naive(env, scratch)
        base, ours, naive = size(env, BASE), size(env, IMAGE), size(env, NAIVE)
        podman(env, "rmi", NAIVE)
        with Sandbox() as sandbox:
            workspace = scratch / "workspace"
            (workspace / "app").mkdir(parents=True)
            (workspace / "app" / "handler.py").write_text("def handler(event, context):\n    return 'ok'\n")
            inputs = {"function-name": "image", "source": "app", "alias": "live", "runtime": "python3.12", "handler": "handler.handler"}
            iam = boto3.client(
                "iam", region_name="us-east-1", endpoint_url=sandbox.endpoint, aws_access_key_id="k", aws_secret_access_key="s"
            )
            inputs["role"] = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            starts = [first_call(env, sandbox, workspace, inputs) for _ in range(args.runs)]
            bare = [first_call(env, sandbox, workspace, inputs, BARE_CALL) for _ in range(args.runs)]
    mb = 1e6
    print(f"base image ({BASE}): {base / mb:.1f} MB")
    print(f"bytes added above the base: ours {(ours - base) / mb:.1f} MB, naive venv + pip install {(naive - base) / mb:.1f} MB")
    print(f"ratio ours/naive: {(ours - base) / (naive - base):.2f} (goal <= 0.40)")
    runs = ", ".join(f"{t:.2f}" for t in starts)
    print(f"median of {args.runs} runs")
    print(f"podman run, bare boto3 call:          {statistics.median(bare):.3f} s")
    print(f"podman run, the action's first call:  {statistics.median(starts):.3f} s (all runs: {runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
