"""The summary in a terminal: drawn by rich as text, never shown as Markdown, HTML or Mermaid source."""

from __future__ import annotations

import io

from deployer.github import ConsoleIO
from deployer.terminal import plain_markdown, render
from tests.e2e.runner import workflow_commands

SUMMARY = """### lambda-deploy: ✅ Deployed

| | |
|---|---|
| Function | `orders` |
| Configuration changes | memory: 128 → 256<br>timeout: 3 → 10 |

<details><summary>Plan</summary>

1. publish a new version

</details>

| time | traffic on new version |
|---|---|
| 0s | 10% |

```mermaid
xychart-beta
    line [10, 100]
```

<sub>lambda-deploy, [run](https://github.com/o/r/actions/runs/1)</sub>
<!-- lambda-deploy preview: orders / pr-7 -->
"""


def test_the_summary_becomes_terminal_text() -> None:
    shown = render(SUMMARY)
    for source in ("|---|", "<details>", "<summary>", "<br>", "<sub>", "```", "mermaid", "xychart", "<!--", "###", "**"):
        assert source not in shown, source
    lines = shown.splitlines()
    assert lines[0] == "lambda-deploy: ✅ Deployed"
    assert any(line.split() == ["Function", "orders"] for line in lines)
    changes = next(index for index, line in enumerate(lines) if line.startswith("Configuration changes"))
    assert lines[changes].endswith("memory: 128 → 256") and lines[changes + 1].strip() == "timeout: 3 → 10"  # the <br>, a new line
    assert "Plan" in lines and any("publish a new version" in line for line in lines)
    assert any(line.split() == ["time", "traffic", "on", "new", "version"] for line in lines)  # a real header is kept
    assert "run (https://github.com/o/r/actions/runs/1)" in shown


def test_colour_only_on_a_colour_terminal() -> None:
    assert "\x1b[" not in render(SUMMARY) and "\x1b[" in render(SUMMARY, colour=True)


def test_the_console_draws_the_summary_and_masks_before_drawing() -> None:
    out = io.StringIO()
    console = ConsoleIO(out)
    console.mask("hunter2-secret")
    console.summary(SUMMARY.replace("`orders`", "`orders hunter2-secret`") + "\n::error::steered\n")
    shown = out.getvalue()
    assert "hunter2-secret" not in shown and "orders ***" in shown
    assert "|---|" not in shown and "\x1b[" not in shown  # a StringIO is not a terminal
    assert "::error::steered" in shown and workflow_commands(shown) == []  # shown, inert: a runner would run nothing


def test_untouched_markdown_passes_through_the_html_filter() -> None:
    assert plain_markdown("plain *text*\n") == "plain *text*\n"
