"""One table for every setting: the pinned botocore model has nothing it does not know, and every
row round-trips through the action input, the deploy file, the CLI flag, ``init`` and ``diff``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from deployer import surface
from deployer.__main__ import request_of
from deployer.commands.init import Adopted, entry
from deployer.deploy_file import read_deploy_file
from deployer.limits import service_model
from deployer.model import AliasState, FunctionConfig, FunctionState, Lifecycle
from deployer.planner import make_plan
from deployer.settings import load_fleet_settings, load_settings
from deployer.settings.table import BY_ID, INPUTS
from tests.conftest import ROOT
from tests.unit.test_settings import SURFACE_VALID

# Members of the request that an input other than a setting row sends (the code, its type, the
# environment, tags and code signing have inputs of their own).
SENT_BY_OTHER_INPUTS = {
    "FunctionName": "function-name",
    "Code": "source",
    "PackageType": "package-type",
    "Environment": "environment",
    "Tags": "tags",
    "CodeSigningConfigArn": "code-signing-config-arn",
}


def not_supported_in_readme() -> dict[str, str]:
    """The README's list of the API members lambda-deploy does not set, with the reason for each."""
    section = (ROOT / "README.md").read_text().split("### Lambda settings lambda-deploy does not set", 1)[1].split("\n#", 1)[0]
    return dict(re.findall(r"^\| `(\w+)` \| (.+) \|$", section, flags=re.M))


def test_every_member_of_create_and_update_is_a_row_or_said_why_not() -> None:
    model = service_model("lambda")
    members = {
        name
        for operation in ("CreateFunction", "UpdateFunctionConfiguration")
        for name in model.operation_model(operation).input_shape.members
    }
    rows = {row.path[0] for row in surface.ROWS}
    unexplained = members - rows - set(SENT_BY_OTHER_INPUTS) - set(not_supported_in_readme())
    assert not unexplained, f"botocore's Lambda model has members the table neither sets nor explains: {sorted(unexplained)}"
    assert all(len(reason) > 20 for reason in not_supported_in_readme().values())
    assert all(BY_ID[name] for name in SENT_BY_OTHER_INPUTS.values())


def test_every_input_is_in_the_table_once_and_every_setting_row_is_an_input() -> None:
    ids = [row.id for row in INPUTS]
    assert len(ids) == len(set(ids))
    assert {row.input for row in surface.ROWS} <= set(ids)
    assert [row.id for row in INPUTS if row.form == "setting"] == [row for row in ids if row in surface.BY_INPUT]


def reported(members: dict[str, Any], name: str = "orders") -> dict[str, Any]:
    """A configuration as GetFunctionConfiguration reports what CreateFunction sent."""
    raw: dict[str, Any] = {"FunctionName": name, "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{name}"}
    raw.update({"Version": "$LATEST", "CodeSha256": "CODE=", "Role": "arn:aws:iam::123456789012:role/r", "PackageType": "Zip"})
    raw.update({"Runtime": "python3.12", "Handler": "app.handler"})
    for key, value in members.items():
        if key == "ImageConfig":
            raw["ImageConfigResponse"] = {"ImageConfig": value}
        elif key == "Layers":
            raw["Layers"] = [{"Arn": arn, "CodeSize": 1} for arn in value]
        else:
            raw[key] = value
    return raw


# What a row needs beside it to be valid at all: log levels apply to JSON logs only.
COMPANIONS = {"application-log-level": {"log-format": "JSON"}, "system-log-level": {"log-format": "JSON"}}


def loaded(workspace: Path, inputs: dict[str, str]) -> dict[str, Any]:
    env = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": "eu-west-1", "GITHUB_REF_NAME": "main"}
    return dict(load_settings({"function-name": "orders", "source": "app", **inputs}, env).function.configuration)


@pytest.mark.parametrize("row", surface.ROWS, ids=lambda row: row.input)
def test_every_row_round_trips_through_input_deploy_file_flag_init_and_diff(row: surface.Row, workspace: Path) -> None:
    given, companions = SURFACE_VALID[row.input], COMPANIONS.get(row.input, {})
    value = loaded(workspace, {**companions, row.input: given})[row.input]
    # The deploy file: the same key, the same value (a list as a YAML list).
    as_yaml: Any = given.splitlines() if row.form in surface.LIST_FORMS else given
    function_entry = {"function-name": "orders", "source": "app", **companions, row.input: as_yaml}
    (workspace / "deploy.yml").write_text(yaml.safe_dump({"functions": [function_entry]}))
    env = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": "eu-west-1", "GITHUB_REF_NAME": "main"}
    fleet = load_fleet_settings({"config": "deploy.yml"}, env)
    assert fleet is not None
    (from_file,) = read_deploy_file(fleet, {"config": "deploy.yml"}, env)
    assert from_file.settings.function.configuration[row.input] == value
    # The CLI's flag.
    companion_flags = [part for name, text in companions.items() for part in (f"--{name}", text)]
    _, from_flags, _, _ = request_of(["deploy", "--function-name", "orders", *companion_flags, f"--{row.input}", given])
    assert loaded(workspace, {k: v for k, v in from_flags.items() if k != "function-name"})[row.input] == value
    # init reads a function that has it, and writes a key that loads back to the same value.
    parsed_companions = {name: loaded(workspace, companions)[name] for name in companions}
    configuration = reported(surface.create_members({**parsed_companions, row.input: value}, "orders"))
    if row.with_code:
        configuration["Architectures"] = [value]
    latest = FunctionConfig.from_api(configuration)
    written = entry(Adopted(FunctionState(latest, None, None, lifecycle=Lifecycle()), {}, {}, {}))
    function = yaml.safe_load(written)["functions"][0]
    if surface.normal(row, value) != surface.normal(row, surface.reported(row, {}, "orders")):  # Lambda's own default is not written
        again = function[row.input]
        text = "\n".join(map(str, again)) if isinstance(again, list) else str(again).lower() if isinstance(again, bool) else str(again)
        assert loaded(workspace, {**companions, row.input: text})[row.input] == value
    # diff: the function already has it, so the plan changes nothing.
    version = FunctionConfig.from_api({**configuration, "Version": "1", "FunctionArn": configuration["FunctionArn"] + ":1"})
    alias = AliasState("live", "arn:live", "1", {}, "rev")
    state = FunctionState(latest, version, alias, serving=version)
    settings = load_settings(
        {"function-name": "orders", "source": "app", "alias": "live", **companions, row.input: given},
        {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": "eu-west-1"},
    )
    plan = make_plan(settings, "CODE=", state)
    assert not plan.changes and not plan.mutates, [c.describe() for c in plan.changes]
