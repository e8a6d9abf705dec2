from __future__ import annotations

import hashlib

import pytest

from deployer.naming import alias_from_ref, alias_problem, ref_from_env


@pytest.mark.parametrize(
    ("ref", "alias"),
    [
        ("main", "main"),
        ("feature/login-page", "feature-login-page"),
        ("refs/heads/release/1.2", "release-1-2"),
        ("dependabot/pip/boto3-1.2.3", "dependabot-pip-boto3-1-2-3"),
        ("fix__under_score", "fix__under_score"),
        ("--weird//name--", "weird-name"),
        ("1234", "ref-1234"),
        ("ünïcode/straße", "unicode-strae"),
        ("///", "ref-" + hashlib.sha256(b"///").hexdigest()[:8]),
        ("日本語", "ref-" + hashlib.sha256("日本語".encode()).hexdigest()[:8]),
        ("", ""),
    ],
)
def test_alias_from_ref(ref: str, alias: str) -> None:
    assert alias_from_ref(ref) == alias


def test_long_refs_are_shortened_with_a_hash_and_stay_distinct() -> None:
    first = alias_from_ref("feature/" + "a" * 200 + "-one")
    second = alias_from_ref("feature/" + "a" * 200 + "-two")
    assert len(first) == 128 and len(second) == 128
    assert first != second
    assert first.startswith("feature-aaaa")
    assert alias_problem(first) == ""


def test_every_derived_alias_is_valid() -> None:
    for ref in ("a/b", "9" * 300, "x" * 129, "release/2026.11", "@@@x"):
        derived = alias_from_ref(ref)
        assert alias_problem(derived) == "", (ref, derived)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("", "empty"), ("123", "all digits"), ("a/b", "only letters"), ("x" * 129, "129 characters")],
)
def test_alias_problems(name: str, fragment: str) -> None:
    assert fragment in alias_problem(name)


def test_ref_from_env_prefers_the_head_branch_of_pull_requests() -> None:
    env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_HEAD_REF": "feature/x", "GITHUB_REF_NAME": "42/merge"}
    assert ref_from_env(env) == "feature/x"
    assert ref_from_env({**env, "GITHUB_EVENT_NAME": "push"}) == "42/merge"
    assert ref_from_env({}) == ""
