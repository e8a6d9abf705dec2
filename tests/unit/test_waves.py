"""Waves, the pure parts: the waves' settings and their errors, the record a wave leaves on an
alias, a rollback's target from it, and the summary a run in waves writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deployer.deploy_file import load_deploy_file
from deployer.errors import InputError
from deployer.model import AliasState, FunctionState, Lifecycle
from deployer.ownership import DESCRIPTION_MAX, WaveMark, wave_mark, with_wave_mark
from deployer.planner import make_finish_plan
from deployer.report_waves import markdown, outputs, status_of
from deployer.settings import load_fleet_settings, load_settings
from deployer.settings.waves import Target, Wave, read_waves
from deployer.waves import TargetRun, WaveEvent, WaveRun
from tests.conftest import ROOT
from tests.markdown_check import problems as markdown_problems
from tests.unit.test_planner import config

TWO = [{"name": "one-box", "regions": ["us-east-1"], "bake": "10m"}, {"name": "europe", "regions": ["eu-west-1", "eu-central-1"]}]


def test_waves_read_in_order_with_their_targets_and_bakes() -> None:
    waves = read_waves(TWO, "halt", "arn:aws:iam::111111111111:role/deploy")
    assert [(w.name, [t.region for t in w.targets], w.bake) for w in waves.waves] == [
        ("one-box", ["us-east-1"], 600.0),
        ("europe", ["eu-west-1", "eu-central-1"], 0.0),
    ]
    assert waves.failure == "halt" and {t.account for t in waves.targets} == {"111111111111"}


@pytest.mark.parametrize(
    ("document", "failure", "says"),
    [
        ([{"name": "a", "regions": ["mars-1"]}], "rollback", "'mars-1' is not a region"),
        ([{"name": "a", "regions": ["us-east-1"]}, {"name": "b", "regions": ["us-east-1"]}], "rollback", "already in wave 'a'"),
        ([{"name": "a", "regions": ["us-east-1"]}, {"name": "a", "regions": ["eu-west-1"]}], "rollback", "wave 'a' is given twice"),
        ([{"name": "a", "regions": ["us-east-1"], "bake": "soon"}], "rollback", "bake 'soon' is not a duration"),
        ([{"name": "a", "regions": ["us-east-1"], "bake": "2d"}], "rollback", "is not a duration"),
        ([{"name": "a", "regions": []}], "rollback", "should be non-empty"),
        ([{"name": "a", "region": ["us-east-1"]}], "rollback", "'regions' is a required property"),
        (
            [{"name": "a", "regions": ["us-east-1"], "role-to-assume": "deploy"}],
            "rollback",
            "is not of the expected form (an IAM role ARN with a 12-digit account), for example arn:aws:iam::",
        ),
        (TWO, "retry", "'retry' is not one of: rollback, halt"),
        ([], "rollback", "should be non-empty"),
    ],
)
def test_each_mistake_in_waves_is_said_with_the_fix(document: object, failure: str, says: str) -> None:
    with pytest.raises(InputError) as caught:
        read_waves(document, failure, "")
    assert says in str(caught.value)


def test_a_deploy_file_with_waves_refuses_aws_region_and_points_at_it(workspace: Path) -> None:
    (workspace / "deploy.yml").write_text(
        "waves:\n  - name: a\n    regions: [us-east-1]\nfunctions:\n  - function-name: orders\n    aws-region: eu-west-1\n    alias: live\n"
    )
    env = {"GITHUB_WORKSPACE": str(workspace), "GITHUB_REF_NAME": "main"}
    fleet = load_fleet_settings({"config": "deploy.yml"}, env)
    assert fleet is not None
    with pytest.raises(InputError) as caught:
        load_deploy_file(fleet, {}, env)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == ("deploy.yml", 6) and "cannot be given with waves" in problem.render()


def test_the_example_waves_file_loads_with_its_templates(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "deploy.yml").write_text((ROOT / "examples" / "waves.yml").read_text())
    env = {"GITHUB_WORKSPACE": str(tmp_path), "GITHUB_REF_NAME": "main"}
    fleet = load_fleet_settings({"config": "deploy.yml"}, env)
    assert fleet is not None
    loaded = load_deploy_file(fleet, {}, env)
    assert loaded.waves is not None and [t.describe() for t in loaded.waves.targets] == [
        "us-east-1",
        "eu-west-1 (222222222222)",
        "eu-central-1 (222222222222)",
    ]
    (entry,) = loaded.entries
    filled = entry.settings.filled("eu-west-1", lambda: "222222222222")
    assert filled.function.role == "arn:aws:iam::222222222222:role/orders-api"
    assert filled.s3_bucket == "deploy-artifacts-222222222222-eu-west-1"


def test_a_template_with_an_unknown_placeholder_is_refused(workspace: Path) -> None:
    inputs = {"function-name": "orders", "alias": "live", "aws-region": "us-east-1", "role": "arn:aws:iam::{acount}:role/x"}
    with pytest.raises(InputError) as caught:
        load_settings(inputs, {"GITHUB_WORKSPACE": str(workspace)})
    assert "may hold only {region} and {account}" in str(caught.value)


@given(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    st.integers(1, 10_000),
    st.one_of(st.just(""), st.integers(1, 10_000).map(str)),
    st.booleans(),
)
def test_a_wave_mark_round_trips_and_keeps_the_users_text(user: str, wave: str, version: int, before: str, baked: bool) -> None:
    mark = WaveMark(wave, str(version), before, baked)
    described = with_wave_mark(user, mark)
    assert len(described) <= DESCRIPTION_MAX and wave_mark(described) == mark
    assert with_wave_mark(described, None) == with_wave_mark(user, None)  # removing it leaves the user's text


def test_a_rollback_with_no_target_goes_back_where_the_wave_moved_the_alias_from() -> None:
    alias = AliasState("live", "arn:live", "7", {}, "rev", with_wave_mark("", WaveMark("europe", "7", "6", True)))
    state = FunctionState(config(version="$LATEST"), None, alias, lifecycle=Lifecycle(versions=("5", "6", "7")))
    settings = load_settings(
        {"function-name": "orders", "alias": "live", "command": "rollback", "aws-region": "us-east-1"}, {"GITHUB_WORKSPACE": "."}
    )
    (step,) = make_finish_plan(settings, state).steps
    assert step.describe().startswith("rollback: point alias live wholly at version 6")


def _run(status: str, bake: str, reason: str = "") -> WaveRun:
    wave = Wave("europe", (Target("eu-west-1", "arn:aws:iam::222222222222:role/d"),), 600.0)
    target = TargetRun("europe", wave.targets[0], "orders", "deployed", "orders", "2", "1", "222222222222", "live", 3.0, bake,
                       gate=reason, rolled_back="back on version 1" if status == "rolled-back" else "")  # fmt: skip
    return WaveRun(wave, status, (target,), bake, 0.0, 3.0, 63.0, reason)


def test_the_summary_shows_waves_by_targets_and_stays_inert() -> None:
    hostile = "alarm `x` | <script> @team ::error::"
    runs = (
        _run("deployed", "passed"),
        _run("rolled-back", "tripped: " + hostile, hostile),
    )
    shown = markdown(runs, (WaveEvent(0.0, "europe", "deploying"), WaveEvent(63.0, "europe", hostile)), "deploy.yml")
    assert markdown_problems(shown) == []
    assert "| europe | eu-west-1 (222222222222) | `orders` | 1 → 2 |" in shown and "```mermaid\ngantt" in shown
    assert status_of(runs) == "rolled-back" and outputs(runs)["status"] == "rolled-back"
