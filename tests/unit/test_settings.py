from __future__ import annotations

import re
import zipfile
from pathlib import Path

import botocore.session
import pytest
import yaml

from deployer import surface
from deployer.errors import DeployError
from deployer.settings import API_FIELDS, DEFAULTS, INPUT_IDS, Settings, inputs_from_env, load_settings, parse_environment
from tests.conftest import ROOT

ROLE = "arn:aws:iam::123456789012:role/deployer"
LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:deps:3"


def load(workspace: Path, env: dict[str, str] | None = None, **inputs: str) -> Settings:
    base = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": "eu-west-1", "GITHUB_REF_NAME": "main"}
    return load_settings({"function-name": "orders", "source": "app", **inputs}, {**base, **(env or {})})


def problems(workspace: Path, env: dict[str, str] | None = None, **inputs: str) -> list[str]:
    base = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": "eu-west-1", "GITHUB_REF_NAME": "main"}
    with pytest.raises(DeployError) as caught:
        load_settings({"function-name": "orders", "source": "app", **inputs}, {**base, **(env or {})})
    return [p.render() for p in caught.value.problems]


def test_every_input_is_read(workspace: Path) -> None:
    (workspace / "requirements.txt").write_text("six\n")
    settings = load_settings(
        {
            "function-name": "orders",
            "source": "app",
            "exclude": "*.md\ntests/",
            "requirements": "requirements.txt",
            "handler": "handler.handler",
            "runtime": "python3.12",
            "role": ROLE,
            "architecture": "arm64",
            "memory": "512",
            "timeout": "30",
            "description": "Orders API",
            "layers": LAYER,
            "environment": "STAGE=prod\nDSN=postgres://u:p@h/db?x=1",
            "environment-mode": "replace",
            "tags": "team=payments\ncost-center=42",
            "alias": "live",
            "dry-run": "TRUE",
            "aws-region": "eu-central-1",
            "wait-timeout": "60",
        },
        {"GITHUB_WORKSPACE": str(workspace), "GITHUB_SHA": "abc", "GITHUB_ACTOR": "octo", "GITHUB_RUN_ID": "7"},
    )
    function = settings.function
    assert settings.function_name == "orders"
    assert settings.source == workspace / "app"
    assert settings.exclude == ("*.md", "tests/")
    assert settings.requirements == workspace / "requirements.txt"
    assert (function.handler, function.runtime, function.role, function.architecture) == ("handler.handler", "python3.12", ROLE, "arm64")
    assert (function.memory, function.timeout, function.description) == (512, 30, "Orders API")
    assert function.layers == (LAYER,)
    assert function.environment == {"STAGE": "prod", "DSN": "postgres://u:p@h/db?x=1"}
    assert function.environment_mode == "replace"
    assert function.tags == {"team": "payments", "cost-center": "42"}
    assert (settings.alias, settings.dry_run, settings.region, settings.wait_timeout) == ("live", True, "eu-central-1", 60)
    assert (settings.git.sha, settings.git.actor, settings.git.run_id) == ("abc", "octo", "7")
    assert set(settings.secrets) == {"postgres://u:p@h/db?x=1"}  # DSN looks secret; "prod" is a plain word (deployer.masking)


def test_defaults_and_not_given_mean_leave_alone(workspace: Path) -> None:
    settings = load_settings(
        {"function-name": "orders", "handler": "  "},
        {"GITHUB_WORKSPACE": str(workspace), "AWS_DEFAULT_REGION": "us-west-2", "GITHUB_REF_NAME": "main"},
    )
    assert settings.source == workspace / "."
    assert settings.function.handler is None and settings.function.environment is None and settings.function.memory is None
    assert settings.function.environment_mode == "merge"
    assert (settings.dry_run, settings.wait_timeout, settings.region, settings.alias) == (False, 300, "us-west-2", "main")


def test_region_prefers_the_input_then_aws_region(workspace: Path) -> None:
    env = {"GITHUB_WORKSPACE": str(workspace), "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1", "GITHUB_REF_NAME": "m"}
    assert load_settings({"function-name": "f"}, env).region == "eu-west-1"
    assert load_settings({"function-name": "f", "aws-region": "ap-south-1"}, env).region == "ap-south-1"


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"architecture": "x86"}, "input 'architecture': 'x86' is not one of: x86_64, arm64"),
        ({"memory": "lots"}, "input 'memory': 'lots' is not a whole number of MB"),
        ({"memory": "64"}, "input 'memory': 64 is outside the allowed range 128..32768 MB"),
        ({"memory": "40000"}, "outside the allowed range 128..32768"),
        ({"timeout": "0"}, "input 'timeout': 0 is outside the allowed range 1.."),
        ({"timeout": "1.5"}, "'1.5' is not a whole number of seconds"),
        ({"source": "missing"}, "input 'source': 'missing' does not exist"),
        ({"environment": "AWS_REGION=x"}, "'AWS_REGION' is reserved by Lambda"),
        ({"environment": "AWS_LAMBDA_FOO=x"}, "'AWS_LAMBDA_FOO' is reserved"),
        ({"environment": "1BAD=x"}, "'1BAD' is not a valid name"),
        ({"environment": "BIG=" + "x" * 5000}, "Lambda allows 4,096 bytes, so 914 too many. The biggest: 'BIG' (5,009 bytes)"),
        ({"environment": "A=1\nA=2"}, "'A' is given twice"),
        ({"environment": "- a list\n- not a map"}, "line 1 is not KEY=VALUE"),
        ({"environment": "A:\n  nested: 1"}, "the value of 'A' must be text, a number or true/false"),
        ({"alias": "123"}, "input 'alias': '123' is all digits"),
        ({"alias": "feature/x"}, "may contain only letters, digits"),
        ({"environment-mode": "append"}, "'append' is not one of: merge, replace"),
        ({"dry-run": "yes"}, "'yes' is not a boolean; use true or false"),
        ({"runtime": "python9"}, "input 'runtime': 'python9' is not one of:"),
        ({"role": "deployer"}, "input 'role': 'deployer' does not match the pattern AWS requires: arn:"),
        ({"layers": "my-layer"}, "'my-layer' does not match the pattern AWS requires"),
        ({"layers": "\n".join([LAYER] * 6)}, "6 layers given; Lambda allows at most 5"),
        ({"tags": "aws:owner=me"}, "reserved 'aws:' prefix"),
        ({"tags": "not a pair"}, "line 1 is not KEY=VALUE"),
        ({"aws-region": "Europe"}, "'Europe' is not an AWS region name"),
        ({"wait-timeout": "-1"}, "input 'wait-timeout': -1 is outside the allowed range"),
        ({"function-name": "my function"}, "input 'function-name': 'my function' does not match the pattern AWS requires"),
        ({"function-name": ""}, "input 'function-name': is required"),
        ({"description": "d" * 300}, "input 'description': is 300 characters long; the limit is 256"),
        ({"requirements": "nope.txt"}, "input 'requirements': 'nope.txt' is not a file"),
    ],
)
def test_bad_input_is_explained(workspace: Path, inputs: dict[str, str], expected: str) -> None:
    found = problems(workspace, **inputs)
    assert any(expected in problem for problem in found), found


def test_every_problem_is_reported_at_once(workspace: Path) -> None:
    found = problems(workspace, memory="x", timeout="y", architecture="z")
    assert len(found) == 3


def test_missing_region_and_underivable_alias(workspace: Path) -> None:
    with pytest.raises(DeployError) as caught:
        load_settings({"function-name": "f"}, {"GITHUB_WORKSPACE": str(workspace)})
    text = str(caught.value)
    assert "neither AWS_REGION nor AWS_DEFAULT_REGION" in text
    assert "input 'alias': is not given and cannot be derived from the git ref" in text


def test_environment_values_never_appear_in_errors(workspace: Path) -> None:
    secret = "s3cr3t-value-" + "x" * 5000
    found = problems(workspace, environment=f"AWS_REGION=hunter2\nTOKEN={secret}\nnot-a-pair hunter3")
    assert not any("hunter" in p or "s3cr3t" in p for p in found)


def test_requirements_with_a_ready_zip_is_refused(workspace: Path) -> None:

    with zipfile.ZipFile(workspace / "code.zip", "w") as archive:
        archive.writestr("a.py", "")
    (workspace / "requirements.txt").write_text("six\n")
    found = problems(workspace, source="code.zip", requirements="requirements.txt")
    assert any("cannot be combined with a ready .zip" in p for p in found)


def test_a_zip_that_is_not_a_zip_is_refused(workspace: Path) -> None:
    (workspace / "code.zip").write_text("not a zip")
    assert any("not a zip archive" in p for p in problems(workspace, source="code.zip"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A=1\nB = two words \n# comment\n\nC=x=y", {"A": "1", "B": "two words", "C": "x=y"}),
        ('{"A": "1", "B": 2, "C": true}', {"A": "1", "B": "2", "C": "true"}),
        ("A: one\nB: 2.5\nC: false", {"A": "one", "B": "2.5", "C": "false"}),
        ("A=", {"A": ""}),
    ],
)
def test_environment_forms(text: str, expected: dict[str, str]) -> None:
    assert parse_environment(text) == expected


def test_inputs_from_env_keeps_hyphens() -> None:
    env = {"INPUT_FUNCTION-NAME": "f", "INPUT_DRY-RUN": "true", "PATH": "/bin"}
    assert inputs_from_env(env) == {"function-name": "f", "dry-run": "true"}


def test_action_yml_declares_exactly_the_inputs_and_defaults_the_code_reads() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert tuple(action["inputs"]) == INPUT_IDS
    # An expression default (github-token's ${{ github.token }}) is the runner's to evaluate.
    declared = {name: spec["default"] for name, spec in action["inputs"].items() if "default" in spec and "${{" not in spec["default"]}
    assert declared == dict(DEFAULTS)
    assert all(spec.get("description") for spec in action["inputs"].values())
    assert action["runs"] == {"using": "docker", "image": "Dockerfile"}


def test_rollout_inputs_are_read(workspace: Path) -> None:
    settings = load(
        workspace,
        strategy="CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
        alarms="errors\nlatency",
        **{
            "max-error-rate": "2%",
            "min-invocations": "50",
            "health-interval": "30s",
            "smoke-payload": '{"ping": 1}',
            "smoke-expect": '{"ok": true}',
        },
    )
    rollout = settings.rollout  # type: ignore[attr-defined]
    assert rollout.strategy.name == "Linear10PercentEvery2Minutes" and len(rollout.strategy.stages) == 10
    assert rollout.alarms == ("errors", "latency") and rollout.max_error_rate == 0.02 and rollout.min_invocations == 50
    assert rollout.health_interval == 30 and rollout.smoke_payload == '{"ping": 1}' and rollout.smoke_expect == {"ok": True}
    assert (rollout.command, rollout.engine, rollout.canary_weight) == ("deploy", "native", None)
    for given in ("10%", "10", "0.1", "10.0"):
        canary = load(workspace, **{"canary-weight": given}).rollout  # type: ignore[attr-defined]
        assert canary.canary_weight == 0.1, given
    assert load(workspace, **{"canary-weight": "1"}).rollout.canary_weight == 0.01  # type: ignore[attr-defined]
    assert load(workspace, **{"canary-weight": "0.5"}).rollout.canary_weight == 0.5  # type: ignore[attr-defined]
    handed = load(
        workspace,
        engine="codedeploy",
        strategy="Canary10Percent5Minutes",
        **{"codedeploy-application": "a", "codedeploy-group": "g", "after-traffic-hook": "post"},
    ).rollout  # type: ignore[attr-defined]
    assert (handed.codedeploy_application, handed.codedeploy_group, handed.after_traffic_hook) == ("a", "g", "post")
    rollback = load(workspace, command="rollback", **{"to-version": "7"}).rollout  # type: ignore[attr-defined]
    assert (rollback.command, rollback.to_version) == ("rollback", "7")


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"canary-weight": "150%"}, "input 'canary-weight': '150%' is 150% of the traffic, which is not a canary"),
        ({"canary-weight": "0"}, "'0' is 0% of the traffic, which is not a canary"),
        ({"canary-weight": "100"}, "'100' is 100% of the traffic, which is not a canary"),
        ({"canary-weight": "ten"}, "'ten' is not a weight"),
        ({"strategy": "Canary50Percent5Minutes"}, "input 'strategy': 'Canary50Percent5Minutes' is not a known strategy. Valid forms:"),
        ({"strategy": "canary 10% soon"}, "'soon' is not a duration"),
        ({"health-interval": "fast"}, "input 'health-interval': 'fast' is not a duration"),
        ({"health-interval": "0"}, "outside the allowed range 1..3600 seconds"),
        ({"smoke-payload": "{not json"}, "input 'smoke-payload': is not valid JSON"),
        ({"smoke-expect": "[1,"}, "input 'smoke-expect': is not valid JSON"),
        ({"smoke-expect": '{"a": 1}'}, "input 'smoke-expect': needs smoke-payload"),
        ({"engine": "codedeploy"}, "input 'codedeploy-application': is required with engine: codedeploy"),
        ({"engine": "codedeploy", "strategy": "canary 10% 5m"}, "has no CodeDeploy configuration"),
        ({"engine": "argo"}, "'argo' is not one of: native, codedeploy"),
        ({"codedeploy-group": "g"}, "input 'codedeploy-group': only applies to engine: codedeploy"),
        ({"command": "undo"}, "'undo' is not one of: deploy, promote, rollback"),
        ({"to-version": "3"}, "input 'to-version': only applies to command: rollback"),
        ({"command": "rollback", "to-version": "1.5"}, "'1.5' is neither a version number nor an alias name"),
        ({"max-error-rate": "lots"}, "input 'max-error-rate': 'lots' is not an error rate; use a percentage like 2%"),
        ({"max-error-rate": "100%"}, "'100%' is 100%: an error rate never exceeds that"),
        ({"max-error-rate": "-1"}, "'-1' is below 0%"),
        ({"min-invocations": "0"}, "input 'min-invocations': 0 is outside the allowed range"),
        (
            {"max-latency-increase": "fast", "strategy": "linear 10% 1m"},
            "input 'max-latency-increase': 'fast' is not an increase; use a percentage like 25%",
        ),
        ({"max-latency-increase": "-5%"}, "input 'max-latency-increase': '-5%' is a decrease"),
        ({"max-latency-increase": "20000%"}, "'20000%' is outside 0%..10,000%"),
        ({"max-error-rate-increase": "150%"}, "input 'max-error-rate-increase': '150%' is 150 points: an error rate cannot rise"),
        ({"max-error-rate-increase": "100"}, "'100' is 100 points"),
        ({"max-latency-increase": "25%"}, "input 'max-latency-increase': is judged only while both versions serve the alias"),
        ({"max-error-rate-increase": "1%", "canary-weight": "10"}, "a one-shot canary (canary-weight) ends before any check"),
        ({"canary-weight": "10%", "strategy": "Canary10Percent5Minutes"}, "cannot be combined with a gradual strategy"),
    ],
)
def test_bad_rollout_input_is_explained(workspace: Path, inputs: dict[str, str], expected: str) -> None:
    found = problems(workspace, **inputs)
    assert any(expected in problem for problem in found), found


# A valid value for every input that maps to an API member; the invalid ones below are
# derived from the model's own constraints, not listed by hand.
VALID_API_VALUES = {
    "function-name": "orders",
    "alias": "live",
    "to-version": "3",
    "alarms": "orders-errors",
    "codedeploy-application": "orders-app",
    "codedeploy-group": "orders-group",
    "before-traffic-hook": "orders-pre",
    "after-traffic-hook": "orders-post",
    "role-to-assume": "arn:aws:iam::123456789012:role/github-deploy",
    "role-session-name": "deploy-4242",
    "role-duration-seconds": "3600",
    "reserved-concurrency": "10",
    "previous-alias": "previous",
    "s3-bucket": "my-deploy-artifacts",
    "s3-key": "builds/orders.zip",
    "s3-object-version": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
    "package-type": "Zip",
    "code-signing-config-arn": "arn:aws:lambda:eu-west-1:123456789012:code-signing-config:csc-0123456789abcdef0",
    "function-url-invoke-mode": "RESPONSE_STREAM",
}
OIDC_ENV = {"ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions.example/?x=1", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token"}
CONTEXT = {  # other inputs an input is only valid with
    "to-version": {"command": "rollback"},
    "codedeploy-application": {"engine": "codedeploy", "codedeploy-group": "g", "strategy": "AllAtOnce"},
    "codedeploy-group": {"engine": "codedeploy", "codedeploy-application": "a", "strategy": "AllAtOnce"},
    "before-traffic-hook": {"engine": "codedeploy", "codedeploy-application": "a", "codedeploy-group": "g", "strategy": "AllAtOnce"},
    "after-traffic-hook": {"engine": "codedeploy", "codedeploy-application": "a", "codedeploy-group": "g", "strategy": "AllAtOnce"},
    "role-session-name": {"role-to-assume": "arn:aws:iam::123456789012:role/github-deploy"},
    "role-duration-seconds": {"role-to-assume": "arn:aws:iam::123456789012:role/github-deploy"},
    "s3-key": {"s3-bucket": "artifacts", "source": ""},
    "s3-object-version": {"s3-bucket": "artifacts", "s3-key": "a.zip", "source": ""},
}


def model_violations(service: str, shape: str, valid: str) -> list[str]:
    """Values that break one constraint each of the model's shape, built from the model."""

    model = botocore.session.get_session().get_service_model(service).shape_for(shape)
    meta = model.metadata
    bad: list[str] = []
    if getattr(model, "enum", None):
        bad.append("not-" + model.enum[0])
    if model.type_name == "integer":
        bad += [str(meta["min"] - 1)] if "min" in meta else []
        bad += [str(meta["max"] + 1)] if "max" in meta else []
        bad.append("twelve")
    elif "max" in meta:
        bad.append((valid + "x" * int(meta["max"]))[: int(meta["max"]) + 1])
    if "pattern" in meta:
        anchored = re.compile(f"(?:{meta['pattern']})\\Z")
        # Inputs are trimmed, and list inputs split into lines, so break the middle of a line.
        bad += [c for c in (valid + " x", "ä" + valid, valid + "/..", valid + "!") if not anchored.match(c)][:2]
    return bad


def test_every_api_input_follows_every_constraint_of_the_model(workspace: Path) -> None:

    assert set(VALID_API_VALUES) == set(API_FIELDS)
    checked = 0
    for name, (service, shape) in API_FIELDS.items():
        load(workspace, OIDC_ENV, **{**CONTEXT.get(name, {}), name: VALID_API_VALUES[name]})
        for bad in model_violations(service, shape, VALID_API_VALUES[name]):
            found = problems(workspace, OIDC_ENV, **{**CONTEXT.get(name, {}), name: bad})
            assert any(f"input '{name}'" in problem for problem in found), (name, bad, found)
            checked += 1
    assert checked >= 30


SURFACE_VALID = {
    "handler": "app.handler",
    "runtime": "python3.12",
    "role": ROLE,
    "architecture": "arm64",
    "memory": "512",
    "timeout": "30",
    "description": "Orders API",
    "layers": LAYER,
    "snapstart": "true",
    "capacity-provider-arn": "arn:aws:lambda:eu-west-1:123456789012:capacity-provider:orders",
    "capacity-provider-concurrency": "64",
    "capacity-provider-memory-per-vcpu": "4",
    "durable-retention-days": "30",
    "durable-execution-timeout": "3600",
    "tenant-isolation-mode": "PER_TENANT",
    "subnet-ids": "subnet-0123456789abcdef0",
    "security-group-ids": "sg-0123456789abcdef0",
    "ipv6-dual-stack": "true",
    "dead-letter-target": "arn:aws:sqs:eu-west-1:123456789012:orders-dlq",
    "tracing": "Active",
    "kms-key-arn": "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c",
    "ephemeral-storage": "2048",
    "file-systems": "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-0123456789abcdef0=/mnt/data",
    "log-format": "JSON",
    "application-log-level": "WARN",
    "system-log-level": "INFO",
    "log-group": "/orders/api",
    "image-entrypoint": "/lambda-entrypoint.sh",
    "image-command": "app.handler",
    "image-working-directory": "/var/task",
}


def test_every_configuration_row_is_validated_from_the_model(workspace: Path) -> None:
    """Each row of deployer.surface: a valid value loads; values that break one of the model's
    constraints for its member (or its list's member) are refused with the input's name."""

    assert set(SURFACE_VALID) == set(surface.BY_INPUT)
    checked = 0
    for row in surface.ROWS:
        valid = SURFACE_VALID[row.input]
        loaded = load(workspace, **{row.input: valid}).function.configuration  # type: ignore[attr-defined]
        assert row.input in loaded, row.input
        shape = surface.member_shape(row.path)
        leaf = shape.member if row.form in ("list", "set", "one") else shape
        if row.form in ("text", "integer", "list", "set", "one", "number") and leaf.type_name != "boolean":
            for bad in model_violations("lambda", leaf.name, valid):
                found = problems(workspace, **{row.input: bad})
                assert any(f"input '{row.input}'" in p for p in found), (row.input, bad, found)
                checked += 1
        if row.removable:
            assert load(workspace, **{row.input: "none"}).function.configuration[row.input] in ("", [])  # type: ignore[attr-defined]
        else:
            assert any(f"input '{row.input}'" in p for p in problems(workspace, **{row.input: "none"}))
    assert checked >= 12
    too_many = "\n".join(f"sg-{n:017x}" for n in range(6))
    assert any("6 given; Lambda allows at most 5" in p for p in problems(workspace, **{"security-group-ids": too_many}))
    assert any("not ACCESS_POINT_ARN=/mnt/path" in p for p in problems(workspace, **{"file-systems": "fsap-1"}))


def test_a_handler_with_a_space_is_refused(workspace: Path) -> None:
    assert any(
        "input 'handler': 'app handler' does not match the pattern AWS requires: [^\\s]+" in p
        for p in problems(workspace, handler="app handler")
    )


def test_paths_must_stay_inside_the_workspace(workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "handler.py").write_text("x = 1\n")
    (elsewhere / "requirements.txt").write_text("six\n")
    (workspace / "linked").symlink_to(elsewhere)
    cases = {
        "source": ["../" + elsewhere.name, str(elsewhere), "linked"],
        "requirements": ["../" + elsewhere.name + "/requirements.txt", "linked/requirements.txt"],
    }
    for name, values in cases.items():
        for value in values:
            found = problems(workspace, **{name: value})
            assert any(f"input '{name}': '{value}' is outside the workspace" in p for p in found), (value, found)
    load(workspace, source="app")  # inside is fine


IMAGE = "123456789012.dkr.ecr.{region}.amazonaws.com/orders:v1"


def test_an_image_is_taken_from_the_functions_own_region(workspace: Path) -> None:
    """Lambda pulls an image only from ECR in its own region: another region's URI is an input
    error before any AWS call; {region} and {account} are filled in by each target."""
    image = {"package-type": "Image", "source": ""}
    said = problems(workspace, **image, **{"image-uri": IMAGE.format(region="us-east-1")})
    assert said == [
        "input 'image-uri': the image is in ECR in us-east-1 and the function in eu-west-1: Lambda pulls images only from its "
        "own region. push the image to (or replicate it into) the function's region; with waves, write {region} in image-uri "
        "(ECR replication keeps the digest, so every region runs the same image)"
    ]
    assert load(workspace, **image, **{"image-uri": IMAGE.format(region="eu-west-1")}).code.image_uri == IMAGE.format(region="eu-west-1")
    templated = load(workspace, **image, **{"image-uri": IMAGE.replace("123456789012", "{account}")})
    assert templated.templated
    filled = templated.filled("ap-south-1", lambda: "210987654321")
    assert filled.code.image_uri == "210987654321.dkr.ecr.ap-south-1.amazonaws.com/orders:v1"
    bad = problems(workspace, **image, **{"image-uri": IMAGE.replace("{region}", "{stage}")})
    assert "may hold only {region} and {account}" in bad[0]


@pytest.mark.parametrize(
    ("given", "latency", "errors"),
    [("25%", 0.25, 0.25), ("25", 0.25, 0.25), ("0.25", 0.25, 0.25), ("1", 0.01, 0.01), ("0", 0.0, 0.0), ("250%", 2.5, None)],
)
def test_a_rate_or_an_increase_is_read_as_a_person_writes_it(workspace: Path, given: str, latency: float, errors: float | None) -> None:
    """A bare number from 1 up is a percentage, as for canary-weight: 25 is 25%, never 2,500%."""
    analysis = load(workspace, strategy="canary 10% 5m", **{"max-latency-increase": given}).rollout.analysis
    assert analysis.max_latency_increase == pytest.approx(latency)
    if errors is not None:
        rollout = load(workspace, strategy="canary 10% 5m", **{"max-error-rate-increase": given, "max-error-rate": given}).rollout
        assert rollout.analysis.max_error_rate_increase == pytest.approx(errors) and rollout.max_error_rate == pytest.approx(errors)
