"""Untrusted text in the action's Markdown, read back with a CommonMark parser (markdown-it-py).

Whatever a file name, a description or an error holds, the rendered summary and comment show it
literally: no HTML but the action's own tags, no mention, no raw control or bidi character.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from deployer.commands.diff import Difference, Files, markdown
from deployer.model import Change, Plan, Result, RolloutOutcome, TimelineEvent
from deployer.report import comment_markdown
from deployer.report import markdown as summary
from deployer.text import code_span, markdown_text, printable
from tests.markdown_check import code_spans, problems

NAMES = st.text(st.characters(exclude_characters="/\x00", exclude_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda name: name.strip() != ""
)


def shown(name: str) -> str:
    """A name as a code span shows it: control characters escaped, line breaks as spaces."""
    return printable(name).replace("\n", " ")


@settings(max_examples=300, deadline=None)
@given(names=st.lists(NAMES, min_size=1, max_size=4))
def test_any_file_name_is_shown_and_opens_no_html(names: list[str]) -> None:
    difference = Difference("orders", "live", ("memory: 128 → 256",), "old=", "new=", Files(tuple(names), (), ()), ("upload code",))
    rendered = markdown(difference, "What merging this would change in production")
    assert problems(rendered) == [], problems(rendered)
    assert {shown(name) for name in names} <= set(code_spans(rendered))


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60))
def test_any_text_in_a_reason_or_a_change_stays_text(text: str) -> None:
    plan = Plan("orders", "live", (), "old=", "new=", (Change("description", text, text),), "1", None)
    rollout = RolloutOutcome("rolled-back", "1", "1", "2", text, (TimelineEvent(1.0, 0.1, text, text),))
    result = Result("rolled-back", "arn", "1", "1", "live", "arn:live", "new=", True, plan, rollout=rollout, artifact=text)
    for rendered in (summary(result), comment_markdown(result, "abc", "")):
        assert problems(rendered) == [], problems(rendered)


def test_the_cases_that_were_seen() -> None:
    hostile = ["a` <b>x<b> @octocat `.py", "n<!--.py", "backdoor.py", "z-->.py", "<img src=x onerror=alert(1)>.py"]
    rendered = markdown(Difference("orders", "live", (), "a", "b", Files(tuple(hostile), (), ())), "t")
    assert problems(rendered) == [] and set(hostile) <= set(code_spans(rendered))
    assert "@\u200boctocat" in markdown_text("ping @octocat") and problems(markdown_text("ping @octocat, me@example.com")) == []


def test_code_spans_follow_commonmark() -> None:
    for text in ("plain", "`", "``x``", "a ` b", " lead", "trail ", "`edge`", "x|y", "tab\there"):
        assert code_spans(code_span(text)) == [printable(text)], text
        assert code_spans(f"| a |\n|---|\n| {code_span(text, in_table=True)} |\n") == [printable(text)], text
