from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

from deployer.analysis import Check, VersionStats
from deployer.aws import client_config
from deployer.errors import DeployError, Problem
from deployer.github import ActionsIO, ConsoleIO, escape_data, escape_property, heredoc
from deployer.model import Change, Plan, PointAlias, PublishVersion, Result, RolloutOutcome, TimelineEvent, UpdateCode
from deployer.report import OUTPUT_NAMES, analysis_json, analysis_markdown, as_json, failure_markdown, markdown, outputs
from tests.markdown_check import problems as markdown_problems


def parse_github_output(text: str) -> dict[str, str]:
    """The runner's reading of GITHUB_OUTPUT: name=value lines and name<<DELIM blocks."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


PLAN = Plan(
    function_name="orders",
    alias="live",
    steps=(UpdateCode("OLD", "NEW", None), PublishVersion("note"), PointAlias("live", "3", None, "rev")),
    code_before="OLD",
    code_after="NEW",
    changes=(Change("environment", "2 keys", "3 keys (+ADDED)"), Change("memory", "128", "256")),
    previous_version="3",
    reused_version=None,
)
RESULT = Result(
    status="deployed",
    function_arn="arn:fn",
    version="4",
    previous_version="3",
    alias="live",
    alias_arn="arn:fn:live",
    code_sha256="NEW",
    changed=True,
    plan=PLAN,
    calls={"GetFunction": 3, "PublishVersion": 1},
    timings=(("Package", 0.25),),
)


def test_outputs_cover_every_declared_output() -> None:
    values = outputs(RESULT)
    assert tuple(values) == OUTPUT_NAMES
    assert values["changed"] == "true" and values["version"] == "4" and values["previous-version"] == "3"


def test_summary_has_the_promised_rows() -> None:
    text = markdown(RESULT)
    for expected in (
        "`orders`",
        "4 (new)",
        "`live`: 3 → 4",
        "`OLD` → `NEW`",
        "+ADDED",
        "memory: 128 → 256",
        "GetFunction ×3",
        "PublishVersion",
        "Package 0.25s",
    ):
        assert expected in text, expected


def test_failure_summary_lists_problems() -> None:
    text = failure_markdown(DeployError(Problem("bad", "input 'memory'", "use a number")))
    assert "input 'memory': bad. use a number" in text


def test_json_result() -> None:
    data = as_json(RESULT)
    assert data["changed"] is True and data["steps"][1] == "publish a new version" and data["calls"]["GetFunction"] == 3


def test_heredoc_round_trips_multiline_and_hostile_values() -> None:
    value = "line one\nghadelimiter_x\nname=value"
    assert parse_github_output(heredoc("out", value)) == {"out": value}


def test_escaping() -> None:
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"


def test_actions_io_writes_file_commands(tmp_path: Path) -> None:
    output, summary, out = tmp_path / "out", tmp_path / "sum", io.StringIO()
    actions = ActionsIO({"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}, out)
    actions.mask("multi\nline")
    with actions.group("Stage"):
        actions.info("progress")
    actions.error(Problem("went wrong\nbadly", "input 'x'", "fix it"))
    actions.outputs({"a": "1", "b": "two\nlines"})
    actions.summary("# hi")
    log = out.getvalue().splitlines()
    assert log[:5] == ["::add-mask::multi", "::add-mask::line", "::group::Stage", "progress", "::endgroup::"]
    assert log[5] == "::error title=input 'x'::input 'x': went wrong%0Abadly. fix it"
    assert parse_github_output(output.read_text()) == {"a": "1", "b": "two\nlines"}
    assert summary.read_text() == "# hi\n"


def test_console_io_masks_secrets() -> None:
    out = io.StringIO()
    console = ConsoleIO(out)
    console.mask("hunter2")
    console.info("password is hunter2")
    assert "hunter2" not in out.getvalue() and re.search(r"password is \*\*\*", out.getvalue())


def test_clients_use_botocores_standard_retry_mode() -> None:

    config = client_config()
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}
    assert "lambda-deploy/" in (config.user_agent_extra or "")


def test_a_rolled_back_rollout_is_explained_with_a_timeline_and_chart() -> None:

    rollout = RolloutOutcome(
        "rolled-back",
        "3",
        "3",
        "4",
        "alarm errors is in ALARM (alarms errors ALARM)",
        (
            TimelineEvent(0, 0.1, "shifted", "10% of traffic to version 4"),
            TimelineEvent(130, 0.1, "unhealthy", "alarm errors is in ALARM"),
            TimelineEvent(130, 0.0, "rolled back", "alarm errors is in ALARM"),
        ),
    )
    result = replace(RESULT, status="rolled-back", version="3", rollout=rollout)
    values = outputs(result)
    assert (values["status"], values["version"], values["stable-version"], values["canary-version"]) == ("rolled-back", "3", "3", "4")
    text = markdown(result)
    assert "↩️ Rolled back" in text and "**↩️ Rolled back:** alarm errors is in ALARM" in text
    assert "| 2m10s | 0% | rolled back | alarm errors is in ALARM |" in text
    assert "```mermaid\nxychart-beta" in text
    assert 'x-axis "time since the rollout started" ["0s", "2m10s", "2m10s\'"]' in text
    assert "line [10, 10, 0]" in text
    assert "4 (new), rolled-back: the alias's main version is 3" in text
    assert as_json(result)["timeline"][1]["event"] == "unhealthy"


def test_an_hours_canary_is_drawn_from_thirty_checks_and_keeps_every_one_in_the_output() -> None:
    def check(index: int) -> Check:
        new = VersionStats("4", invocations=100, errors=index % 3, latency=100.0 + index)
        return Check(index * 10.0, 0.1, new, VersionStats("3", invocations=900, latency=90.0))

    checks = tuple(check(index) for index in range(360))
    rollout = RolloutOutcome("deployed", "4", "3", "4", analysis=checks)
    text = "\n".join(analysis_markdown(rollout))
    axes = re.findall(r"x-axis \[(.*)\]", text)
    assert len(axes) == 2 and all(len(axis.split(", ")) == 30 for axis in axes)
    latency = re.search(r"line \[([^\]]*)\]", text)
    assert latency is not None and latency.group(1).split(", ")[0] == "100" and latency.group(1).split(", ")[-1] == "459"
    assert "The charts draw 30 of the 360 checks, evenly spaced; output `analysis` has every one." in text
    assert "| latency p99 | 459 ms | 90 ms |" in text  # the table is the last check, the one that decided
    assert len(analysis_json(rollout)) == 360 and markdown_problems(text) == []
    few = "\n".join(analysis_markdown(replace(rollout, analysis=checks[:12])))
    assert "The charts draw" not in few and len(re.findall(r"x-axis \[(.*)\]", few)[0].split(", ")) == 12
