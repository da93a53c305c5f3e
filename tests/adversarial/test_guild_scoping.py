"""One server never reads another's feeds or acts on another's requests.

Server A announces a supporters-only feed whose audio URLs carry a signed `?token=`. Server B
announces nothing. Whatever B's members type, pick or click (forged clicks included, as if
Discord let one through), they get none of A's episodes, and they cannot vote on or decide A's
requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from discord import Permissions

from bot.announce.markers import EpisodeRef, episode_key
from bot.announce.store import AnnounceStore
from bot.config import FeedSettings
from bot.db import Database
from bot.feeds.fetch import Validators
from bot.feeds.model import Episode, Feed
from driver.announce import BASE, SOURCE, feed_block, wait_titles
from driver.feedserver import FeedServer, rss
from driver.replies import reply_text
from driver.requesting import Type3StandIn, config, votes_on
from driver.world import World
from emulator import ChannelType, Interaction

TOKEN = "SECRET-supporters-token-42"
POST = "https://www.lesswrong.com/posts/Kv7DRtEaQYjfyZ8Ld/giving-ais-safe-motivations"


def supporters_feed(*numbers: int, source_in: tuple[int, ...] = ()) -> str:
    """Episodes whose audio is a signed, members-only URL; those in `source_in` name POST."""
    items: list[dict[str, Any]] = []
    for n in sorted(numbers, reverse=True):
        source = f'<p>Source: <a href="{SOURCE}">{SOURCE}</a></p>' if n in source_in else ""
        items.append(
            {
                "guid": f"sup-{n}",
                "title": f"Supporters Episode {n}",
                "pubDate": BASE + timedelta(days=n),
                "enclosure": {"url": f"https://audio.example/{n}.mp3?token={TOKEN}"},
                "duration": "10:00",
                "link": f"https://example.org/sup/{n}",
                "description": f"<p>For supporters only.</p>{source}",
            }
        )
    return rss("Supporters Feed", items)


@dataclass
class Other:
    """Server B: no feeds; a member and an admin of its own."""

    guild_id: int
    text_id: int
    member_id: int
    admin_id: int


@pytest.fixture
def other(emu) -> Other:
    guild = emu.add_guild("Elsewhere")
    text = emu.add_channel(guild.id, "general", ChannelType.TEXT)
    admins = emu.add_role(guild.id, "Mods", permissions=Permissions(manage_guild=True).value)
    eve = emu.add_user("eve")
    mallory = emu.add_user("mallory")
    emu.add_member(guild.id, eve.id)
    emu.add_member(guild.id, mallory.id, roles=[admins.id])
    return Other(guild.id, text.id, eve.id, mallory.id)


def everything(ix: Interaction) -> str:
    """All the bot sent for an interaction, as one string to search."""
    return json.dumps([ix.responses, ix.followups, ix.edits, ix.choices])


def play_button(message: dict[str, Any]) -> str:
    return next(
        c["custom_id"]
        for row in message["components"]
        for c in row["components"]
        if str(c.get("custom_id", "")).startswith("narrator:play:")
    )


async def announced(emu, world: World, feeds: FeedServer, start_bot, extra: str = "") -> str:
    """Server A announces Supporters Episode 1; returns its Play button's custom_id."""
    feeds.set_feed("/supporters.rss", supporters_feed(1))
    await start_bot(extra + feed_block(feeds.url("/supporters.rss"), world.text_id))
    await wait_titles(emu, world.text_id, ["Supporters Episode 1"])
    post = emu.messages(world.text_id)[0]
    assert TOKEN in json.dumps(post), "server A's own post carries its audio link"
    return play_button(post)


async def test_another_server_finds_none_of_its_episodes(
    emu, world: World, other: Other, start_bot, feeds: FeedServer
) -> None:
    play = await announced(emu, world, feeds, start_bot)
    episode_id = play.split(":")[2]
    b = (other.guild_id, other.text_id, other.member_id)

    for name, options in [
        ("episodes latest", {}),
        ("episodes search", {"text": "Supporters"}),
        ("episodes search", {"text": f"id:{episode_id}"}),
        ("play", {"episode": f"id:{episode_id}"}),
        ("play", {"episode": "latest"}),
        ("play", {"episode": "Supporters"}),
        ("play", {"episode": POST}),
    ]:
        ix = await emu.slash(*b, name, options)
        text = await reply_text(ix)
        assert "Supporters Episode" not in everything(ix), (name, options, text)
        assert TOKEN not in everything(ix)
        assert ix.ephemeral, "a refusal is only for the member"

    searched = await emu.autocomplete(*b, "episodes search", {"text": "Supp"}, "text")
    latest = await emu.autocomplete(*b, "episodes search", {"text": ""}, "text")
    playable = await emu.autocomplete(*b, "play", {"episode": ""}, "episode")
    assert searched == [] and latest == []
    assert [c["value"] for c in playable] == ["latest"], "nothing of server A's to pick"

    # server A itself still finds it
    mine = await emu.slash(world.guild_id, world.text_id, world.member_id, "episodes latest")
    await mine.wait_response()
    assert "Supporters Episode 1" in everything(mine) and TOKEN in everything(mine)
    choices = await emu.autocomplete(
        world.guild_id, world.text_id, world.member_id, "play", {"episode": "Supp"}, "episode"
    )
    assert [c["name"] for c in choices] == ["Supporters Episode 1"]


async def test_a_dm_finds_no_episodes(emu, world: World, start_bot, feeds: FeedServer) -> None:
    play = await announced(emu, world, feeds, start_bot)
    dm = emu.open_dm(world.member_id)
    ix = await emu.slash(None, dm.id, world.member_id, "episodes latest")
    click = await emu.forged_click(None, dm.id, world.member_id, play)
    for answer in (ix, click):
        assert "server" in await reply_text(answer)
        assert TOKEN not in everything(answer) and "Supporters Episode" not in everything(answer)


async def test_forged_play_buttons_and_digest_picks_from_another_server_show_nothing(
    emu, world: World, other: Other, start_bot, feeds: FeedServer
) -> None:
    play = await announced(emu, world, feeds, start_bot)
    _, _, episode_id, key, _ = play.split(":")
    clicks = [
        await emu.forged_click(other.guild_id, other.text_id, other.member_id, play),
        await emu.forged_click(
            other.guild_id, other.text_id, other.member_id, f"narrator:play:{episode_id}"
        ),
        await emu.forged_click(
            other.guild_id,
            other.text_id,
            other.member_id,
            f"narrator:digest:{key}",
            component_type=3,
            values=[f"{episode_id}:{key}"],
        ),
    ]
    for click in clicks:
        assert "no longer in my library" in await reply_text(click)
        assert TOKEN not in everything(click)


async def test_a_request_elsewhere_is_not_answered_or_closed_with_this_servers_episode(
    emu,
    world: World,
    other: Other,
    start_bot,
    feeds: FeedServer,
    type3: Type3StandIn,
    review: int,
) -> None:
    feeds.set_feed("/supporters.rss", supporters_feed(1))
    await start_bot(
        config(type3, review, feed=feed_block(feeds.url("/supporters.rss"), world.text_id))
    )
    await wait_titles(emu, world.text_id, ["Supporters Episode 1"])

    elsewhere = await emu.slash(
        other.guild_id, other.text_id, other.member_id, "request", {"url": POST}
    )
    assert "Requested!" in await reply_text(elsewhere)
    here = await emu.slash(world.guild_id, world.text_id, world.member_id, "request", {"url": POST})
    assert "Requested!" in await reply_text(here)

    # the post is narrated in server A's feed: A's requester hears of it, B's request stays open
    feeds.set_feed("/supporters.rss", supporters_feed(1, 2, source_in=(2,)))
    await emu.wait_until(lambda: len(emu.dms(world.member_id)) == 1, timeout=20)
    assert "Supporters Episode 2" in json.dumps(emu.dms(world.member_id))
    # both requests were looked at in the same pass, B's first (it is older)
    assert emu.dms(other.member_id) == []
    mine = await emu.slash(other.guild_id, other.text_id, other.member_id, "requests mine")
    listing = await reply_text(mine)
    assert "open" in listing and "narrated" not in listing

    again = await emu.slash(other.guild_id, other.text_id, other.admin_id, "request", {"url": POST})
    reply = await reply_text(again)
    assert "already narrated" not in reply and TOKEN not in everything(again)


async def test_votes_and_reviews_forged_from_another_server_change_nothing(
    emu,
    world: World,
    other: Other,
    start_bot,
    type3: Type3StandIn,
    review: int,
) -> None:
    await start_bot(config(type3, review))
    asked = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "request", {"url": POST}
    )
    assert "Requested!" in await reply_text(asked)
    await emu.wait_until(lambda: len(emu.messages(review)) == 1, timeout=10)
    public = next(m for m in emu.messages(world.text_id) if m.get("embeds"))
    vote = public["components"][0]["components"][0]["custom_id"]
    request_id = vote.rsplit(":", 1)[1]

    forged_vote = await emu.forged_click(other.guild_id, other.text_id, other.member_id, vote)
    assert "no longer exists" in await reply_text(forged_vote)
    assert votes_on(emu.find_message(int(public["id"]))) == "1"

    for action in ("approve", "narrated", "reject"):
        forged = await emu.forged_click(
            other.guild_id,
            other.text_id,
            other.admin_id,  # Manage Server, but in server B
            f"narrator:review:{action}:{request_id}",
        )
        assert "reviewed in" in await reply_text(forged), action
        assert forged.modal is None, "no reject form outside the review channel"
    card = emu.messages(review)[0]
    labels = [c["label"] for row in card["components"] for c in row["components"]]
    assert "Approve" in labels, "still open"
    assert emu.dms(world.member_id) == [], "the requester was told nothing"


async def test_a_servers_episode_lookups_see_only_its_own_feeds(db: Database) -> None:
    """The store's side, on both backends: subscriptions made with /feed add know their server;
    a config.toml one is counted once its channel is known to be in the server."""
    store = AnnounceStore(db)
    await store.sync_config([FeedSettings(url="https://a.example/feed.rss", channel_ids=(11,))])
    (config_feed,) = await store.feeds()
    added, _ = await store.subscribe("https://b.example/feed.rss", guild_id=2, channel_id=21)
    for feed_id, guid, title in [(config_feed.id, "a1", "Alpha 100%"), (added.id, "b1", "Beta")]:
        episode = Episode(
            id=guid, title=title, source_key=f"lw:{guid}", audio_url="https://x/a.mp3"
        )
        await store.ingest(
            feed_id, Feed(title="F", episodes=(episode,)), validators=Validators(),
            body_hash=guid, now=1.0, next_poll_at=2.0, backlog=1, digest_threshold=5,
        )  # fmt: skip
    (alpha,) = [e for e in await store.latest(limit=5) if e.episode.id == "a1"]
    (beta,) = [e for e in await store.latest(limit=5) if e.episode.id == "b1"]

    first = await store.for_guild(1, has_channel=lambda channel: channel == 11)
    second = await store.for_guild(2)
    nowhere = await store.for_guild(None, has_channel=lambda _: True)
    assert [e.id for e in await first.latest(5)] == [alpha.id]
    assert await first.episode(beta.id) is None and await second.episode(alpha.id) is None
    assert [e.id for e in await first.search("100%")] == [alpha.id]
    assert await first.search("_") == [] and await second.search("Alpha") == []
    assert (
        await second.by_source_key("lw:a1") == [] and len(await first.by_source_key("lw:a1")) == 1
    )
    assert (await second.resolve(EpisodeRef(alpha.id, episode_key("a1")))) is None
    # a key alone finds the episode of this server (a rebuilt database renumbers rows)
    found = await second.resolve(EpisodeRef(999_999, episode_key("b1")))
    assert found is not None and found.id == beta.id
    assert not nowhere and await nowhere.latest(5) == []
    unknown_channel = await store.for_guild(1)
    assert await unknown_channel.latest(5) == [], "a config feed counts once its channel is known"
