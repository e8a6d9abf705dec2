"""The project's own checks run with the tests: ruff and mypy --strict stay clean, the package has no import cycle."""

from __future__ import annotations

import ast
import itertools
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from deployer.deploy_file import schema
from deployer.naming import alias_from_ref
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
    assert [p.name for p in EXAMPLES] == ["deploy.yml", "matrix.yml", "migrate.yml", "preview.yml", "release.yml", "waves.yml"]
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


@pytest.mark.parametrize("name", ["deploy.yml", "waves.yml"])
def test_the_example_deploy_files_are_valid_and_shown_in_the_readme(name: str) -> None:
    text = (ROOT / "examples" / name).read_text()
    jsonschema.Draft202012Validator(schema()).validate(yaml.safe_load(text))
    assert f"```yaml\n{text}```" in (ROOT / "README.md").read_text()


def _imports_of(path: Path) -> set[str]:
    """The deployer modules ``path`` imports, at any depth of the file (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    if path.name == "__init__.py":
        package += ".__init__"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: -node.level] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                found.add(candidate if _module_path(candidate) else module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("deployer") and _module_path(name)}


def _module_path(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted((ROOT / "deployer").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph[name] = _imports_of(path) - {name}
    return graph


def test_the_package_has_no_import_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1 on the path, 2 done
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph.get(name, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target] if target in path else [name, target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    # A package's __init__ re-exporting its own modules is not a cycle of design: leave out parent → child edges.
    real = [cycle for cycle in cycles if not all(b.startswith(a + ".") or a.startswith(b + ".") for a, b in itertools.pairwise(cycle))]
    assert real == [], "import cycles:\n" + "\n".join(" → ".join(cycle) for cycle in real)


def test_aws_imports_nothing_above_it() -> None:
    below = ("errors", "limits", "model", "text", "images", "analysis")  # data and pure modules that import nothing above them
    allowed = ("deployer.aws", *(f"deployer.{name}" for name in below))
    above = {
        name: sorted(target for target in targets if not target.startswith(allowed) and target != "deployer")
        for name, targets in _graph().items()
        if name.startswith("deployer.aws")
    }
    assert {name: targets for name, targets in above.items() if targets} == {}


def test_the_readmes_module_map_names_every_module() -> None:
    """The map is drawn from the layout: every module and package once, and each module of a package by name."""
    section = (ROOT / "README.md").read_text().split("## How it is built", 1)[1].split("```", 2)[1]
    entries: dict[str, str] = {}
    current = ""
    for line in section.strip("\n").splitlines():
        if not line.startswith(" "):
            current = line.split()[0]
        entries[current] = (entries.get(current, "") + " " + line.strip()).strip()
    package = ROOT / "deployer"
    layout = {path.name + ("/" if path.is_dir() else "") for path in package.iterdir() if path.name != "__pycache__"}
    assert set(entries) == {name for name in layout if name.endswith((".py", "/")) and name != "__init__.py"}
    for folder in (name for name in entries if name.endswith("/") and name != "sandbox/"):
        modules = {path.stem for path in (package / folder).glob("*.py") if path.stem != "__init__"}
        missing = sorted(name for name in modules if not re.search(rf"\b{name}\b", entries[folder]))
        assert not missing, f"{folder}: {missing} are not in the README's map"
