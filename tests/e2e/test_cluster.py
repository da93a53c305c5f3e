"""Three bot processes on one PostgreSQL database, two gateway shards each: every guild is
served by the process that runs its shard, slash commands are registered once, each feed is
polled once per interval whatever the number of processes, and every episode is posted exactly
once in every channel, also when a process is killed and started again."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from driver.announce import feed_xml, titles
from driver.feedserver import FeedServer
from driver.harness import Cluster, write_config
from driver.requesting import LW_URL, Type3StandIn, answer
from driver.requesting import config as requests_config
from emulator import ChannelType

PROCESSES, SHARDS_EACH = 3, 2
SHARDS = PROCESSES * SHARDS_EACH
POLL = 2  # seconds between two polls of the feed


@pytest.fixture
async def emu() -> AsyncIterator[object]:
    from emulator import DiscordEmulator

    emulator = DiscordEmulator(
        token="test-token-0123456789abcdef", recommended_shards=SHARDS, max_concurrency=SHARDS
    )
    await emulator.start(host="127.0.0.1", port=0)
    try:
        yield emulator
    finally:
        await emulator.stop()


def one_guild_per_shard(emu, member_id: int) -> dict[int, tuple[int, int]]:
    """shard -> (guild id, text channel id); the emulator spreads new guilds over the shards."""
    guilds: dict[int, tuple[int, int]] = {}
    for n in range(SHARDS):
        guild = emu.add_guild(f"Server {n}")
        channel = emu.add_channel(guild.id, "new-episodes", ChannelType.TEXT)
        emu.add_member(guild.id, member_id)
        guilds[(guild.id >> 22) % SHARDS] = (guild.id, channel.id)
    assert sorted(guilds) == list(range(SHARDS))
    return guilds


def config(
    tmp_path: Path, url: str, channel_ids: list[int], *, poll: int = POLL, lease: float = 4.0
) -> Path:
    return write_config(
        tmp_path,
        f"""
        [cluster]
        lease_seconds = {lease}
        [announce]
        allow_private_addresses = true
        fetch_timeout = 5.0
        [[feeds]]
        url = "{url}"
        channel_ids = {channel_ids}
        poll_seconds = {poll}
        """,
    )


@pytest.fixture
async def cluster(emu, tmp_path: Path, postgres_url: str, feeds: FeedServer):
    member_id = emu.add_user("alice").id
    guilds = one_guild_per_shard(emu, member_id)
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    channels = [channel for _guild, channel in guilds.values()]
    path = config(tmp_path, feeds.url("/feed.rss"), channels)
    running = Cluster(
        emu,
        path,
        processes=PROCESSES,
        shards_each=SHARDS_EACH,
        env={"DATABASE_URL": postgres_url},
    )
    try:
        yield running, guilds, member_id
    finally:
        await running.reap()
        print(running.logs)  # shown when a test fails


async def wait_everywhere(emu, channels: list[int], expected: list[str], timeout: float = 30):
    await emu.wait_until(
        lambda: all(len(titles(emu, c)) >= len(expected) for c in channels), timeout=timeout
    )
    await asyncio.sleep(2 * POLL)  # more polls: nothing more may come
    for channel_id in channels:
        assert titles(emu, channel_id) == expected, f"channel {channel_id}"


async def test_three_processes_post_each_episode_once_and_poll_once(
    emu, cluster, feeds: FeedServer
) -> None:
    running, guilds, member_id = cluster
    await running.start()
    channels = [channel for _guild, channel in guilds.values()]
    await wait_everywhere(emu, channels, ["Episode 2"])

    # Registered by one process; the other two found the command set already registered.
    assert emu.command_put_count == 1
    # Each process holds its own shards, and each guild's channel was posted in by its owner.
    assert emu.live_shards() == list(range(SHARDS))
    for shard, (guild_id, channel_id) in guilds.items():
        owner = running.index_of_guild(guild_id)
        assert owner == shard // SHARDS_EACH
        lines = [
            i
            for i, bot in enumerate(running.processes)
            if any(
                "Posted episode" in line and f"in channel {channel_id}" in line
                for line in bot.lines
            )
        ]
        assert lines == [owner], f"channel {channel_id} posted by {lines}, owner {owner}"
        # Commands in a guild reach the process that runs its shard, and are answered.
        interaction = await emu.slash(guild_id, channel_id, member_id, "about")
        response = await interaction.wait_response(timeout=10)
        assert response["data"]["embeds"]

    # One poll per interval for the whole cluster, not one per process: polls of the feed are
    # an interval apart, and never much more (the process whose turn it is takes it, within
    # a second per process).
    hits, times = feeds.hits("/feed.rss"), []
    end = time.monotonic() + 6 * POLL
    while time.monotonic() < end:
        if feeds.hits("/feed.rss") > hits:
            hits = feeds.hits("/feed.rss")
            times.append(time.monotonic())
        await asyncio.sleep(0.02)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) >= 3, times
    assert min(gaps) > POLL - 0.3, f"polled twice in one interval: {gaps}"
    assert max(gaps) < POLL + PROCESSES + 0.5, f"a poll came late: {gaps}"

    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3))
    await wait_everywhere(emu, channels, ["Episode 2", "Episode 3"])


async def test_a_killed_process_loses_nothing_and_duplicates_nothing(
    emu, cluster, feeds: FeedServer
) -> None:
    running, guilds, _member_id = cluster
    await running.start()
    channels = [channel for _guild, channel in guilds.values()]
    await wait_everywhere(emu, channels, ["Episode 2"])

    victim = 1
    await running.processes[victim].kill()
    theirs = [c for s, (_g, c) in guilds.items() if s // SHARDS_EACH == victim]
    others = [c for c in channels if c not in theirs]
    feeds.set_feed("/feed.rss", feed_xml(1, 2, 3))
    # The survivors go on polling and post in their own guilds at once.
    await wait_everywhere(emu, others, ["Episode 2", "Episode 3"])
    # The dead process's guilds have no gateway connection: their posts wait for it.
    for channel_id in theirs:
        assert titles(emu, channel_id) == ["Episode 2"]

    await running.restart(victim)
    await wait_everywhere(emu, channels, ["Episode 2", "Episode 3"])
    assert emu.command_put_count == 1


async def test_a_poll_for_another_process_s_guild_is_posted_there_at_once(
    emu, tmp_path: Path, postgres_url: str, feeds: FeedServer
) -> None:
    member_id = emu.add_user("alice").id
    guilds = one_guild_per_shard(emu, member_id)
    _guild, channel_id = guilds[4]  # shard 4: process 2's
    feeds.set_feed("/feed.rss", feed_xml(1, 2))
    feeds.set_slow("/feed.rss", 3.0)
    # Polled every 5 minutes, with claims that last 20 s: without a word from the poller, the
    # owner would only look again when the claim it saw runs out.
    path = config(tmp_path, feeds.url("/feed.rss"), [channel_id], poll=300, lease=20.0)
    running = Cluster(
        emu, path, processes=PROCESSES, shards_each=SHARDS_EACH, env={"DATABASE_URL": postgres_url}
    )
    try:
        await running.start_one(0)
        await emu.wait_until(lambda: feeds.hits("/feed.rss") == 1, timeout=20)  # 0 is polling
        await running.start_one(2)  # starts, finds the feed claimed, and goes to sleep
        await running.processes[2].wait_for_log("Logged in as")
        assert titles(emu, channel_id) == []
        started = time.monotonic()
        await emu.wait_until(lambda: titles(emu, channel_id) == ["Episode 2"], timeout=15)
        assert time.monotonic() - started < 8, "the owner heard at once, not after the claim"
        await running.processes[2].wait_for_log("Posted episode", timeout=5)
        assert "Posted episode" not in running.processes[0].log
        assert feeds.hits("/feed.rss") == 1
    finally:
        await running.reap()
        print(running.logs)


async def test_each_requester_hears_once_from_the_process_of_their_server(
    emu, tmp_path: Path, postgres_url: str, feeds: FeedServer, type3: Type3StandIn
) -> None:
    member_id = emu.add_user("alice").id
    guilds = one_guild_per_shard(emu, member_id)
    review = emu.add_channel(guilds[0][0], "narration-review", ChannelType.TEXT).id
    feeds.set_feed("/feed.rss", feed_xml(1, description="<p>Unrelated.</p>"))
    asking = [guilds[3], guilds[5]]  # servers of processes 1 and 2
    path = config(tmp_path, feeds.url("/feed.rss"), [channel for _g, channel in asking])
    path.write_text(path.read_text() + requests_config(type3, review))
    others = []
    for n, (guild_id, _channel) in enumerate(asking):
        other = emu.add_user(f"member-{n}").id
        emu.add_member(guild_id, other)
        others.append(other)
    running = Cluster(
        emu, path, processes=PROCESSES, shards_each=SHARDS_EACH, env={"DATABASE_URL": postgres_url}
    )
    try:
        await running.start()
        for (guild_id, channel_id), voter in zip(asking, others, strict=True):
            await emu.wait_until(lambda c=channel_id: titles(emu, c) == ["Episode 1"], timeout=20)
            for user in (member_id, voter):
                ix = await emu.slash(guild_id, channel_id, user, "request", options={"url": LW_URL})
                await answer(ix)
        feeds.set_feed("/feed.rss", feed_xml(1, 2))  # episode 2's Source: is LW_URL
        # alice asked in both servers: one notice per request; each voter: one.
        await emu.wait_until(lambda: len(emu.dms(member_id)) == 2, timeout=30)
        for voter in others:
            await emu.wait_until(lambda v=voter: len(emu.dms(v)) == 1, timeout=30)
        await asyncio.sleep(3 * POLL)
        assert len(emu.dms(member_id)) == 2 and [len(emu.dms(v)) for v in others] == [1, 1]
        assert all("has been narrated" in dm["content"] for dm in emu.dms(member_id))
        for index, (guild_id, _channel) in zip((1, 2), asking, strict=True):
            assert running.index_of_guild(guild_id) == index
            log = running.processes[index].log
            assert "is narrated" in log, f"process {index} closes its server's request"
        assert "is narrated" not in running.processes[0].log
    finally:
        await running.reap()
        print(running.logs)


async def test_processes_starting_together_identify_one_shard_per_bucket_per_5_seconds(
    tmp_path: Path, postgres_url: str, feeds: FeedServer
) -> None:
    from emulator import DiscordEmulator

    # Discord's session start limit: max_concurrency IDENTIFYs per 5 s, one per bucket
    # (shard id % max_concurrency), for the whole bot. Three processes starting at once each
    # open their first shard at once; two of them would be in one bucket.
    emu = DiscordEmulator(
        token="test-token-0123456789abcdef", recommended_shards=SHARDS, max_concurrency=2
    )
    await emu.start(host="127.0.0.1", port=0)
    identified: list[tuple[float, int]] = []
    emu.on_event(
        lambda kind, payload: (
            identified.append((time.monotonic(), payload["shard"][0]))
            if kind == "gateway_connect"  # the emulator's answer to an IDENTIFY
            else None
        )
    )
    feeds.set_feed("/feed.rss", feed_xml(1))
    path = config(
        tmp_path,
        feeds.url("/feed.rss"),
        [emu.add_channel(emu.add_guild("S").id, "e", ChannelType.TEXT).id],
    )
    running = Cluster(
        emu, path, processes=PROCESSES, shards_each=SHARDS_EACH, env={"DATABASE_URL": postgres_url}
    )
    try:
        await running.start()
        assert emu.live_shards() == list(range(SHARDS))
        assert sorted(shard for _at, shard in identified) == list(range(SHARDS))
        for bucket in (0, 1):
            times = sorted(at for at, shard in identified if shard % 2 == bucket)
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert min(gaps) >= 5.0, f"bucket {bucket}: IDENTIFYs {gaps} s apart"
        starts = sorted(at for at, _shard in identified)
        assert starts[1] - starts[0] < 2.0, "two buckets: two IDENTIFYs may go out together"
    finally:
        await running.reap()
        print(running.logs)
        await emu.stop()
