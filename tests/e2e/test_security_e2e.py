"""The preview lifecycle tried as a hostile user and a busy team would, through entrypoint.py.

Each test is one class of defect from the security review: a pull request taking over
production, two pull requests sharing a preview, pruning under a deploy that is about to
use its version, hostile deploy files and inputs, the checkout's credentials in the zip,
raw control characters and masks that garble the log. Every run's log is also checked by
the runner emulation for stray commands, leaked secrets and raw control characters.
"""

from __future__ import annotations

import io
import json
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest

from deployer.sandbox import Sandbox
from tests.e2e.runner import ActionRun, create_inputs, github_env, run_action

PRODUCTION = "live"


def pull_request(tmp_path: Path, number: int, branch: str, action: str = "opened") -> dict[str, str]:
    """The runner's environment for a pull_request event from ``branch``."""
    path = tmp_path / f"event-{number}-{action}.json"
    path.write_text(json.dumps({"action": action, "number": number, "pull_request": {"number": number, "head": {"ref": branch}}}))
    return {**github_env(event="pull_request", ref_name=f"{number}/merge", head_ref=branch), "GITHUB_EVENT_PATH": str(path)}


def preview(command: str = "deploy", **extra: str) -> dict[str, str]:
    return {"function-name": "orders", "source": "app", "command": command, "keep-versions": "1", **extra}


def aliases(lambda_client: Any) -> dict[str, tuple[str, str]]:
    listed = lambda_client.list_aliases(FunctionName="orders")["Aliases"]
    return {a["Name"]: (a["FunctionVersion"], a.get("Description", "")) for a in listed}


def versions(lambda_client: Any) -> list[str]:
    return [v["Version"] for v in lambda_client.list_versions_by_function(FunctionName="orders")["Versions"] if v["Version"] != "$LATEST"]


def change(workspace: Path, text: str) -> None:
    (workspace / "app" / "handler.py").write_text(f"def handler(event, context):\n    return {text!r}\n")


def errors(run: ActionRun) -> str:
    return "\n".join(run.errors)


@pytest.fixture
def production(fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any) -> None:
    """Production: alias live on version 1, deployed from main with an explicit alias."""
    assert run_action(workspace, fast, create_inputs(role_arn)).returncode == 0
    assert aliases(lambda_client)[PRODUCTION] == ("1", "")


def test_a_pull_request_from_a_branch_named_like_production_never_touches_it(
    production: None, fast: Sandbox, workspace: Path, lambda_client: Any, tmp_path: Path
) -> None:
    change(workspace, "untrusted")
    opened = run_action(workspace, fast, preview(**{"function-url": "public"}), github=pull_request(tmp_path, 17, "live"))
    assert opened.returncode == 0, opened.stdout
    assert opened.outputs["alias"] == "live-pr17" and opened.outputs["version"] == "2"
    assert "alias live is no preview" in opened.stdout and "this preview uses alias live-pr17" in opened.stdout
    assert "`live-pr17`" in opened.summary
    held = aliases(lambda_client)
    # The preview's alias carries its marker, then the commit, run and actor that moved it (production's carries nothing).
    assert held[PRODUCTION] == ("1", "")
    assert held["live-pr17"] == ("2", "lambda-deploy preview of octo/orders#17 · commit 5ca1ab1e5ca1 run 4242 by octocat")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function_url_config(FunctionName="orders", Qualifier=PRODUCTION)
    assert lambda_client.get_function_url_config(FunctionName="orders", Qualifier="live-pr17")["AuthType"] == "NONE"

    fast.fidelity.age("orders", 7200)  # type: ignore[union-attr]  # every version is past prune-grace
    closed = run_action(workspace, fast, preview("cleanup"), github=pull_request(tmp_path, 17, "live", "closed"))
    assert closed.returncode == 0, closed.stdout
    assert closed.outputs["alias"] == "live-pr17" and closed.outputs["status"] == "cleaned-up"
    assert aliases(lambda_client) == {PRODUCTION: ("1", "")} and versions(lambda_client) == ["1", "2"]  # the newest, and live's

    # A push to a branch named live derives alias live too: it gets its own preview alias.
    pushed = run_action(workspace, fast, preview(), github=github_env(event="push", ref_name="live"))
    assert pushed.returncode == 0 and pushed.outputs["alias"].startswith("live-") and aliases(lambda_client)[PRODUCTION] == ("1", "")


def test_cleanup_refuses_any_alias_that_is_not_this_pull_requests_preview(
    production: None, fast: Sandbox, workspace: Path, lambda_client: Any, tmp_path: Path
) -> None:
    explicit = run_action(workspace, fast, preview("cleanup", alias=PRODUCTION), github=pull_request(tmp_path, 17, "x", "closed"))
    assert explicit.returncode == 1
    assert "cleanup refused: alias 'live' is not the preview of pull request #17 of octo/orders" in errors(explicit)
    assert "no lambda-deploy preview marker" in errors(explicit) and "Nothing was deleted" in errors(explicit)

    # A pull request that never deployed, closed, whose branch derives the name of someone else's alias:
    # there is nothing of its own to remove, which is said, and the other alias is left alone.
    lambda_client.create_alias(FunctionName="orders", Name="hand-made", FunctionVersion="1", Description="ops team")
    derived = run_action(workspace, fast, preview("cleanup"), github=pull_request(tmp_path, 17, "hand-made", "closed"))
    assert derived.returncode == 0, derived.stdout
    notices = [c.data for c in derived.commands if c.name == "notice"]
    assert any("alias hand-made is no preview" in n and "left alone" in n for n in notices), notices
    assert any("nothing to remove" in n for n in notices), notices
    assert set(aliases(lambda_client)) == {PRODUCTION, "hand-made"} and versions(lambda_client) == ["1"]


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [("feature/a-b", "feature-a-b", "feature-a-b"), ("17", "ref-17", "ref-17"), ("fëature/x", "feature/x", "feature-x")],
)
def test_two_pull_requests_whose_branches_map_to_one_name_get_two_previews(
    production: None, fast: Sandbox, workspace: Path, lambda_client: Any, tmp_path: Path, first: str, second: str, shared: str
) -> None:
    change(workspace, "pr 17")
    a = run_action(workspace, fast, preview(**{"function-url": "aws-iam"}), github=pull_request(tmp_path, 17, first))
    change(workspace, "pr 18")
    b = run_action(workspace, fast, preview(**{"function-url": "aws-iam"}), github=pull_request(tmp_path, 18, second))
    assert (a.returncode, b.returncode) == (0, 0), b.stdout
    assert (a.outputs["alias"], b.outputs["alias"]) == (shared, f"{shared}-pr18")
    assert a.outputs["function-url"] != b.outputs["function-url"]
    held = aliases(lambda_client)
    assert held[shared][0] == a.outputs["version"] and held[f"{shared}-pr18"][0] == b.outputs["version"]

    # PR 18 updates and then closes: PR 17's alias and URL stay as they are.
    change(workspace, "pr 18 again")
    again = run_action(workspace, fast, preview(), github=pull_request(tmp_path, 18, second, "synchronize"))
    assert again.outputs["alias"] == f"{shared}-pr18" and aliases(lambda_client)[shared][0] == a.outputs["version"]
    closed = run_action(workspace, fast, preview("cleanup"), github=pull_request(tmp_path, 18, second, "closed"))
    assert closed.returncode == 0 and closed.outputs["alias"] == f"{shared}-pr18"
    held = aliases(lambda_client)
    assert f"{shared}-pr18" not in held and held[shared][0] == a.outputs["version"]
    assert lambda_client.get_function_url_config(FunctionName="orders", Qualifier=shared)["FunctionUrl"] == a.outputs["function-url"]


def test_pruning_never_deletes_a_version_another_deploy_is_about_to_use(
    production: None, fast: Sandbox, workspace: Path, lambda_client: Any, tmp_path: Path
) -> None:
    """Deploy A is held between its publish and its alias move while deploy B, another pull
    request with keep-versions: 1, publishes and prunes: two real processes."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "app").mkdir()
    (other / "app" / "handler.py").write_text("def handler(event, context):\n    return 'B'\n")
    change(workspace, "A")

    def race(grace: str) -> tuple[ActionRun, ActionRun]:
        during: list[ActionRun] = []
        fast.fidelity.before(  # type: ignore[union-attr]
            "CreateAlias",
            lambda: during.append(run_action(other, fast, preview(**{"prune-grace": grace}), github=pull_request(tmp_path, 18, "b"))),
        )
        a = run_action(workspace, fast, preview(**{"prune-grace": grace}), github=pull_request(tmp_path, 17, "a"))
        return a, during[0]

    a, b = race("1h")
    assert (a.returncode, b.returncode) == (0, 0), a.stdout
    assert a.outputs["version"] == "2" and b.outputs["version"] == "3" and aliases(lambda_client)["a"][0] == "2"
    assert b.outputs["deleted-versions"] == ""  # version 2 was young, so it was kept

    # The same race with prune-grace: 0: A's version goes, and A says so truthfully.
    for name, pr in (("a", 17), ("b", 18)):
        run_action(workspace, fast, preview("cleanup", **{"keep-versions": "0"}), github=pull_request(tmp_path, pr, name, "closed"))
    change(workspace, "A2")
    (other / "app" / "handler.py").write_text("def handler(event, context):\n    return 'B2'\n")
    a, b = race("0")
    assert b.returncode == 0 and a.outputs.get("version") is None and a.returncode == 1, a.stdout
    text = errors(a)
    assert "which this deploy published, was deleted before alias 'a' moved to it" in text
    assert "run the same deploy again: it publishes a new version" in text and "reuses version" not in text
    again = run_action(workspace, fast, preview(), github=pull_request(tmp_path, 17, "a"))
    assert again.returncode == 0 and int(again.outputs["version"]) > int(b.outputs["version"])
    assert (
        lambda_client.get_function_configuration(FunctionName="orders", Qualifier=again.outputs["version"])["CodeSha256"]
        == (again.outputs["code-sha256"])
    )


HOSTILE_FILES = {
    "billion-laughs.yml": 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    + "functions: *i\n",
    "recursive.yml": "functions: &f [{function-name: x, exclude: *f}]\n",
    "nested.yml": "functions: " + "[" * 20_000 + "\n",
    "huge.yml": "functions:\n" + "".join(f"  - function-name: fn-{i}\n" for i in range(60_000)),
    "deep-payload.yml": "functions:\n  - function-name: x\n    smoke-payload: " + json.dumps(json.loads("[" * 40 + "]" * 40)) + "\n",
}
HOSTILE_MESSAGES = {
    "billion-laughs.yml": "uses the YAML alias '*a'",
    "recursive.yml": "uses the YAML alias '*f'",
    "nested.yml": "nests deeper than 32 levels",
    "huge.yml": "bytes; a deploy file may have 1,048,576",
    "deep-payload.yml": "nests deeper than 32 levels",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_hostile_deploy_files_are_refused_with_exit_1_and_a_line(fast: Sandbox, workspace: Path, name: str) -> None:
    (workspace / name).write_text(HOSTILE_FILES[name])
    started = time.monotonic()
    run = run_action(workspace, fast, {"config": name})
    assert run.returncode == 1, run.stdout[-2000:]
    assert time.monotonic() - started < 60  # a bound against the hangs seen before (minutes), not a speed goal
    (error,) = [e for e in run.errors if HOSTILE_MESSAGES[name] in e]
    assert f"file={name}" in error and ",line=" in error and "Traceback" not in run.stdout + run.stderr


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"smoke-payload": "[" * 5000 + "]" * 5000}, "input 'smoke-payload': nests deeper than 32 levels"),
        ({"smoke-payload": "{}", "smoke-expect": '{"a":' * 5000 + "1" + "}" * 5000}, "input 'smoke-expect': nests deeper than 32"),
        ({"environment": "A: " + "[" * 5000}, "input 'environment'"),
        ({"environment": "a: &x [1]\nb: *x\n"}, "input 'environment': uses the YAML alias '*x'"),
    ],
)
def test_deep_or_aliased_inputs_are_refused_with_their_name(fast: Sandbox, workspace: Path, given: dict[str, str], message: str) -> None:
    run = run_action(workspace, fast, {"function-name": "orders", "source": "app", "alias": "live", **given})
    assert run.returncode == 1 and any(message in e for e in run.errors), run.errors
    assert "Traceback" not in run.stdout + run.stderr


@pytest.mark.parametrize("link", [".git", ".git/config", ".git/"])
def test_the_checkouts_credentials_never_reach_the_zip(
    fast: Sandbox, workspace: Path, role_arn: str, lambda_client: Any, tmp_path: Path, link: str
) -> None:
    git = workspace / ".git"
    git.mkdir()
    (git / "config").write_text('[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n')
    (workspace / "handler.py").write_text("def handler(event, context):\n    return 1\n")
    (workspace / "repo-config").symlink_to(link.rstrip("/"))
    (workspace / "app" / "gitdir").symlink_to(Path("..") / link.rstrip("/"))
    run = run_action(workspace, fast, {**create_inputs(role_arn), "source": "."})
    assert run.returncode == 0, run.stdout
    code = lambda_client.get_function(FunctionName="orders")["Code"]["Location"]

    with urllib.request.urlopen(code) as response:
        names = zipfile.ZipFile(io.BytesIO(response.read())).namelist()
    assert "handler.py" in names and "app/handler.py" in names
    assert not [n for n in names if "config" in n or ".git" in n or n.startswith(("repo-config", "app/gitdir"))], names

    # Links that leave the source are still refused.
    (workspace / "escape").symlink_to(tmp_path.parent)
    refused = run_action(workspace, fast, {**create_inputs(role_arn), "source": "."})
    assert refused.returncode == 1 and any("points outside the source" in e for e in refused.errors)


def test_control_characters_are_shown_escaped_in_the_log_and_the_summary(
    production: None, fast: Sandbox, workspace: Path, role_arn: str, tmp_path: Path
) -> None:
    description = "orders \x1b[2J\x1b]0;pwned\x07 bell\x07 back\rover <b>bold</b> **x**"
    run = run_action(workspace, fast, {**create_inputs(role_arn), "description": description})
    assert run.returncode == 0, run.stdout
    # The runner emulation has already refused raw control characters in the log, the summary and the outputs.
    assert "\\x1b[2J\\x1b]0;pwned\\x07 bell\\x07 back\\x0dover" in run.stdout
    assert "&lt;b&gt;bold&lt;/b&gt; \\*\\*x\\*\\*" in run.summary and "<b>" not in run.summary


def test_plain_environment_values_are_not_masked_and_secret_ones_are(fast: Sandbox, workspace: Path, role_arn: str) -> None:
    environment = "DEBUG=1\nSTAGE=production\nREGION=eu-west-1\nDB_PASSWORD=correct-horse-battery\nOPAQUE=x9F!kq2#Lm"
    run = run_action(workspace, fast, {**create_inputs(role_arn), "environment": environment})
    assert run.returncode == 0, run.stdout
    masks = {c.data for c in run.commands if c.name == "add-mask"}
    assert {"correct-horse-battery", "x9F!kq2#Lm"} <= masks
    assert masks.isdisjoint({"1", "production", "eu-west-1"}), masks
    assert "python3.12" in run.stdout or "python3.12" in run.summary


def test_canary_weight_10_is_ten_percent(production: None, fast: Sandbox, workspace: Path, lambda_client: Any) -> None:
    change(workspace, "canary")
    run = run_action(workspace, fast, {"function-name": "orders", "source": "app", "alias": PRODUCTION, "canary-weight": "10"})
    assert run.returncode == 0, run.errors
    assert run.outputs["status"] == "canary"
    routing = lambda_client.get_alias(FunctionName="orders", Name=PRODUCTION)["RoutingConfig"]["AdditionalVersionWeights"]
    assert routing == {"2": 0.1}
