"""The project's own checks run with the tests: ruff and mypy --strict stay clean."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed (pip install -e '.[dev]')")
def test_ruff_is_clean() -> None:
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."]):
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean() -> None:
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[dev]')")
    command = [sys.executable, "-m", "mypy", "--strict", "deployer/", "scripts/"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _check_jsonschema(schema: str, files: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_action_and_workflows_match_githubs_schemas() -> None:
    pytest.importorskip("check_jsonschema", reason="check-jsonschema is not installed (pip install -e '.[dev]')")
    assert _check_jsonschema("vendor.github-actions", ["action.yml"]).returncode == 0
    workflows = [str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "workflows").glob("*.yml")]
    done = _check_jsonschema("vendor.github-workflows", workflows)
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_workflows_are_valid_and_use_only_declared_inputs(tmp_path: Path) -> None:
    """Docs that work when pasted: every complete workflow in the README is schema-valid,
    and every `with:` key given to this action is one of action.yml's inputs."""
    pytest.importorskip("check_jsonschema", reason="check-jsonschema is not installed (pip install -e '.[dev]')")
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    declared = set(yaml.safe_load((ROOT / "action.yml").read_text())["inputs"])
    complete = []
    for number, block in enumerate(blocks):
        loaded = yaml.safe_load(textwrap.dedent(block))
        steps = loaded if isinstance(loaded, list) else [s for job in (loaded or {}).get("jobs", {}).values() for s in job.get("steps", [])]
        for step in steps:
            if str(step.get("uses", "")).startswith(("lambda-deploy/lambda-deploy", "./")):  # ours, not aws-lambda-deploy
                assert set(step.get("with", {})) <= declared, (number, set(step["with"]) - declared)
        if isinstance(loaded, dict) and "jobs" in loaded:
            path = tmp_path / f"workflow{number}.yml"
            path.write_text(block)
            complete.append(str(path))
    assert len(complete) >= 3
    done = _check_jsonschema("vendor.github-workflows", complete)
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_tables_list_every_input_and_output() -> None:
    readme = (ROOT / "README.md").read_text()
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    for name in [*action["inputs"], *action["outputs"]]:
        assert re.search(rf"^\| `{re.escape(name)}` \|", readme, flags=re.M), f"{name} is not in the README's tables"


EXAMPLES = sorted((ROOT / "examples" / "workflows").glob("*.yml"))


def test_the_readme_shows_the_example_workflows_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    assert [p.name for p in EXAMPLES] == ["deploy.yml", "matrix.yml", "migrate.yml", "preview.yml", "release.yml"]
    for path in EXAMPLES:
        assert f"```yaml\n{path.read_text()}```" in readme, f"{path.name} differs from the README's copy"


def test_every_workflow_passes_actionlint(tmp_path: Path) -> None:
    """.github's, the examples, and every complete workflow the README shows."""
    assert shutil.which("actionlint"), "actionlint is not installed (pip install -e '.[dev]')"
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    pasted = []
    for number, block in enumerate(blocks):
        if "jobs:" in block:
            pasted.append(tmp_path / f"readme-{number}.yml")
            pasted[-1].write_text(block)
    files = [*(ROOT / ".github" / "workflows").glob("*.yml"), *EXAMPLES, *pasted]
    assert len(files) >= 5
    done = subprocess.run(["actionlint", "-no-color", *map(str, files)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_example_workflows_match_githubs_schema() -> None:
    pytest.importorskip("check_jsonschema", reason="check-jsonschema is not installed (pip install -e '.[dev]')")
    done = _check_jsonschema("vendor.github-workflows", [str(p.relative_to(ROOT)) for p in EXAMPLES])
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_readmes_ref_table_is_what_the_code_does() -> None:
    from deployer.naming import alias_from_ref

    readme = (ROOT / "README.md").read_text()
    table = readme.split("How refs become aliases")[1].split("###")[0]
    rows = re.findall(r"^\| `([^`]+)`[^|]*\| `([^`]+)`", table, flags=re.M)
    assert len(rows) >= 6
    for ref, alias in rows:
        if "…" in ref:  # the 200-character branch, shown shortened
            full = alias_from_ref("feature/" + "a" * 192)
            assert len(full) == 128 and alias.endswith(full[-9:]) and alias.startswith("feature-aaa")
        else:
            assert alias_from_ref(ref) == alias, ref


def test_the_example_deploy_file_is_valid_and_shown_in_the_readme() -> None:
    import jsonschema

    from deployer.deploy_file import schema

    text = (ROOT / "examples" / "deploy.yml").read_text()
    jsonschema.Draft202012Validator(schema()).validate(yaml.safe_load(text))
    assert f"```yaml\n{text}```" in (ROOT / "README.md").read_text()
