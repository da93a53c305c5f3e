"""TYPE III AUDIO descriptions: boilerplate removed, source URL, date and outline lifted out."""

from __future__ import annotations

from datetime import date

import pytest

from bot.feeds.markdown import to_lines
from bot.feeds.summary import summary_of
from bot.feeds.type3 import Cleaned, clean

BANNER_TAIL = "Expect very rough edges and very broken stuff—and daily improvements."
SOURCE = "https://www.lesswrong.com/posts/Kv7DRtEaQYjfyZ8Ld/giving-ais-safe-motivations"


def cleaned(description: str) -> Cleaned:
    return clean(to_lines(description))


@pytest.mark.parametrize(
    "banner",
    [
        f"May 2023: Welcome to the alpha release of TYPE III AUDIO. {BANNER_TAIL}",
        f"June 2023: Welcome to the alpha release of TYPE III AUDIO. {BANNER_TAIL} "
        "Please share your thoughts.",
        f"Welcome to the alpha release of TYPE III AUDIO. {BANNER_TAIL} Please share your thoughts.",
        f"<p>June 2023: Welcome to the alpha release of TYPE III AUDIO.</p><p>{BANNER_TAIL}</p>",
        f"May 2023: Welcome to the alpha release of TYPE III AUDIO. {BANNER_TAIL}\n"
        f"May 2023: Welcome to the alpha release of TYPE III AUDIO. {BANNER_TAIL}",
    ],
    ids=["may", "june-with-thoughts", "no-month", "split-paragraphs", "repeated"],
)
def test_alpha_banner_is_removed(banner: str) -> None:
    summary = summary_of(f"{banner}\n\nThe real summary.", True)
    assert summary == "The real summary."


# The AGI Safety Fundamentals feed's own banner, exactly as issue 10 quotes it: three lines.
AGISF_BANNER = (
    "May 2023: Welcome to the alpha release of TYPE III AUDIO.",
    "Expect very rough edges and very broken stuff—and daily improvements.",
    "Please share your thoughts, but don't share this link on social media, for now.",
)


@pytest.mark.parametrize(
    "description",
    [
        "\n".join(AGISF_BANNER) + "\n\nThe real summary.",
        "<p>" + "<br/>".join(AGISF_BANNER) + "</p><p>The real summary.</p>",
        "".join(f"<p>{line}</p>" for line in AGISF_BANNER) + "<p>The real summary.</p>",
        " ".join(AGISF_BANNER) + "\n\nThe real summary.",
        "<p>" + " ".join(AGISF_BANNER).replace("don't", "don’t") + "</p><p>The real summary.</p>",
    ],
    ids=["lines", "br", "paragraphs", "one-paragraph", "curly-apostrophe"],
)
def test_every_sentence_of_the_agisf_banner_is_removed(description: str) -> None:
    for type3 in (True, False):  # the banner itself says TYPE III AUDIO
        assert summary_of(description, type3) == "The real summary."


def test_please_share_your_thoughts_stays_in_other_podcasts_notes() -> None:
    notes = "A show about birds.\n\nPlease share your thoughts, on our forum."
    assert summary_of(notes, False).endswith("Please share your thoughts, on our forum.")


@pytest.mark.parametrize(
    "credit",
    [
        "Narrated for AGI Safety Fundamentals by TYPE III AUDIO.",
        "Narrated for LessWrong by TYPE III AUDIO.",
        "Narrated by TYPE III AUDIO.",
        'Narrated by <a href="https://type3.audio/">TYPE III AUDIO</a>.',
        "Share feedback on this narration.",
        '<a href="https://feedback.type3.audio/">Share feedback on this narration.</a>',
        "---",
        "The original text contained 71 footnotes which were omitted from this narration.",
        "The original text contained 1 footnote which was omitted from this narration.",
    ],
)
def test_credit_lines_separators_and_footnote_notice_are_removed(credit: str) -> None:
    description = f"<p>Body text.</p><p>{credit}</p><p>Narrated by TYPE III AUDIO.</p>"
    assert summary_of(description, False) == "Body text."


def test_credits_on_the_same_line_as_text_leave_the_text() -> None:
    text = "Short description. Narrated by TYPE III AUDIO. Share feedback on this narration."
    assert summary_of(text, False) == "Short description."


@pytest.mark.parametrize("label", ["Original text:", "Original article:", "Source:"])
def test_source_url_from_href_under_each_label(label: str) -> None:
    html = f'<p>Body.</p><p>{label}</p><p><a href="{SOURCE}">the post</a></p><p>Narrated by TYPE III AUDIO.</p>'
    result = cleaned(html)
    assert result.source_url == SOURCE
    assert summary_of(html, False) == "Body."


@pytest.mark.parametrize("label", ["Original text:", "Original article:", "Source:"])
def test_source_url_from_plain_text_under_each_label(label: str) -> None:
    same_line = cleaned(f"Body.\n{label} {SOURCE}\nNarrated by TYPE III AUDIO.")
    next_line = cleaned(f"Body.\n{label}\n{SOURCE}.\nNarrated by TYPE III AUDIO.")
    assert same_line.source_url == SOURCE
    assert next_line.source_url == SOURCE


def test_source_url_in_the_agisf_bold_label_shape() -> None:
    html = (
        "<p>Summary.</p><br /><br /><b>Original article:<br /></b>"
        '<a href="https://arxiv.org/abs/2210.01790">https://arxiv.org/abs/2210.01790</a>'
        "<br /><br /><b>Author:<br /></b>Rohin Shah</p>"
    )
    assert cleaned(html).source_url == "https://arxiv.org/abs/2210.01790"
    assert summary_of(html, False) == "Summary.\nAuthor:\nRohin Shah"


def test_first_source_label_wins() -> None:
    text = f"Source: {SOURCE}\nSource: https://example.org/other\nNarrated by TYPE III AUDIO."
    assert cleaned(text).source_url == SOURCE


def test_source_label_without_a_url_is_kept_as_text() -> None:
    result = cleaned("Source: the author's blog\nNarrated by TYPE III AUDIO.")
    assert result.source_url is None
    assert [line.text for line in result.lines] == ["Source: the author's blog"]


def test_another_podcasts_source_line_is_read_but_kept() -> None:
    description = "Show notes.\nSource: https://example.org/study"
    assert cleaned(description).source_url == "https://example.org/study"
    assert "example.org/study" in summary_of(description, False)


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("First published:\nAugust 18th, 2025", date(2025, 8, 18)),
        ("<p><b>First published:</b><br/>August 18th, 2025 </p>", date(2025, 8, 18)),
        ("First published: March 3rd, 2024", date(2024, 3, 3)),
        ("First published:\nSeptember 1st, 2025", date(2025, 9, 1)),
        ("First published:\nMay 22nd, 2023", date(2023, 5, 22)),
    ],
)
def test_first_published_ordinal_date(block: str, expected: date) -> None:
    description = f"Body.\n{block}\nNarrated by TYPE III AUDIO."
    if block.startswith("<p>"):
        description = f"<p>Body.</p>{block}<p>Narrated by TYPE III AUDIO.</p>"
    assert cleaned(description).first_published == expected
    assert summary_of(description, False) == "Body."


def test_outline_block_becomes_chapters() -> None:
    description = (
        "<p>Body. In [...]</p><p>---</p><p><strong>Outline:</strong></p>"
        "<p>(00:32) 1. Introduction</p><p>(04:10) 2. The <em>core</em> problem</p>"
        "<p>(59:03) 5. Open questions</p><p>(1:37:40) 6. Wrapping up</p>"
        "<p>The original text contained 71 footnotes which were omitted from this narration.</p>"
        "<p>Narrated by TYPE III AUDIO.</p>"
    )
    result = cleaned(description)
    assert result.chapters == [
        (32, "1. Introduction"),
        (250, "2. The core problem"),
        (3543, "5. Open questions"),
        (5860, "6. Wrapping up"),
    ]
    assert summary_of(description, False) == "Body. In \\[...\\]"


def test_plain_text_outline_with_zero_start() -> None:
    result = cleaned("Outline:\n(00:00) Intro\n(12:30) The argument\n(1:01:00) End")
    assert result.chapters == [(0, "Intro"), (750, "The argument"), (3660, "End")]


def test_description_without_type3_marks_is_untouched() -> None:
    text = "<p>An ordinary show.</p><p>Outline of today: cats.</p>"
    result = cleaned(text)
    assert not result.is_type3
    assert summary_of(text, False) == "An ordinary show.\n\nOutline of today: cats."
