"""Secrets never leave, and what others wrote stays inert: each case as it was seen, through entrypoint.py.

Environment values in the JSON form with ``=``, Lambda's 4 KB refusal that quotes every value,
another user's comment that carries the action's marker, and file names that try to steer the
``diff`` comment. The runner emulation already fails any run whose log, summary or outputs show
a value it knows to be secret; these tests also look for pieces of values.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from deployer.sandbox import Sandbox
from tests.conftest import make_zip
from tests.e2e.runner import ActionRun, create_inputs, run_action
from tests.e2e.test_operator_e2e import cli
from tests.e2e.test_preview import step
from tests.github_fake import FakeGitHub
from tests.markdown_check import code_spans, problems

BASE64 = "c2VjcmV0LXRva2VuLTEyMzQ1Ng=="


def pieces(value: str, size: int = 8) -> set[str]:
    return {value[start : start + size] for start in range(len(value) - size + 1)}


def shown(run: ActionRun) -> str:
    """Everything a reader of the run sees, but the ::add-mask:: lines."""
    lines = [line for line in run.stdout.splitlines() if not line.startswith("::add-mask::")]
    return "\n".join([*lines, run.stderr, run.summary, *run.outputs.values()])


def leaked(run: ActionRun, *values: str) -> set[str]:
    text = shown(run)
    return {piece for value in values for piece in pieces(value) if piece in text}


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


def test_a_json_environment_whose_value_holds_equals_deploys_as_given(
    fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any
) -> None:
    connection = "postgres://orders:pa=ss@db.example.com/orders?sslmode=require"
    given = {"API_KEY": BASE64, "DATABASE_URL": connection, "PLAIN": "a=b"}
    run = run_action(workspace, fast, {**create_inputs(role_arn), "environment": json.dumps(given)})
    assert run.returncode == 0, run.stdout
    assert lambda_client.get_function_configuration(FunctionName="orders")["Environment"]["Variables"] == given
    assert not leaked(run, BASE64, connection)
    # The same text, broken: the error says where, and shows no part of any value.
    broken = run_action(workspace, fast, {**create_inputs(role_arn), "environment": json.dumps(given)[:-1]})
    assert broken.returncode == 1 and "input 'environment'" in broken.errors[0] and "not valid JSON" in broken.errors[0]
    assert not leaked(broken, BASE64, connection)


def test_lambdas_4kb_refusal_never_shows_a_value(fast: Sandbox, workspace: Path, role_arn: str) -> None:
    secret = "hunter2-" + "s3cr3t" * 40
    variables = {"DB_PASSWORD": secret, **{f"VAR_{n:03}": f"value-{n:03}-" + "x" * 12 for n in range(20)}}
    # Lambda measures what lambda-deploy measures, but this sandbox is told to refuse less, so the
    # refusal comes from Lambda itself, worded as Lambda words it, quoting every value.
    fast.fidelity.environment_limit = 600  # type: ignore[union-attr]
    run = run_action(workspace, fast, {**create_inputs(role_arn), "environment": json.dumps(variables)})
    assert run.returncode == 1
    assert ("CreateFunction", "InvalidParameterValueException") in fast.fidelity.refusals  # type: ignore[union-attr]
    assert any("exceeded the 4KB limit. String measured: (not shown: it holds the variables' values)" in e for e in run.errors)
    assert not leaked(run, secret, *variables.values())


def test_an_environment_over_4kb_is_refused_before_any_call_naming_the_biggest(fast: Sandbox, workspace: Path, role_arn: str) -> None:
    variables = {f"V{n:03}": f"{n:03}" + "y" * 24 for n in range(136)}
    variables["DB_PASSWORD"] = "z" * 300
    run = run_action(workspace, fast, {**create_inputs(role_arn), "environment": json.dumps(variables)})
    assert run.returncode == 1 and "CreateFunction" not in run.calls
    (error,) = run.errors
    assert "as Lambda measures them (their JSON text)" in error and "too many" in error
    assert "The biggest: 'DB_PASSWORD' (317 bytes)" in error and "Secrets Manager" in error
    assert not leaked(run, *variables.values())


def test_another_users_marked_comment_is_never_edited(
    fast: Sandbox, workspace: Path, role_arn: str, github: FakeGitHub, tmp_path: Path
) -> None:
    marker = "<!-- lambda-deploy preview: orders / feature-login-page -->"
    github.comments[1] = {"id": 1, "body": f"I am not the bot {marker}", "user": {"login": "mallory", "type": "User"}}
    inputs = {**create_inputs(role_arn), "alias": "", "comment": "true"}
    opened = step(workspace, fast, github, tmp_path, "opened", inputs)
    assert opened.returncode == 0, opened.stdout
    assert github.comments[1]["body"] == f"I am not the bot {marker}"  # mallory's words stay mallory's
    (own,) = [c for c in github.comments.values() if c["user"]["login"] == "github-actions[bot]"]
    assert marker in own["body"] and "comment 1 by mallory carries lambda-deploy's marker" in opened.stdout
    again = step(workspace, fast, github, tmp_path, "synchronize", inputs)
    assert again.returncode == 0 and github.comments[1]["body"].startswith("I am not the bot")
    assert [m for m, _ in github.comment_calls()].count("PATCH") == 1  # the bot's own comment, edited once
    assert all(r.path.rsplit("/", 1)[-1] != "1" for r in github.requests if r.method == "PATCH")


def test_an_app_tokens_comment_is_replaced_not_doubled(
    fast: Sandbox, workspace: Path, role_arn: str, github: FakeGitHub, tmp_path: Path
) -> None:
    github.author = ("orders-deploy-app[bot]", "Bot")  # another app's installation token: GET /user is refused
    inputs = {**create_inputs(role_arn), "alias": "", "comment": "true"}
    for action in ("opened", "synchronize", "synchronize"):
        assert step(workspace, fast, github, tmp_path, action, inputs).returncode == 0
    assert len([c for c in github.comments.values() if "lambda-deploy preview" in c["body"]]) == 1


HOSTILE_NAMES = ("a` <b>x<b> @octocat `.py", "n<!--.py", "backdoor.py", "z-->.py", "<img src=x onerror=alert(1)>.py")


def test_file_names_cannot_steer_the_diff_comment(
    fast: Sandbox, workspace: Path, role_arn: str, github: FakeGitHub, tmp_path: Path
) -> None:
    assert run_action(workspace, fast, create_inputs(role_arn)).returncode == 0
    for name in HOSTILE_NAMES:
        (workspace / "app" / name).write_text("x = 1\n")
    inputs = {**create_inputs(role_arn), "command": "diff", "comment": "true"}
    run = step(workspace, fast, github, tmp_path, "synchronize", inputs)
    assert run.returncode == 0, run.stdout
    (comment,) = [c["body"] for c in github.comments.values() if "What merging this would change in production" in c["body"]]
    for markdown in (comment, run.summary):
        assert problems(markdown) == [], problems(markdown)
        assert set(HOSTILE_NAMES) <= set(code_spans(markdown)), code_spans(markdown)


CREDENTIALS = {
    "DATABASE_URL": "postgres://orders:Sup3r-pa55word@db.example.com:5432/orders",
    "REDIS_URL": "redis://:hunter2hunter2@cache.example.com:6379/0",
    "STRIPE_SK": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "ADMIN_PIN": "482913",
    "GITHUB": "ghp_" + "aB3xY9" * 6,
    "SLACK_BOT": "xoxb-" + "5180392746-3719284650176-Zq8vKp2LmN4rT7wX9yB1cD3e",
    "NOTIFY": "https://hooks.slack.com/services/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",
    "AWS_ID": "AKIA" + "IOSFODNN7EXAMPLE",
}
PLAIN = {"LOG_LEVEL": "INFO", "API_URL": "https://api.example.com/v1", "TABLE_NAME": "orders-table-prod"}


def test_init_holds_credentials_back_and_writes_plain_values(sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:

    sandbox.fidelity.in_progress_reads = 0  # type: ignore[union-attr]
    lambda_client.create_function(
        FunctionName="orders", Runtime="python3.12", Role=role_arn, Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": "x = 1\n"})}, Environment={"Variables": {**CREDENTIALS, **PLAIN}},
    )  # fmt: skip
    init = cli(sandbox, workspace, "init", "--function-name", "orders", "--output", "deploy.yml")
    assert init.returncode == 0, init.stderr
    text = (workspace / "deploy.yml").read_text()
    for name, value in CREDENTIALS.items():
        # The secret part: a URL's password, a webhook's path, else the whole value (the rest of a URL is plain text).
        secret = value.split("@")[0].rsplit(":", 1)[-1] if "@" in value else value.split("/services/")[-1]
        assert not pieces(secret, min(8, len(secret))) & pieces(text, min(8, len(secret))), name
        assert f"# {name}: not written, it looks secret" in text and f"secrets.{name}" in text
    assert yaml.safe_load(text)["functions"][0]["environment"] == PLAIN


def test_an_alias_description_cannot_add_yaml(sandbox: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:

    sandbox.fidelity.in_progress_reads = 0  # type: ignore[union-attr]
    lambda_client.create_function(
        FunctionName="orders", Runtime="python3.12", Role=role_arn, Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": "x = 1\n"})}, Description='desc"\nmemory: 10240\n#',
        Tags={"team\ndefaults:": "x\n  function-url: public"},
    )  # fmt: skip
    version = lambda_client.publish_version(FunctionName="orders")["Version"]
    steering = "hi\ndefaults:\n  function-url: public\n  environment-mode: replace\r\n\u2028functions: []"
    lambda_client.create_alias(FunctionName="orders", Name="live", FunctionVersion=version, Description=steering)
    init = cli(sandbox, workspace, "init", "--function-name", "orders", "--output", "deploy.yml")
    assert init.returncode == 0, init.stderr
    loaded = yaml.safe_load((workspace / "deploy.yml").read_text())
    assert set(loaded) == {"functions"} and len(loaded["functions"]) == 1
    entry = loaded["functions"][0]
    assert "function-url" not in entry and "environment-mode" not in entry and "memory" not in entry
    assert entry["description"] == 'desc"\nmemory: 10240\n#' and entry["tags"] == {"team\ndefaults:": "x\n  function-url: public"}


NAME = st.from_regex(r"[A-Z][A-Z0-9_]{1,8}", fullmatch=True)
# Values with what breaks naive parsers: '=', quotes, line breaks, '#', ': ', braces, and any unicode.
VALUE = st.one_of(
    st.text(st.one_of(st.sampled_from("==\"'\n#:{} ,"), st.characters(exclude_categories=("Cs",))), min_size=1, max_size=24),
    st.binary(min_size=8, max_size=30).map(lambda raw: base64.b64encode(raw).decode()),  # base64 ends in '='
    st.builds("postgres://u:{}@db/x?ssl=on".format, st.text("abcXYZ019=!", min_size=8, max_size=16)),  # a connection string
)
# A piece worth looking for: one that holds something no ordinary line of the log is made of.
ORDINARY = re.compile(r"[A-Za-z0-9 .,:;/()_+\-]*")


def form_of(variables: dict[str, str], form: str) -> str:
    if form == "json":
        return json.dumps(variables)
    if form == "yaml":
        return yaml.safe_dump(variables, allow_unicode=True)
    return "\n".join(f"{name}={value}" for name, value in variables.items())


def key_value_safe(value: str) -> bool:
    return "\n" not in value and "\r" not in value and value == value.strip() and all(c.isprintable() for c in value)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    variables=st.dictionaries(st.one_of(NAME, st.sampled_from(["AWS_REGION", "1BAD", "x"])), VALUE, max_size=5),
    form=st.sampled_from(["json", "yaml", "lines"]),
)
def test_any_environment_deploys_exactly_or_is_refused_and_never_shows_a_value(
    sandbox: Sandbox, workspace: Path, role_arn: str, variables: dict[str, str], form: str
) -> None:
    if form == "lines":
        assume(all(key_value_safe(value) for value in variables.values()))
    sandbox.reset()
    sandbox.fidelity.in_progress_reads = 0  # type: ignore[union-attr]
    boto3.client("iam").create_role(RoleName="deploy-test", AssumeRolePolicyDocument="{}")
    inputs = {**create_inputs(role_arn), "environment": form_of(variables, form), "environment-mode": "replace"}
    run = run_action(workspace, sandbox, inputs)
    assert run.returncode in (0, 1), run.stdout
    if run.returncode == 0:
        deployed = boto3.client("lambda").get_function_configuration(FunctionName="orders").get("Environment", {}).get("Variables", {})
        assert deployed == variables
    text = shown(run)
    for value in variables.values():
        telling = {piece for piece in pieces(value) if not ORDINARY.fullmatch(piece)}
        assert not {piece for piece in telling if piece in text}, (value, form)
