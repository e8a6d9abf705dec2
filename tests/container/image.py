"""Build the action's real image with podman on a machine without Docker or a registry.

The registry's python image cannot be pulled here, so a base image is made once from
Debian's packages with debootstrap and imported into podman (cached by name). podman
is always run with runc, a cgroupfs manager and no default ulimits, which is what
works on these machines. The Dockerfile is built with ``BASE_IMAGE`` pointing at the
local base; everything else is exactly what the runner builds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from deployer.sandbox import Sandbox
from tests.e2e.runner import github_env, input_env

BASE = "localhost/lambda-deploy-base:test"
IMAGE = "localhost/lambda-deploy:test"
CONTAINERS_CONF = """\
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
"""


def podman_missing() -> str:
    """Why the image cannot be built here, or "" when it can."""
    for tool in ("podman", "runc"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (.ci/run installs it)"
    return ""


def podman_env(conf_dir: Path) -> dict[str, str]:
    conf = conf_dir / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def podman(env: dict[str, str], *args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", "--runtime", "runc", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def ensure_base(env: dict[str, str]) -> None:
    if podman(env, "image", "exists", BASE).returncode == 0:
        return
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is needed to make the base image")
    with tempfile.TemporaryDirectory(prefix="lambda-deploy-rootfs-") as rootfs:
        subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3,python3-venv,python3-pip,ca-certificates", "bookworm", rootfs],
            check=True,
            capture_output=True,
            timeout=900,
        )
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(["podman", "import", "-", BASE], stdin=tar.stdout, env=env, capture_output=True, timeout=900, check=False)
        tar.wait()
        if imported.returncode != 0:
            raise RuntimeError(f"podman import failed: {imported.stderr!r}")


def pip_cert() -> str:
    """This machine's CA bundle for pip inside the build (``pip config get`` cannot tell)."""
    listed = subprocess.run(["pip", "config", "list"], capture_output=True, text=True, check=False).stdout
    for line in listed.splitlines():
        if line.startswith("global.cert="):
            return line.split("=", 1)[1].strip("'\"")
    return ""


def build(env: dict[str, str], context: Path) -> subprocess.CompletedProcess[str]:
    ensure_base(env)
    mounts: list[str] = []
    cert = pip_cert()
    if cert and Path(cert).is_file():
        mounts = ["-v", f"{cert}:{cert}:ro"]
    built = podman(env, "build", "--network", "host", *mounts, "--build-arg", f"BASE_IMAGE={BASE}", "-t", IMAGE, str(context))
    podman(env, "image", "prune", "-f")
    return built


def container_command(
    env: dict[str, str], workspace: Path, sandbox: Sandbox, inputs: dict[str, str], *extra: str
) -> tuple[list[str], dict[str, str], Path]:
    """The podman command the runner's equivalent would run, its environment, and the file-command folder."""
    files = workspace.parent / "file_commands"
    files.mkdir(exist_ok=True)
    (files / "output").write_text("")
    (files / "summary").write_text("")
    variables = {
        "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_OUTPUT": "/github/file_commands/output",
        "GITHUB_STEP_SUMMARY": "/github/file_commands/summary",
        "HOME": "/github/home",
        **sandbox.env(),
        **github_env(),
        **input_env(inputs),
    }
    # `-e NAME` copies NAME from podman's own environment, which keeps hyphenated
    # names such as INPUT_FUNCTION-NAME intact, as the runner does.
    flags = [arg for name in variables for arg in ("-e", name)]
    command = [
        "podman", "--runtime", "runc", "run", *extra, "--network", "host",
        "-v", f"{workspace}:/github/workspace", "-v", f"{files}:/github/file_commands",
        "-w", "/github/workspace", *flags, IMAGE,
    ]  # fmt: skip
    return command, {**env, **variables}, files
