"""Speakable text from hostile or odd HTML: never an exception, never an empty or overlong
sentence, no markup or control characters read aloud."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.narration.text import MAX_SENTENCE_CHARS, Article, body_sentences, speakable

TAGS = [
    "p",
    "div",
    "h2",
    "ul",
    "ol",
    "li",
    "a",
    "sup",
    "pre",
    "code",
    "table",
    "img",
    "span",
    "blockquote",
    "br",
    "script",
    "style",
    "section",
    "em",
    "math",
]


@st.composite
def html(draw: st.DrawFn) -> str:
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.integers(0, 3))
        tag = draw(st.sampled_from(TAGS))
        if kind == 0:
            attrs = draw(
                st.sampled_from(
                    [
                        "",
                        ' class="footnotes"',
                        ' href="#fn1"',
                        ' alt="x"',
                        ' role="doc-noteref"',
                        ' href="https://e.org/a b"',
                    ]
                )
            )
            parts.append(f"<{tag}{attrs}>")
        elif kind == 1:
            parts.append(f"</{tag}>")
        else:
            parts.append(draw(st.text(max_size=300)).replace("\x00", ""))
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(html())
def test_any_html_gives_clean_sentences(body: str) -> None:
    for sentence in body_sentences(body):
        assert sentence.strip() == sentence and any(c.isalnum() for c in sentence)
        assert len(sentence) <= MAX_SENTENCE_CHARS
        assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in sentence)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200), st.text(max_size=100), html())
def test_the_intro_always_comes_first(title: str, author: str, body: str) -> None:
    sentences = speakable(Article(title, author, body), voice="V")
    assert sentences[0].rstrip(".!?") and "machine reading" in " ".join(sentences[:3])
