"""The security rules as pure functions: ownership, masking, inert text, bounded parsing,
pruning's grace and canary weights; with property tests where a rule is a promise about
every input."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deployer.bounded import MAX_DEPTH, TooComplex, load_json, load_yaml
from deployer.errors import DeployError
from deployer.images import pinned
from deployer.masking import values_to_mask
from deployer.model import AliasState
from deployer.naming import RESERVED_SUFFIX, alias_from_ref, alias_problem
from deployer.ownership import MARKER_PREFIX, Owner, choose_preview_alias, owner_of, owns
from deployer.planner import prune_candidates
from deployer.rollout import trace
from deployer.schedule import parse_canary_weight
from deployer.text import code_span, markdown_text, printable


def alias(name: str, description: str = "", version: str = "1") -> AliasState:
    return AliasState(name, f"arn:aws:lambda:us-east-1:123456789012:function:orders:{name}", version, {}, "r", description)


# --- ownership ---------------------------------------------------------------------


def test_the_marker_names_the_repository_and_the_pull_request_or_branch() -> None:
    assert Owner("octo/orders", 17).marker == "lambda-deploy preview of octo/orders#17"
    assert Owner("octo/orders", ref="feature/x").marker == "lambda-deploy preview of octo/orders@feature/x"
    long = Owner("o" * 39 + "/" + "r" * 100, ref="b" * 250).marker
    assert len(long) <= 256 and long.startswith(MARKER_PREFIX) and "@sha256:" in long


def test_a_preview_in_mid_rollout_is_still_its_own() -> None:
    """A rollout's trace carries the preview's marker: a run killed mid-canary leaves an alias
    its pull request still owns (to resolve, or to clean up), and no one else does."""

    owner = Owner("octo/orders", 17)
    during = alias("feature-x", trace("3", "4", "99", owner.marker))
    assert during.description.startswith("lambda-deploy rollout in progress: stable 3, canary 4, run 99")
    assert owns(owner, during) and not owns(Owner("octo/orders", 18), during)
    assert choose_preview_alias("feature-x", owner, {"feature-x": during}) == "feature-x"
    assert trace("3", "4", "99", "made by hand") == "lambda-deploy rollout in progress: stable 3, canary 4, run 99"
    assert len(trace("3", "4", "99", MARKER_PREFIX + "x" * 250)) <= 256  # too long to ride along: left out


def test_a_free_derived_name_is_used_as_it_is() -> None:
    assert choose_preview_alias("feature-cart-v2", Owner("octo/orders", 17), {}) == "feature-cart-v2"


@pytest.mark.parametrize(
    ("taken_by", "why"),
    [
        ("", "no lambda-deploy preview marker"),  # production, or made by hand
        ("lambda-deploy preview of octo/orders#17", "the preview of octo/orders#17"),  # another pull request
        ("lambda-deploy preview of other/repo#18", "the preview of other/repo#18"),  # the same number elsewhere
    ],
)
def test_an_alias_someone_else_owns_is_never_taken(taken_by: str, why: str) -> None:
    owner = Owner("octo/orders", 18)
    existing = {"live": alias("live", taken_by)}
    assert choose_preview_alias("live", owner, existing) == "live-pr18"
    assert why in owner_of(existing["live"]) and not owns(owner, existing["live"])


def test_the_previews_own_alias_is_found_again_under_either_name() -> None:
    owner = Owner("octo/orders", 18)
    mine = alias("feature-a-b-pr18", owner.marker)
    taken = alias("feature-a-b", Owner("octo/orders", 17).marker)
    assert choose_preview_alias("feature-a-b", owner, {"feature-a-b": taken, "feature-a-b-pr18": mine}) == "feature-a-b-pr18"


def test_the_previous_alias_is_kept_clear_even_before_it_exists() -> None:
    assert choose_preview_alias("previous", Owner("o/r", 3), {}, frozenset({"previous"})) == "previous-pr3"


def test_when_both_names_are_taken_the_error_says_by_whom() -> None:
    existing = {"live": alias("live"), "live-pr4": alias("live-pr4", "made by hand")}
    with pytest.raises(DeployError, match=r"alias 'live' is no preview.*alias 'live-pr4' is no preview"):
        choose_preview_alias("live", Owner("o/r", 4), existing)


def test_a_branch_falls_back_to_a_stable_hash_and_long_names_stay_valid() -> None:
    owner = Owner("o/r", ref="live")
    first = choose_preview_alias("live", owner, {"live": alias("live")})
    assert first == choose_preview_alias("live", owner, {"live": alias("live")}) and first.startswith("live-")
    long = Owner("o/r", 12345).fallback("x" * 128)
    assert len(long) <= 128 and long.endswith("-pr12345") and not alias_problem(long)


refs = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=140)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(refs, st.integers(1, 10**6)), min_size=2, max_size=12, unique_by=lambda pr: pr[1]))
def test_different_pull_requests_never_share_an_alias(pull_requests: list[tuple[str, int]]) -> None:
    """Pull requests claim their previews one after another, against everything claimed so far."""
    existing: dict[str, AliasState] = {"live": alias("live"), "previous": alias("previous")}
    claimed: dict[int, str] = {}
    for ref, number in pull_requests:
        owner = Owner("octo/orders", number)
        base = alias_from_ref(ref)
        name = choose_preview_alias(base, owner, {n: existing.get(n) for n in (base, owner.fallback(base))})
        assert not alias_problem(name)
        assert name not in existing or owns(owner, existing[name]), "took an alias it does not own"
        existing[name] = alias(name, owner.marker)
        claimed[number] = name
    assert len(set(claimed.values())) == len(claimed), claimed
    assert {"live", "previous"}.isdisjoint(claimed.values())


@settings(max_examples=300, deadline=None)
@given(refs, st.integers(1, 10**6), st.sampled_from(["", "made by hand", MARKER_PREFIX + "octo/orders#0", MARKER_PREFIX + "x/y#5"]))
def test_a_derived_alias_never_equals_an_alias_it_does_not_own(ref: str, number: int, foreign_marker: str) -> None:
    owner = Owner("octo/orders", number)
    base = alias_from_ref(ref)
    foreign = {base: alias(base, foreign_marker), owner.fallback(base): alias(owner.fallback(base), foreign_marker)}
    try:
        chosen = choose_preview_alias(base, owner, foreign)
    except DeployError:
        return  # refusing is allowed; taking is not
    assert chosen not in foreign, chosen


# --- masking -----------------------------------------------------------------------


def test_masking_hides_secrets_and_never_garbles_the_log() -> None:
    environment = {
        "DEBUG": "1",
        "STAGE": "production",
        "REGION": "eu-west-1",
        "FLAG": "true",
        "ENDPOINT": "https://api.example.com/v2",
        "RUNTIME": "python3.12",
        "DB_PASSWORD": "hunter2!",
        "API_TOKEN": "abcd",
        "CACHE_KEY_VERSION": "1",
        "OPAQUE": "x9F!kq2#Lm",
        "SESSION_DSN": "postgres://u:p@h/db",
    }
    masked = set(values_to_mask(environment, ["ghs_token123456"]))
    assert masked == {"hunter2!", "abcd", "x9F!kq2#Lm", "postgres://u:p@h/db", "ghs_token123456"}


# --- inert text --------------------------------------------------------------------


def test_control_characters_are_shown_escaped() -> None:
    hostile = "a\x1b[31mred\x07\x1b]0;title\x07\rover\x9bz\tok\nnext"
    assert printable(hostile) == "a\\x1b[31mred\\x07\\x1b]0;title\\x07\\x0dover\\x9bz\tok\nnext"


def test_markdown_and_html_are_escaped_in_untrusted_text() -> None:
    shown = markdown_text("**bold** <img src=x onerror=alert(1)> [link](http://x) `code` a|b \x1b")
    assert "<" not in shown and ">" not in shown and "**" not in shown.replace("\\*", "")
    assert "&lt;img" in shown and "\\[link\\]" in shown and "\\`code\\`" in shown and "a\\|b" in shown and "\\\\x1b" in shown
    assert code_span("feat`ure") == "``feat`ure``"


# --- bounded parsing ---------------------------------------------------------------

BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)
HOSTILE_YAML = {
    "billion laughs": (BILLION_LAUGHS, "alias '*a'"),
    "recursive anchor": ("functions: &f [{function-name: x, exclude: *f}]", "alias '*f'"),
    "20,000 nested [": ("[" * 20_000, f"deeper than {MAX_DEPTH}"),
    "deep mapping": ("a:\n" + "".join(" " * i + "b:\n" for i in range(1, 60)), f"deeper than {MAX_DEPTH}"),
    "deep flow mapping": ("{a: " * 5_000, f"deeper than {MAX_DEPTH}"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_YAML))
def test_hostile_yaml_is_refused_quickly(case: str) -> None:
    text, message = HOSTILE_YAML[case]
    started = time.process_time()
    with pytest.raises(TooComplex, match=message.replace("*", r"\*").replace("[", r"\[")):
        load_yaml(text)
    assert time.process_time() - started < 5  # a bound against a hang, not a speed goal


@pytest.mark.parametrize("text", ["[" * 5_000, '{"a":' * 5_000, "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)])
def test_deep_json_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=f"deeper than {MAX_DEPTH}"):
        load_json(text)


def test_brackets_inside_strings_do_not_count_and_ordinary_values_load() -> None:
    assert load_json('{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"{{{{"}') == {"a": "[" * 40 + '"{{{{'}
    expected = {"functions": [{"function-name": "x", "exclude": ["a", "b"]}]}
    expected = {"functions": [{"function-name": "x", "exclude": ["a", "b"]}]}
    assert load_yaml("functions:\n  - function-name: x\n    exclude: [a, b]\n") == expected


# --- pruning's grace ---------------------------------------------------------------


def test_pruning_keeps_young_versions_and_those_of_unknown_age() -> None:
    versions = ["1", "2", "3", "4", "5"]
    ages = {"1": 7200.0, "2": 7200.0, "3": 30.0, "4": 10.0}
    assert prune_candidates(versions, [alias("live", version="1")], 1, ages, 3600) == ("2",)
    assert prune_candidates(versions, [alias("live", version="1")], 1, ages, 0) == ("2", "3", "4")


# --- canary weights ----------------------------------------------------------------


@given(st.integers(1, 99))
def test_a_bare_number_from_1_to_99_is_a_percentage(percent: int) -> None:
    assert parse_canary_weight(str(percent)) == pytest.approx(percent / 100)
    assert parse_canary_weight(f"{percent}%") == pytest.approx(percent / 100)


@given(st.floats(0.0001, 99.9999, allow_nan=False))
def test_no_value_in_range_is_called_out_of_range(value: float) -> None:
    parsed = parse_canary_weight(f"{value}%")
    assert 0 < parsed < 1


def _refused(parse: Callable[[str], Any], text: str) -> str:
    with pytest.raises(ValueError) as raised:
        parse(text)
    return str(raised.value)


def test_values_out_of_range_say_what_they_are() -> None:
    assert "'100' is 100% of the traffic, which is not a canary" in _refused(parse_canary_weight, "100")
    assert "'0' is 0% of the traffic" in _refused(parse_canary_weight, "0")


@pytest.mark.parametrize("control", ["\u202e", "\u202a", "\u2066", "\u2069", "\u200f", "\u061c", "\u2028"])
def test_bidi_controls_and_line_separators_are_shown_escaped(control: str) -> None:

    shown = printable(f"a{control}b")
    assert control not in shown and f"\\u{ord(control):04x}" in shown
    assert control not in markdown_text(f"a{control}b")


@pytest.mark.parametrize("branch", ["feature-x-pr42", "fix-PR7", "x-pr1", "topic-b1a2b3c4d", "a/b-pr99"])
def test_no_derived_name_ends_the_way_a_fallback_does(branch: str) -> None:

    derived = alias_from_ref(branch)
    assert not RESERVED_SUFFIX.search(derived), derived
    assert alias_problem(derived) == ""


def test_a_fallback_always_ends_in_its_reserved_suffix() -> None:

    assert Owner("o/r", 42).fallback("feature-x") == "feature-x-pr42"
    branch = Owner("o/r", ref="feature/x").fallback("feature-x")
    assert RESERVED_SUFFIX.search(branch) and branch.startswith("feature-x-b")
    assert len(Owner("o/r", 7).fallback("y" * 128)) == 128


def test_images_are_pinned_to_the_digest_that_was_resolved() -> None:

    repository = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/orders"
    digest = "a" * 64
    assert pinned(f"{repository}:prod", digest) == f"{repository}@sha256:{digest}"
    assert pinned(f"{repository}@sha256:{'b' * 64}", f"sha256:{digest}") == f"{repository}@sha256:{digest}"
    with pytest.raises(ValueError, match="not an ECR image"):
        pinned("docker.io/library/python:3", digest)
