"""Follow DMs in a cluster: two bot processes on one PostgreSQL database both find DMs owed when
they start, and each member gets each DM once, sent by one process (the "follow-dms" claim),
not once by each with Discord's nonce hiding the repeat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from driver.announce import QUIET, feed_xml, titles
from driver.feedserver import FeedServer
from driver.harness import Cluster, write_config
from emulator import ChannelType

PROCESSES, MEMBERS = 2, 6


@pytest.fixture
async def emu() -> AsyncIterator[object]:
    from emulator import DiscordEmulator

    emulator = DiscordEmulator(
        token="test-token-0123456789abcdef", recommended_shards=PROCESSES, max_concurrency=2
    )
    await emulator.start(host="127.0.0.1", port=0)
    try:
        yield emulator
    finally:
        await emulator.stop()


def config(tmp_path: Path, url: str, channel_id: int, follows: str) -> Path:
    return write_config(
        tmp_path,
        f"""
        [cluster]
        lease_seconds = 4.0
        [announce]
        allow_private_addresses = true
        [follows]
        {follows}
        [[feeds]]
        url = "{url}"
        channel_ids = [{channel_id}]
        poll_seconds = 1
        """,
    )


async def test_dms_owed_at_start_are_sent_once_by_one_process(
    emu, tmp_path: Path, postgres_url: str, feeds: FeedServer
) -> None:
    guild = emu.add_guild("Listeners")
    channel = emu.add_channel(guild.id, "new-episodes", ChannelType.TEXT)
    members = [emu.add_user(f"member{n}").id for n in range(MEMBERS)]
    for member in members:
        emu.add_member(guild.id, member)
    feeds.set_feed("/feed.rss", feed_xml(1))
    env = {"DATABASE_URL": postgres_url}
    # First run: one DM a hundred seconds per process, so most are still owed when it stops.
    slow = config(
        tmp_path, feeds.url("/feed.rss"), channel.id, "dms_per_second = 0.01\ndm_burst = 1"
    )
    first = Cluster(emu, slow, processes=PROCESSES, shards_each=1, env=env)
    second: Cluster | None = None
    try:
        await first.start()
        await emu.wait_until(lambda: titles(emu, channel.id) == ["Episode 1"], timeout=30)
        options = {"kind": "feed", "value": ""}
        (choice,) = await emu.autocomplete(
            guild.id, channel.id, members[0], "follow", options, "value"
        )
        for member in members:
            ix = await emu.slash(
                guild.id,
                channel.id,
                member,
                "follow",
                options={"kind": "feed", "value": str(choice["value"])},
            )
            await ix.wait_response(timeout=15)
        feeds.set_feed("/feed.rss", feed_xml(1, 2))
        await emu.wait_until(lambda: sum(len(emu.dms(m)) for m in members) == 1, timeout=30)
        await first.stop()
        # A process that stops hands the claim to the other, whose pace allows one DM at once, so
        # a loaded machine may see a second DM here; what matters is that most are still owed.
        assert sum(len(emu.dms(m)) for m in members) <= 2 < MEMBERS

        config(tmp_path, feeds.url("/feed.rss"), channel.id, "dms_per_second = 50.0")
        second = Cluster(emu, slow, processes=PROCESSES, shards_each=1, env=env)
        await second.start()  # both processes look for owed DMs as they start
        await emu.wait_until(lambda: all(emu.dms(m) for m in members), timeout=30)
        await asyncio.sleep(QUIET)
        for member in members:
            (dm,) = emu.dms(member)
            assert dm["embeds"][0]["title"] == "Episode 2"
            sends = emu.requests_to("POST", f"/channels/{dm['channel_id']}/messages")
            assert len(sends) == 1, "sent by one process, not twice with the nonce absorbing it"
    finally:
        await first.reap()
        print(first.logs)
        if second is not None:
            await second.reap()
            print(second.logs)


async def test_closed_dms_are_told_in_every_server_whichever_process_sends_the_dms(
    emu, tmp_path: Path, postgres_url: str, feeds: FeedServer
) -> None:
    """One process holds the DM claim for the whole bot; a member whose DMs are closed still
    gets the one notice in their server's channel when that server runs in the other process."""
    guilds = []
    while {(g.id >> 22) % PROCESSES for g in guilds} != set(range(PROCESSES)):
        guild = emu.add_guild(f"Server {len(guilds)}")
        if (guild.id >> 22) % PROCESSES not in {(g.id >> 22) % PROCESSES for g in guilds}:
            guilds.append(guild)
    channels = [emu.add_channel(g.id, "new-episodes", ChannelType.TEXT) for g in guilds]
    members = [emu.add_user(f"closed{n}", dms_open=False).id for n in range(PROCESSES)]
    for guild, member in zip(guilds, members, strict=True):
        emu.add_member(guild.id, member)
    feeds.set_feed("/feed.rss", feed_xml(1))
    path = write_config(
        tmp_path,
        f"""
        [cluster]
        lease_seconds = 4.0
        [announce]
        allow_private_addresses = true
        [[feeds]]
        url = "{feeds.url("/feed.rss")}"
        channel_ids = [{", ".join(str(c.id) for c in channels)}]
        poll_seconds = 1
        """,
    )
    cluster = Cluster(
        emu, path, processes=PROCESSES, shards_each=1, env={"DATABASE_URL": postgres_url}
    )
    try:
        await cluster.start()
        for channel in channels:
            await emu.wait_until(lambda c=channel: titles(emu, c.id) == ["Episode 1"], timeout=30)
        for guild, channel, member in zip(guilds, channels, members, strict=True):
            (choice,) = await emu.autocomplete(
                guild.id, channel.id, member, "follow", {"kind": "feed", "value": ""}, "value"
            )
            ix = await emu.slash(
                guild.id,
                channel.id,
                member,
                "follow",
                options={"kind": "feed", "value": str(choice["value"])},
            )
            await ix.wait_response(timeout=15)
        feeds.set_feed("/feed.rss", feed_xml(1, 2))

        def notice(channel_id: int, member: int) -> bool:
            return any(
                (m.get("content") or "").startswith(f"<@{member}>, I could not send you")
                for m in emu.messages(channel_id)
            )

        for channel, member in zip(channels, members, strict=True):
            await emu.wait_until(lambda c=channel, m=member: notice(c.id, m), timeout=30)
    finally:
        await cluster.reap()
        print(cluster.logs)
