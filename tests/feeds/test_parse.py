"""parse_feed on the synthetic TYPE III fixtures and on awkward documents."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.feeds.model import Chapter, Feed, FeedParseError
from bot.feeds.parse import parse_feed

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Feed:
    return parse_feed((FIXTURES / f"type3_synthetic_{name}.xml").read_bytes())


def rss(items: str, *, namespaces: str = "", channel: str = "<title>T</title>") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" {namespaces}>'
        f"<channel>{channel}{items}</channel></rss>"
    ).encode()


def test_every_synthetic_fixture_is_labelled_synthetic() -> None:
    paths = sorted(FIXTURES.glob("type3_synthetic_*.xml"))
    assert len(paths) >= 3
    for path in paths:
        assert "SYNTHETIC" in path.read_text("utf-8")[:400]


def test_agisf_feed() -> None:
    feed = fixture("agisf")
    week1, week2, week3 = feed.episodes

    assert feed.title == "AGI Safety Fundamentals: Alignment"
    assert feed.image == "https://example.org/synthetic/agisf-cover.jpg"
    assert week1.title == "[Week 1] “Worst-case thinking in AI alignment” by Buck Shlegeris, 2021"
    assert week1.id == "9ca2b789-905e-4dd3-8e06-6d9f29d6c55c"
    assert week1.published == datetime(2023, 5, 13, 10, 0, tzinfo=UTC)
    assert week1.source_key == "lw:SyntheticPostId01"
    assert week1.summary == (
        "Alignment researchers often say they are doing *worst-case* reasoning. "
        "This post distinguishes **three** different reasons for doing so."
    )
    assert week2.source_url == "https://arxiv.org/abs/2210.01790"
    assert week2.audio_length is None and week2.duration_seconds == 24 * 60 + 5
    assert "Welcome" not in week2.summary and "Original article" not in week2.summary
    assert week3.source_url == (
        "https://www.deepmind.com/blog/specification-gaming-the-flip-side-of-ai-ingenuity"
    )
    assert week3.summary.startswith("Specification gaming is")


def test_id_without_guid_or_link_ignores_the_signed_query() -> None:
    item = (
        "<item><title>A</title><pubDate>Tue, 20 Jun 2023 08:00:00 GMT</pubDate>"
        '<enclosure url="https://dl.example/a.mp3?Signature={sig}" type="audio/mpeg"/></item>'
    )
    first = parse_feed(rss(item.format(sig="one"))).episodes[0]
    second = parse_feed(rss(item.format(sig="two"))).episodes[0]

    assert first.id.startswith("hash:")
    assert first.id == second.id
    assert "Signature" not in first.id


def test_link_is_the_id_when_there_is_no_guid() -> None:
    item = '<item><title>A</title><link>https://e.org/1</link><enclosure url="https://e.org/1.mp3"/></item>'
    assert parse_feed(rss(item)).episodes[0].id == "https://e.org/1"


def test_lesswrong_feed() -> None:
    feed = fixture("lesswrong")
    first, second = feed.episodes

    assert feed.new_feed_url == "https://feeds.type3.audio/lesswrong--30-karma.rss"
    assert first.source_key == "lw:Kv7DRtEaQYjfyZ8Ld"
    assert first.first_published == date(2025, 8, 18)
    assert first.duration_seconds == 6135
    assert first.chapters == (
        Chapter(32, "1. Introduction"),
        Chapter(250, "2. The core problem"),
        Chapter(3543, "5. Open questions"),
        Chapter(5860, "6. Wrapping up"),
    )
    assert first.transcript_url == "https://example.org/synthetic/lw-0001.vtt"
    assert first.summary == (
        "This essay is about how we might give advanced AIs motivations that are safe. In \\[...\\]"
    )
    assert second.duration_seconds == 3723
    assert second.published == datetime(2025, 9, 2, 15, 45, tzinfo=UTC)
    assert second.first_published == date(2025, 9, 1)
    assert second.source_key == "lw:Dw8mskAvBX37MxvXo"
    assert [c.start_seconds for c in second.chapters] == [0, 750, 3660]
    assert second.summary == (
        "A plain-text description: why \\*neural networks\\* might be doing search over programs."
    )


def test_ea_forum_feed() -> None:
    first, second = fixture("eaforum").episodes

    assert first.source_key == "ea:sxEcd6PAQkWiH7edd"
    assert first.first_published == date(2024, 3, 3)
    assert first.summary == (
        "We are hiring for [two roles](https://example.org/jobs) on a podcast team & want to hear "
        "from you."
    )
    assert second.source_key == "ea:sxEcd6PAQkWiH7edd"  # from <link>, no Source: label
    assert second.duration_seconds is None
    assert second.summary == "Short description."


def test_atom_feed_with_enclosure_link() -> None:
    doc = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
      <title>Atom show</title><link href="https://e.org/"/><author><name>Ann</name></author>
      <entry><title>E1</title><id>tag:e.org,2024:1</id><updated>2024-01-02T03:04:05Z</updated>
        <link rel="alternate" href="https://e.org/1"/>
        <link rel="enclosure" href="https://e.org/1.mp3" type="audio/mpeg" length="42"/>
        <summary type="html">&lt;p&gt;Hello &lt;b&gt;there&lt;/b&gt;&lt;/p&gt;</summary></entry>
    </feed>"""
    feed = parse_feed(doc)
    (episode,) = feed.episodes

    assert (feed.title, feed.link, feed.author) == ("Atom show", "https://e.org/", "Ann")
    assert episode.id == "tag:e.org,2024:1"
    assert episode.link == "https://e.org/1"
    assert (episode.audio_url, episode.audio_type, episode.audio_length) == (
        "https://e.org/1.mp3",
        "audio/mpeg",
        42,
    )
    assert episode.published == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert episode.summary == "Hello **there**"


def test_rss_1_0_items_beside_the_channel() -> None:
    doc = b"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel><title>Old</title></channel>
      <item><title>One</title><link>https://e.org/1</link><dc:date>2004-05-06</dc:date></item>
    </rdf:RDF>"""
    feed = parse_feed(doc)
    assert feed.title == "Old"
    assert [e.title for e in feed.episodes] == ["One"]
    assert feed.episodes[0].published == datetime(2004, 5, 6, tzinfo=UTC)


def test_undeclared_namespace_prefixes_are_recovered() -> None:
    item = "<item><title>A</title><guid>g</guid><itunes:duration>01:00</itunes:duration></item>"
    (episode,) = parse_feed(rss(item)).episodes
    assert episode.duration_seconds == 60


def test_broken_document_is_recovered() -> None:
    doc = b"<rss><channel><title>Broken & co</title><item><title>A &nbsp; B</title><guid>1</guid></item></channel></rss>"
    feed = parse_feed(doc)
    assert feed.title.startswith("Broken")
    assert [e.id for e in feed.episodes] == ["1"]


def test_cp1252_bytes_in_a_utf8_feed_are_repaired() -> None:
    item = b"<item><title>Caf\xe9 \x93quoted\x94</title><guid>1</guid></item>"
    doc = b'<?xml version="1.0" encoding="UTF-8"?><rss><channel>' + item * 3 + b"</channel></rss>"
    titles = [e.title for e in parse_feed(doc).episodes]
    assert titles == ["Café “quoted”"] * 3


def test_html_entities_are_understood() -> None:
    item = "<item><title>Tom &amp; Jerry &copy; &hellip;</title><guid>1</guid></item>"
    assert parse_feed(rss(item)).episodes[0].title == "Tom & Jerry © …"


def test_utf16_feed() -> None:
    doc = '<?xml version="1.0" encoding="UTF-16"?><rss><channel><title>Wide</title></channel></rss>'
    assert parse_feed(doc.encode("utf-16")).title == "Wide"


def test_leading_whitespace_and_bom_are_accepted() -> None:
    doc = b"\xef\xbb\xbf\n  " + rss("<item><title>A</title><guid>1</guid></item>")
    assert [e.title for e in parse_feed(doc).episodes] == ["A"]


def test_latin1_declared_encoding() -> None:
    doc = '<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><title>Café</title></channel></rss>'
    assert parse_feed(doc.encode("latin-1")).title == "Café"


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<rss><channel><title>&x;</title></channel></rss>"
    ).encode()
    assert "TOP SECRET" not in parse_feed(doc).title


def test_duplicate_guids_get_distinct_stable_ids() -> None:
    items = (
        '<item><title>A</title><guid>same</guid><enclosure url="https://e.org/a.mp3"/></item>'
        '<item><title>B</title><guid>same</guid><enclosure url="https://e.org/b.mp3"/></item>'
    )
    ids = [e.id for e in parse_feed(rss(items)).episodes]
    assert (
        ids[0] == "same"
        and ids[1].startswith("same#")
        and ids == [e.id for e in parse_feed(rss(items)).episodes]
    )


def test_enclosure_choice_lengths_and_relative_urls() -> None:
    items = (
        "<item><title>A</title><guid>1</guid>"
        '<enclosure url="cover.jpg" type="image/jpeg" length="5"/>'
        '<enclosure url=" audio/a.mp3 " type="audio/mpeg" length="0"/></item>'
    )
    (episode,) = parse_feed(rss(items), url="https://e.org/feed/rss.xml").episodes
    assert episode.audio_url == "https://e.org/feed/audio/a.mp3"
    assert episode.audio_length is None


def test_transcript_preference_html_first() -> None:
    ns = 'xmlns:podcast="https://podcastindex.org/namespace/1.0"'
    items = (
        "<item><title>A</title><guid>1</guid>"
        '<podcast:transcript url="https://e.org/t.srt" type="application/x-subrip"/>'
        '<podcast:transcript url="https://e.org/t.html" type="text/html"/>'
        '<podcast:transcript url="https://e.org/t.vtt" type="text/vtt"/></item>'
    )
    (episode,) = parse_feed(rss(items, namespaces=ns)).episodes
    assert episode.transcript_url == "https://e.org/t.html"


def test_content_encoded_is_the_summary_fallback() -> None:
    ns = 'xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    items = (
        "<item><title>A</title><guid>1</guid><description>Short.</description>"
        "<content:encoded><![CDATA[<p>Long article.</p>]]></content:encoded></item>"
        "<item><title>B</title><guid>2</guid>"
        "<content:encoded><![CDATA[<p>Only content.</p>]]></content:encoded></item>"
    )
    first, second = parse_feed(rss(items, namespaces=ns)).episodes
    assert (first.summary, second.summary) == ("Short.", "Only content.")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "empty"),
        (b"   \n ", "empty"),
        (b"<!DOCTYPE html><html><body>Nope</body></html>", "HTML"),
        (b'{"json": true}', "not readable XML"),
        (b"<opml><body/></opml>", "<opml>"),
        (b"\x00\x01\x02 binary", "not readable XML"),
    ],
)
def test_non_feeds_are_rejected_in_one_sentence(body: bytes, fragment: str) -> None:
    with pytest.raises(FeedParseError, match=fragment) as error:
        parse_feed(body)
    assert "\n" not in str(error.value) and str(error.value).endswith(".")


def test_a_cut_off_download_is_refused_rather_than_half_read() -> None:
    items = "".join(
        f"<item><guid>g{n}</guid><title>Episode {n}</title>"
        f'<enclosure url="https://a.example/{n}.mp3" type="audio/mpeg"/></item>'
        for n in range(10)
    )
    whole = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'
    )
    assert len(parse_feed(whole.encode()).episodes) == 10
    cut = whole.encode()[: len(whole) // 2]
    with pytest.raises(FeedParseError, match="closing tag"):
        parse_feed(cut)
