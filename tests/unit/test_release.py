"""The writer of a release's action.yml (scripts/release_action_yml.py)."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts.release_action_yml import ReleaseError, release_action_yml
from tests.conftest import ROOT

IMAGE = "docker://ghcr.io/lambda-deploy/lambda-deploy@sha256:" + "0123456789abcdef" * 4
MAIN = (ROOT / "action.yml").read_text()


def test_only_the_image_line_changes() -> None:
    released = release_action_yml(MAIN, IMAGE)
    changed = [line for line in difflib.ndiff(MAIN.splitlines(), released.splitlines()) if line[:1] in "+-"]
    assert changed == ["-   image: Dockerfile", f"+   image: {IMAGE}"]
    loaded = yaml.safe_load(released)
    assert loaded["runs"] == {"using": "docker", "image": IMAGE}
    assert loaded["inputs"] == yaml.safe_load(MAIN)["inputs"]


def test_the_release_still_matches_githubs_metadata_schema(tmp_path: Path) -> None:
    pytest.importorskip("check_jsonschema", reason="check-jsonschema is not installed (pip install -e '.[dev]')")
    action = tmp_path / "action.yml"
    action.write_text(release_action_yml(MAIN, IMAGE))
    check = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-actions", str(action)]
    done = subprocess.run(check, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "image",
    [
        "docker://ghcr.io/lambda-deploy/lambda-deploy:v1",  # a tag can move; a release names a digest
        "ghcr.io/lambda-deploy/lambda-deploy@sha256:" + "0" * 64,  # the runner needs docker://
        "docker://ghcr.io/Lambda-Deploy/lambda-deploy@sha256:" + "0" * 64,  # registries refuse upper case
        "docker://ghcr.io/lambda-deploy/lambda-deploy@sha256:" + "0" * 63,
    ],
)
def test_anything_but_an_image_by_digest_is_refused(image: str) -> None:
    with pytest.raises(ReleaseError, match="not an image by digest"):
        release_action_yml(MAIN, image)


def test_a_released_action_yml_is_not_released_again() -> None:
    with pytest.raises(ReleaseError, match="already a release's"):
        release_action_yml(release_action_yml(MAIN, IMAGE), IMAGE)


def test_the_script_rewrites_the_file_in_place_or_explains(tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    action.write_text(MAIN)
    script = [sys.executable, str(ROOT / "scripts" / "release_action_yml.py"), "--image", IMAGE, str(action)]
    done = subprocess.run(script, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(action.read_text())["runs"]["image"] == IMAGE
    again = subprocess.run(script, capture_output=True, text=True, check=False)
    assert again.returncode == 1 and again.stdout.startswith(f"::error file={action}::runs.image is")
    assert "Traceback" not in again.stderr


def test_the_release_workflow_builds_both_platforms_and_runs_this_writer() -> None:
    """actionlint (test_quality) checks the workflow's syntax and the actions' inputs;
    this checks it does what the release needs."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    steps = workflow["jobs"]["image"]["steps"]
    build = next(step for step in steps if str(step.get("uses", "")).startswith("docker/build-push-action"))
    assert set(build["with"]["platforms"].split(",")) == {"linux/amd64", "linux/arm64"} and build["with"]["push"] is True
    writer = next(step for step in steps if "scripts/release_action_yml.py" in step.get("run", ""))
    assert writer["env"]["IMAGE"] == "docker://${{ steps.names.outputs.image }}@${{ steps.build.outputs.digest }}"
    assert workflow["jobs"]["image"]["permissions"] == {"contents": "write", "packages": "write"}
