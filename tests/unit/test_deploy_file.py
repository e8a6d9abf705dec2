"""The deploy file: its shipped schema, its errors with file and line, and how inputs merge."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from deployer.deploy_file import FILE_KEYS, SCHEMA_FILE, build_schema, read_deploy_file
from deployer.errors import DeployError
from deployer.settings import load_fleet_settings
from tests.conftest import ROOT

ROLE = "arn:aws:iam::123456789012:role/r"


def test_the_shipped_schema_is_what_the_code_builds_from_action_yml() -> None:
    shipped = json.loads(SCHEMA_FILE.read_text())
    assert shipped == build_schema(), "regenerate deployer/deploy-file.schema.json with: python -m deployer schema"
    jsonschema.Draft202012Validator.check_schema(shipped)
    declared = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    described = shipped["$defs"]["settings"]["properties"]
    assert set(described) == set(FILE_KEYS)
    for key, spec in described.items():
        assert spec["description"] == declared[key]["description"], key


def read(workspace: Path, text: str, **inputs: str) -> list[object]:
    (workspace / "deploy.yml").write_text(text)
    env = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": "eu-west-1", "GITHUB_REF_NAME": "main"}
    fleet = load_fleet_settings({"config": "deploy.yml", **inputs}, env)
    assert fleet is not None
    return list(read_deploy_file(fleet, inputs, env))


def problems(workspace: Path, text: str, **inputs: str) -> list[tuple[int, str]]:
    with pytest.raises(DeployError) as caught:
        read(workspace, text, **inputs)
    assert all(problem.file == "deploy.yml" for problem in caught.value.problems if problem.line)
    return [(problem.line, problem.render()) for problem in caught.value.problems]


VALID = f"""\
# yaml-language-server: $schema=../deployer/deploy-file.schema.json
defaults:
  runtime: python3.12
  role: {ROLE}
  alias: live
  memory: 256
  environment:
    STAGE: prod
  alarms: [api-errors]
functions:
  - function-name: orders
    source: app
    handler: handler.handler
    timeout: 30
  - function-name: billing
    source: app
    handler: handler.handler
    memory: 1024
    tags:
      team: billing
    environment: {{STAGE: prod, DEBUG: true}}
    smoke-payload: {{ping: 1}}
    snapstart: true
"""


def test_a_valid_file_gives_one_settings_per_function(workspace: Path) -> None:
    orders, billing = read(workspace, VALID)
    assert (orders.name, orders.settings.function.memory, orders.settings.function.timeout) == ("orders", 256, 30)  # type: ignore[attr-defined]
    assert billing.settings.function.memory == 1024 and billing.settings.function.tags == {"team": "billing"}  # type: ignore[attr-defined]
    assert billing.settings.function.environment == {"STAGE": "prod", "DEBUG": "true"}  # type: ignore[attr-defined]
    assert billing.settings.rollout.smoke_payload == '{"ping": 1}' and billing.settings.rollout.alarms == ("api-errors",)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "defaults:\n  memroy: 256\nfunctions:\n  - function-name: a\n",
            [(2, "defaults: unknown key 'memroy'. did you mean 'memory'? allowed keys: function-name, source,")],
        ),
        (
            "functions:\n  - function-name: a\n    architecture: sparc\n",
            [(3, "function 'a', key 'architecture': \"sparc\" is not one of: x86_64, arm64")],
        ),
        (
            "functions:\n  - function-name: a\n    memory: lots\n",
            [(3, "function 'a', key 'memory': \"lots\" is not a whole number or text")],
        ),
        (
            "functions:\n  - function-name: a\n    environment:\n      OK: 1\n      BAD: {nested: 1}\n",
            [(5, "function 'a', key 'environment/BAD': {\"nested\": 1} is not text or a number or true or false")],
        ),
        ("functions:\n  - source: app\n", [(2, "functions[0]: 'function-name' is required")]),
        ("functions: []\n", [(1, "functions: lists no function")]),
        ("defaults: {}\n", [(1, "the deploy file: 'functions' is required")]),
        ("functions:\n  - function-name: a\n    timeout: 3\n    timeout: 4\n", [(4, "function 'a': 'timeout' is given twice")]),
        ("functions:\n  - function-name: a\n  - function-name: a\n", [(3, "functions[1]: 'a' is listed twice")]),
        ("functions:\n  - function-name: a\n    memory: [1\n", [(4, "the deploy file: is not valid YAML")]),
        (
            "waves:\n  - name: one\n    regions: [us-east-1,\n      us-east-1]\n    bake: 10x\n  - name: one\n    regions: [mars-1]\n"
            "functions:\n  - function-name: a\n    alias: live\n    aws-region: eu-west-1\n",
            [
                (4, "key 'waves': wave 'one': us-east-1 is already in wave 'one'"),
                (5, "key 'waves': wave 'one': bake '10x' is not a duration"),
                (6, "key 'waves': wave 'one' is given twice"),
                (7, "key 'waves': wave 'one': 'mars-1' is not a region"),
                (11, "function 'a', key 'aws-region': cannot be given with waves"),
            ],
        ),
        (
            "waves:\n  - name: one\n    regions: [us-east-1]\n    role-to-assume: arn:aws:iam::1234:role/x\n"
            "functions:\n  - function-name: a\n",
            [(4, '"arn:aws:iam::1234:role/x" is not of the expected form (an IAM role ARN with a 12-digit account), for example')],
        ),
        (
            f"defaults:\n  role: {ROLE}\n  timeout: 99999\nfunctions:\n  - function-name: a\n  - function-name: b\n    handler: 'x y'\n",
            [
                (3, "defaults, key 'timeout' (for function 'a'): 99999 is outside the allowed range 1..900 seconds"),
                (7, "function 'b', key 'handler': 'x y' does not match the pattern AWS requires"),
                (3, "defaults, key 'timeout' (for function 'b'): 99999 is outside the allowed range"),
            ],
        ),
    ],
)
def test_every_error_points_at_its_line(workspace: Path, text: str, expected: list[tuple[int, str]]) -> None:
    (workspace / "app").mkdir(exist_ok=True)
    found = problems(workspace, text)
    assert len(found) == len(expected), found
    for (line, message), (expected_line, fragment) in zip(found, expected, strict=True):
        assert line == expected_line and fragment in message, (line, message)


def test_a_direct_input_beats_the_files_defaults_but_not_a_functions_own(workspace: Path) -> None:
    text = f"defaults:\n  role: {ROLE}\n  memory: 1024\n  alias: live\nfunctions:\n  - function-name: a\n"
    text += "  - function-name: b\n    memory: 512\n"
    a, b = read(workspace, text, memory="256", alias="")  # an empty input is not given
    assert (a.settings.function.memory, b.settings.function.memory) == (256, 512)  # type: ignore[attr-defined]
    assert a.settings.alias == "live"  # type: ignore[attr-defined]
    (same,) = read(workspace, text.replace("  - function-name: b\n    memory: 512\n", ""), source=".")  # "." is the default: not given
    assert same.settings.function.memory == 1024  # type: ignore[attr-defined]


def test_only_picks_one_function_and_names_the_others_when_it_is_wrong(workspace: Path) -> None:
    text = f"defaults:\n  role: {ROLE}\n  alias: live\nfunctions:\n  - function-name: a\n  - function-name: b\n"
    assert [e.name for e in read(workspace, text, only="b")] == ["b"]  # type: ignore[attr-defined]
    assert problems(workspace, text, only="c") == [(0, "input 'only': 'c' is not a function of deploy.yml. the file has: a, b")]
