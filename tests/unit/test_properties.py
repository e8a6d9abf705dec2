"""Properties that must hold for every input, checked with hypothesis.

- settings: any inputs at all end in validated ``Settings`` or in ``DeployError``s,
  never another exception (at least 1,000 generated inputs per run);
- naming: any ref gives a valid alias, and the same ref always the same alias;
- packaging: the same tree gives the same bytes, whatever the order the files were
  created in and whatever their times.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deployer.errors import DeployError
from deployer.naming import alias_from_ref, alias_problem
from deployer.package import build_artifact
from deployer.settings import INPUT_IDS, Settings, load_settings

# Values that reach deep into the parsers, mixed with arbitrary text.
INTERESTING = st.sampled_from(
    [
        "", " ", "true", "false", "0", "1", "-1", "128", "99999", "10%", "0.1", "100%", "1.5", "5m", "30s", "1h",
        "app", "app/handler.py", "..", "../..", "/etc", "app\x00", "python3.12", "x86_64", "arm64", "live", "123",
        "canary 10% 5m", "linear 10% 1m", "5% 2m, 25% 5m, 100%", "Canary10Percent5Minutes", "all-at-once",
        "A=1\nB=2", "A: 1\nB: [1]", "- a\n- b", "{bad json", '{"a": 1}', "merge", "replace", "deploy", "promote",
        "rollback", "native", "codedeploy", "::warning::x", "##[set-output name=a;]b", "é", "日本語", "a" * 300,
        "arn:aws:iam::123456789012:role/r", "arn:aws:lambda:us-east-1:123456789012:layer:l:1", "eu-west-1",
    ]
)  # fmt: skip
VALUES = st.one_of(INTERESTING, st.text(max_size=40), st.from_regex(r"[0-9%.smh ,]{1,12}", fullmatch=True))
INPUTS = st.dictionaries(st.sampled_from(INPUT_IDS), VALUES, max_size=12)


@pytest.fixture(scope="module")
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lambda-deploy-props-") as root:
        (Path(root) / "app").mkdir()
        (Path(root) / "app" / "handler.py").write_text("x = 1\n")
        yield Path(root)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inputs=INPUTS, event=st.sampled_from(["push", "pull_request"]), ref=st.text(max_size=30))
def test_any_inputs_end_in_settings_or_deploy_errors(workspace: Path, inputs: dict[str, str], event: str, ref: str) -> None:
    env = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": "eu-west-1", "GITHUB_EVENT_NAME": event, "GITHUB_REF_NAME": ref}
    try:
        assert isinstance(load_settings({"function-name": "orders", "source": "app", **inputs}, env), Settings)
    except DeployError as error:
        assert error.problems and all(problem.what for problem in error.problems)


@settings(max_examples=500, deadline=None)
@given(ref=st.text(min_size=1))
def test_any_ref_gives_a_valid_alias_and_always_the_same_one(ref: str) -> None:
    alias = alias_from_ref(ref)
    assert alias_problem(alias) == "", (ref, alias)
    assert alias_from_ref(ref) == alias


SEGMENT = st.from_regex(r"[a-z0-9_][a-z0-9_.-]{0,8}", fullmatch=True).filter(lambda s: s not in (".", ".."))
PATHS = st.lists(SEGMENT, min_size=1, max_size=3).map("/".join)


def _no_file_is_a_folder(files: dict[str, bytes]) -> bool:
    return not any(other.startswith(path + "/") for path in files for other in files)


TREES = st.dictionaries(PATHS, st.binary(max_size=3000), min_size=1, max_size=10).filter(_no_file_is_a_folder)


def _write(root: Path, files: dict[str, bytes], order: list[str], times: list[int], executable: set[str]) -> None:
    for name, stamp in zip(order, times, strict=True):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])
        path.chmod(0o755 if name in executable else 0o644)
        os.utime(path, (stamp, stamp))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), files=TREES)
def test_the_same_tree_gives_the_same_bytes_whatever_the_order_and_times(data: st.DataObject, files: dict[str, bytes]) -> None:
    executable = set(data.draw(st.lists(st.sampled_from(sorted(files)), unique=True)))
    stamps = st.lists(st.integers(315_532_800, 4_000_000_000), min_size=len(files), max_size=len(files))
    built = []
    for _ in range(2):
        order = data.draw(st.permutations(sorted(files)))
        with tempfile.TemporaryDirectory(prefix="lambda-deploy-tree-") as root:
            _write(Path(root), files, list(order), data.draw(stamps), executable)
            built.append(build_artifact(Path(root)).zip_bytes)
    assert built[0] == built[1]
