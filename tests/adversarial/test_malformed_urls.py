"""Links urllib cannot even split ("http://[::1", "https://[oops/...") are bad input like any
other: one clear sentence for the member, never "Something went wrong (error id ...)", and a
feed item carrying one does not stop the feed."""

from __future__ import annotations

import pytest

from bot import outgoing
from bot.errors import UserFacingError
from bot.feeds.parse import parse_feed
from bot.post_urls import PostUrlError, canonical_key
from cogs.feeds import check_feed_url
from driver.announce import feed_xml, item, titles, wait_titles
from driver.feedserver import FeedServer, rss
from driver.world import World

MALFORMED = ["http://[::1", "https://[oops/posts/abc", "http://[::1]x/", "https://h:port/x"]


@pytest.mark.parametrize("url", MALFORMED)
def test_post_urls_refuse_a_malformed_link_with_a_sentence(url: str) -> None:
    with pytest.raises(PostUrlError):
        canonical_key(url)


def test_a_digit_that_int_refuses_is_a_link_that_names_no_post() -> None:
    """`str.isdigit()` holds for "²", which `int()` refuses: the check let it through."""
    with pytest.raises(PostUrlError, match="not a link to a post"):
        canonical_key("https://agentfoundations.org/item?id=²")


@pytest.mark.parametrize("url", MALFORMED)
def test_feed_urls_refuse_a_malformed_link_with_a_sentence(url: str) -> None:
    with pytest.raises(UserFacingError, match="isn't a feed address"):
        check_feed_url(url)


def test_a_feed_item_with_malformed_links_is_read_without_them() -> None:
    broken = item(2)
    broken["link"] = "http://[::1"
    broken["enclosure"] = {"url": "https://[oops/a.mp3", "length": "1", "type": "audio/mpeg"}
    broken["description"] = '<p>Source:</p><p><a href="http://[::1">http://[::1</a></p>'
    feed = parse_feed(rss("Feed", [broken, item(1)]).encode(), url="https://feeds.example/f.rss")
    assert [e.title for e in feed.episodes] == ["Episode 2", "Episode 1"]
    assert feed.episodes[0].link is None and feed.episodes[0].audio_url is None
    assert outgoing.usable_url(feed.episodes[0].source_url) is None


def said(response: dict) -> str:
    return ((response.get("data") or response).get("content") or "").strip()


async def answer(ix) -> str:
    first = await ix.wait_response(timeout=15)
    if said(first):
        return said(first)
    _kind, message = await ix.wait_answer(timeout=15)
    return said(message)


async def test_malformed_links_in_commands_get_the_bad_link_sentence(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    broken = item(2)
    broken["link"] = "http://[::1"
    broken["description"] = '<p>Source:</p><p><a href="https://[oops/">x</a></p>'
    feeds.set_feed("/feed.rss", rss("Test Narrations", [broken, item(1)]))
    await start_bot(
        f"""
        [announce]
        allow_private_addresses = true
        first_poll_backlog = 2
        [requests]
        type3_lookup = false
        fetch_titles = false
        lesswrong_graphql = ""
        eaforum_graphql = ""
        [[feeds]]
        url = "{feeds.url("/feed.rss")}"
        channel_ids = [{world.text_id}]
        poll_seconds = 1
        """
    )
    # the item with broken links is announced like any other
    await wait_titles(emu, world.text_id, ["Episode 1", "Episode 2"])
    assert titles(emu, world.text_id) == ["Episode 1", "Episode 2"]

    async def run(user: int, command: str, options: dict[str, object]) -> str:
        ix = await emu.slash(world.guild_id, world.text_id, user, command, options)
        return await answer(ix)

    feeds.set_feed("/other.rss", feed_xml(1))
    bad_post = await run(world.member_id, "request", {"url": "not a link at all"})
    bad_feed = await run(world.admin_id, "feed add", {"url": "not a url", "channel": world.news_id})
    for url in ("http://[::1", "https://[oops/posts/abc"):
        replies = {
            "request": await run(world.member_id, "request", {"url": url}),
            "play": await run(world.member_id, "play", {"episode": url}),
            "feed add": await run(
                world.admin_id, "feed add", {"url": url, "channel": world.news_id}
            ),
            "feed preview": await run(world.admin_id, "feed preview", {"url": url}),
        }
        for command, reply in replies.items():
            assert "went wrong" not in reply and "\n" not in reply, (command, reply)
        assert replies["request"] == replies["play"] == bad_post
        assert replies["feed add"] == replies["feed preview"] == bad_feed
    assert emu.messages(world.news_id) == []


def test_a_malformed_feed_url_in_the_config_is_one_line_naming_the_key(tmp_path) -> None:
    from bot.config import ConfigError, load_settings

    config = tmp_path / "config.toml"
    config.write_text('[[feeds]]\nurl = "http://[::1"\nchannel_ids = [123456789012345678]\n')
    with pytest.raises(ConfigError, match=r"^feeds\[0\]\.url: must be an http\(s\) URL"):
        load_settings(config)
