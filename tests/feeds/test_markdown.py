"""Description HTML to Discord Markdown, and cutting summaries to an embed's size."""

from __future__ import annotations

import pytest

from bot.feeds.markdown import render, summarize, to_lines


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("<p>One.</p><p>Two.</p>", "One.\n\nTwo."),
        ("Line one<br>Line two", "Line one\nLine two"),
        (
            '<p>See <a href="https://example.org/a">the post</a>.</p>',
            "See [the post](https://example.org/a).",
        ),
        (
            "<p><b>Bold</b>, <strong>strong</strong>, <i>it</i>, <em>em</em></p>",
            "**Bold**, **strong**, *it*, *em*",
        ),
        ("<p>a<b> spaced </b>b</p>", "a **spaced** b"),
        ("<ul><li>one</li><li>two</li></ul>", "- one\n- two"),
        ("<ol><li>first</li><li>second</li></ol>", "1. first\n2. second"),
        ("<h2>Heading</h2><p>Text</p>", "**Heading**\n\nText"),
        ("<p>x<script>alert(1)</script><style>p{}</style><img src=a.png>y</p>", "xy"),
        ("<p>  lots   of\n\n   space </p>", "lots of space"),
        (
            "<p>5 * 3 = _15_ [sic] `x` ~y~ a|b</p>",
            "5 \\* 3 = \\_15\\_ \\[sic\\] \\`x\\` \\~y\\~ a\\|b",
        ),
        (
            "<p># not a heading</p><p>- not a list</p><p>1. not a list</p>",
            "\\# not a heading\n\n\\- not a list\n\n1\\. not a list",
        ),
        ("Tom &amp; Jerry &mdash; &#8220;quoted&#8221;", "Tom & Jerry — “quoted”"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        (
            '<a href="https://e.org/x_(y)">https://e.org/x_(y)</a>',
            "[https://e.org/x\\_(y)](https://e.org/x_%28y%29)",
        ),
        ("Plain text\nwith lines\n\nand a paragraph", "Plain text\nwith lines\n\nand a paragraph"),
        (
            "Text with <a href='https://e.org'>a link</a>\nand a newline",
            "Text with [a link](https://e.org)\nand a newline",
        ),
        ("", ""),
    ],
)
def test_html_to_markdown(html: str, markdown: str) -> None:
    assert render(to_lines(html)) == markdown


def test_broken_html_still_converts() -> None:
    assert render(to_lines("<p>Unclosed <b>bold <i>and italic")) == "Unclosed **bold *and italic***"


def test_summary_is_unchanged_when_it_fits() -> None:
    assert summarize("Short. Text.", 100) == "Short. Text."


def test_long_summary_is_cut_at_a_sentence_boundary() -> None:
    sentence = "This sentence is exactly forty-five chars. "
    text = sentence * 240  # about 10,000 characters
    assert len(text) > 10_000

    cut = summarize(text, 4096)

    assert len(cut) <= 4096
    assert cut.endswith("chars.…")
    assert len(cut) > 4096 - len(sentence) - 2


def test_cut_falls_back_to_a_word_boundary() -> None:
    text = "word " * 2000
    cut = summarize(text, 100)
    assert len(cut) <= 100
    assert cut.endswith("word…")


def test_cut_falls_back_to_a_hard_cut() -> None:
    cut = summarize("x" * 10_000, 50)
    assert cut == "x" * 49 + "…"


def test_cut_prefers_a_paragraph_end() -> None:
    text = "First paragraph without a stop\n\n" + "Second. " * 20
    assert summarize(text, 40) == "First paragraph without a stop…"


def test_cut_never_leaves_half_a_link() -> None:
    text = "Intro words here " + "[a link](https://example.org/" + "x" * 200 + ")"
    cut = summarize(text, 60)
    assert "[" not in cut and cut.endswith("…") and len(cut) <= 60


def test_cut_does_not_leave_an_unclosed_bold_or_a_dangling_escape() -> None:
    assert summarize("Some **bold words that go on and on", 20).count("**") % 2 == 0
    assert not summarize("abc\\*" + "d" * 50, 5).rstrip("…").endswith("\\")


def test_zero_limit_is_empty() -> None:
    assert summarize("anything", 0) == ""
