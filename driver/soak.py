"""Soak test: the real bot process against the Discord emulator and 200 changing feeds, with
faults everywhere, SIGKILLs and restarts, and members requesting, voting, reviewing and playing
episodes in voice (with voice socket drops). At the end: every owed episode exactly once in every
channel, every request and vote kept, playback back after every drop and restart, no ffmpeg left.

Run from the project root with `bench/soak.py`; `tests/e2e/test_soak_short.py` runs it short.
Exit code 1 on any duplicate, loss or inconsistency (the details are printed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import statistics
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.db import Database, DatabaseError
from bot.post_urls import canonical_key
from driver.harness import BotProcess
from driver.soak_check import (
    MemberAction,
    Subscription,
    Verdict,
    check_deliveries,
    check_requests,
    collect_posts,
    group_logs,
    read_db,
)
from driver.soak_feeds import SoakFeed, SoakFeedServer, build_feeds
from driver.soak_voice import (
    VoiceWorld,
    after_exit,
    after_start,
    before_signal,
    ffmpeg_processes,
    first_plays,
    judge,
    member_voice,
    setup_voice,
    voice_drops,
)

FETCH_TIMEOUT = 3.0
MAX_FEED_BYTES = 3_000_000
MESSAGES = "/channels/{channel_id}/messages"
THREADS = "/channels/{channel_id}/threads"
TOP_LINE = re.compile(r"^\*\*(\d+)\*\* ▲ \[.*\]\(<(.+?)>\) \((\w+)\)$")
FOOTER = re.compile(r"Request #(\d+) · (\S+)")


@dataclass
class SoakOptions:
    minutes: float = 10.0
    feeds: int = 200
    seed: int = 1
    guilds: int = 3
    kills: int = 5  # SIGKILLs (one of them the moment Discord has a post); plus one SIGTERM
    sigterm: bool = True
    members_per_guild: int = 4
    # > 300 s: a channel whose posts kept failing waits up to 300 s before its next attempt
    # (cogs/announce.py), and once the feeds hold still no new episode cuts that short
    quiesce_timeout: float = 330.0
    # Faults after a forum post was created: known to duplicate forum posts (see bench/README.md,
    # "Soak test"); the short test in the suite turns them off until the bot is fixed.
    forum_after_commit: bool = True
    # Feed bodies cut in half: the bot's recovering XML parser accepts them and announces
    # half-parsed episodes (known bot bug, see bench/README.md); off in the short test.
    truncated_feeds: bool = True
    # Members /play, /skip and /stop in a voice channel of every guild; voice socket drops.
    voice: bool = True
    tone_seconds: int = 90  # every episode's audio: long enough to span kills and drops
    workdir: Path | None = None
    # PostgreSQL instead of a SQLite file in the workdir (an empty database the bot may own).
    database_url: str = ""
    quiet: bool = False
    log_level: str = "INFO"  # the bot's; DEBUG shows discord.py's voice and player steps


@dataclass
class Channel:
    id: int
    guild_id: int
    kind: str  # text | news | forum


@dataclass
class Guild:
    id: int
    lobby: int
    members: list[int]
    admin: int
    urls: list[str]
    keep_open: set[str] = field(default_factory=set)  # post keys reviewers leave alone


@dataclass
class SoakReport:
    verdict: Verdict
    text: str

    @property
    def ok(self) -> bool:
        return not self.verdict.failed


@dataclass
class Run:
    """Everything the driver did and saw."""

    opts: SoakOptions
    rng: random.Random
    emu: Any
    server: SoakFeedServer
    feeds: list[SoakFeed]
    workdir: Path
    channels: dict[int, Channel] = field(default_factory=dict)
    guilds: list[Guild] = field(default_factory=list)
    admin_channel: int = 0
    review_channel: int = 0
    subs: list[tuple[SoakFeed, int]] = field(default_factory=list)  # active in config
    late_subs: list[tuple[SoakFeed, int]] = field(default_factory=list)  # added at a restart
    sub_since: dict[tuple[int, int], float] = field(default_factory=dict)
    bots: list[BotProcess] = field(default_factory=list)
    message_times: dict[int, float] = field(default_factory=dict)
    actions: list[MemberAction] = field(default_factory=list)
    request_guild: dict[int, tuple[int, str]] = field(default_factory=dict)
    rss: list[tuple[float, int, int]] = field(default_factory=list)  # (t, pid, kB)
    events: list[str] = field(default_factory=list)
    discord_faults: dict[str, int] = field(default_factory=dict)
    kill_on_post: bool = False
    migrated_at: float | None = None
    migration_version: int | None = None
    blocked: tuple[int, float, float] | None = None
    started: float = 0.0
    token: str = ""
    voice: VoiceWorld | None = None
    stuck: list[str] = field(default_factory=list)  # signals the bot did not act on

    @property
    def database(self) -> str | Path:
        """Where the bot keeps its state: the PostgreSQL URL, or its SQLite file."""
        return self.opts.database_url or self.workdir / "narrator.sqlite3"

    quiet_after: float | None = None  # seconds from "faults off" until all was delivered

    @property
    def bot(self) -> BotProcess:
        return self.bots[-1]

    def log(self, text: str) -> None:
        stamp = f"[{time.monotonic() - self.started:7.1f}s]"
        self.events.append(f"{stamp} {text}")
        if not self.opts.quiet:
            print(f"{stamp} {text}", flush=True)

    def alive(self) -> bool:
        return bool(self.bots) and self.bot.proc is not None and self.bot.proc.returncode is None


# -- setting up the world ----------------------------------------------------------------------


def build_world(run: Run) -> None:
    from discord import Permissions

    from emulator import ChannelType

    emu, rng = run.emu, run.rng
    kinds = [("text", ChannelType.TEXT), ("text", ChannelType.TEXT), ("news", ChannelType.NEWS)]
    kinds.append(("forum", ChannelType.FORUM))
    for g in range(run.opts.guilds):
        guild = emu.add_guild(f"Listeners {g}")
        for n, (kind, ctype) in enumerate(kinds):
            channel = emu.add_channel(guild.id, f"{kind}-{n}", ctype)
            run.channels[channel.id] = Channel(channel.id, guild.id, kind)
        lobby = emu.add_channel(guild.id, "requests", ChannelType.TEXT)
        admins = emu.add_role(guild.id, "Admins", permissions=Permissions(manage_guild=True).value)
        admin = emu.add_user(f"admin{g}")
        emu.add_member(guild.id, admin.id, roles=[admins.id])
        members = []
        for m in range(run.opts.members_per_guild):
            user = emu.add_user(f"member{g}-{m}", dms_open=m % 3 != 2)
            emu.add_member(guild.id, user.id)
            members.append(user.id)
        urls = [f"https://blog.example/essays/{g}-{n}" for n in range(10)]
        urls += [
            f"https://www.lesswrong.com/posts/{_post_id(rng)}/soak-post-{g}-{n}" for n in range(10)
        ]
        # reviewers never decide the last 5 links, so /requests top has something to show
        keep_open = {canonical_key(url).key for url in urls[-5:]}
        run.guilds.append(Guild(guild.id, lobby.id, members, admin.id, urls, keep_open))
        if g == 0:
            run.admin_channel = emu.add_channel(guild.id, "bot-admin", ChannelType.TEXT).id
            run.review_channel = emu.add_channel(guild.id, "review", ChannelType.TEXT).id

    feed_channels = list(run.channels)
    blocked = next(c for c in feed_channels if run.channels[c].kind == "text")
    forum = next(c for c in feed_channels if run.channels[c].kind == "forum")
    texts = [c for c in feed_channels if run.channels[c].kind != "forum"]
    pairs: list[tuple[SoakFeed, int]] = []
    for feed in run.feeds:
        chosen = rng.sample(feed_channels, rng.choice((1, 1, 2)))
        if feed.kind == "migrating":  # one digest in a forum and one in a text channel
            chosen = [forum, rng.choice(texts)]
        pairs += [(feed, c) for c in chosen]
    # the channel that loses Send Messages for a while carries an active feed
    active = next(f for f in run.feeds if f.kind == "active")
    if (active, blocked) not in pairs:
        pairs.append((active, blocked))
    # a few subscriptions only appear in the config at the first restart (first polled later)
    candidates = [p for p in pairs if p[0].kind in ("quiet", "active") and p[1] != blocked]
    late = rng.sample(candidates, min(len(candidates) // 20 + 1, 6))
    run.late_subs = late
    run.subs = [p for p in pairs if p not in late]
    run.blocked = (blocked, 0.0, 0.0)


def _post_id(rng: random.Random) -> str:
    alphabet = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
    return "".join(rng.choice(alphabet) for _ in range(17))


def write_config(run: Run) -> Path:
    by_feed: dict[int, list[int]] = {}
    for feed, channel_id in run.subs:
        by_feed.setdefault(feed.index, []).append(channel_id)
    blocks = []
    for feed in run.feeds:
        if feed.index in by_feed:
            blocks.append(
                f'[[feeds]]\nurl = "{run.server.url(feed.path)}"\n'
                f"channel_ids = {by_feed[feed.index]}\npoll_seconds = {feed.poll_seconds}\n"
            )
    text = textwrap.dedent(
        f"""
        [discord]
        guild_ready_timeout = 0.5
        [database]
        {database_line(run)}
        [logging]
        level = "{run.opts.log_level}"
        [announce]
        allow_private_addresses = true
        admin_channel_id = {run.admin_channel}
        notify_after_failures = 3
        fetch_timeout = {FETCH_TIMEOUT}
        max_feed_bytes = {MAX_FEED_BYTES}
        [requests]
        review_channel_id = {run.review_channel}
        type3_lookup = false
        fetch_titles = false
        lesswrong_graphql = ""
        eaforum_graphql = ""
        per_member_per_hour = 1000
        max_open_per_member = 1000
        """
    )
    path = run.workdir / "config.toml"
    path.write_text(text + "\n" + "\n".join(blocks))
    return path


# -- the bot process -------------------------------------------------------------------------


async def start_bot(run: Run) -> None:
    config = write_config(run)
    bot = BotProcess(run.emu, config)
    run.bots.append(bot)
    await bot.start(wait_ready=False)
    assert bot.proc is not None
    await bot.wait_for(lambda: "Logged in as" in bot.log, "the bot to log in", timeout=60)
    now = time.monotonic()
    for feed, channel_id in run.subs:
        run.sub_since.setdefault((feed.index, channel_id), now)
    run.log(f"bot process {len(run.bots)} (pid {bot.proc.pid}) is up")


def rss_kb(pid: int) -> int | None:
    with contextlib.suppress(OSError, ValueError, TypeError):
        status = Path(f"/proc/{pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status)[1])  # type: ignore[index]
    return None


async def sample_rss(run: Run) -> None:
    while True:
        if run.alive():
            pid = run.bot.proc.pid  # type: ignore[union-attr]
            kb = rss_kb(pid)
            if kb is not None:
                run.rss.append((time.monotonic() - run.started, pid, kb))
        await asyncio.sleep(1.0)


async def killer(run: Run, deadline: float) -> None:
    """SIGKILL at random moments (one right as Discord stores a post), one SIGTERM; restart."""
    duration = deadline - time.monotonic()
    count = run.opts.kills + (1 if run.opts.sigterm else 0)
    # all in the first 70% of the run, so the last part measures a long-lived process
    moments = sorted(run.rng.uniform(0.08, 0.7) * duration for _ in range(count))
    kinds = ["kill"] * run.opts.kills + (["term"] if run.opts.sigterm else [])
    run.rng.shuffle(kinds)
    if run.opts.kills:
        kinds[kinds.index("kill")] = "kill-on-post"
    begin = time.monotonic()
    for at, kind in zip(moments, kinds, strict=True):
        await asyncio.sleep(max(0.0, begin + at - time.monotonic()))
        bot = run.bot
        assert bot.proc is not None
        if kind == "kill-on-post":
            run.kill_on_post = True
            run.log("armed: SIGKILL the moment Discord stores the next announcement")
            try:
                await asyncio.wait_for(asyncio.shield(bot.proc.wait()), 30)
            except TimeoutError:
                run.kill_on_post = False
                signal_bot(run, signal.SIGKILL)
                run.log("no announcement within 30 s; plain SIGKILL instead")
        elif kind == "kill":
            signal_bot(run, signal.SIGKILL)
            run.log("SIGKILL")
        else:
            signal_bot(run, signal.SIGTERM)
            run.log("SIGTERM")
        try:
            code = await asyncio.wait_for(asyncio.shield(bot.proc.wait()), 30)
        except TimeoutError:
            run.stuck.append(f"bot process {len(run.bots)} ignored {kind} for 30 s")
            run.log("the bot did not exit within 30 s; SIGKILL")
            bot.proc.kill()
            code = await bot.proc.wait()
        run.log(f"bot exited with {code}")
        resume = []
        if run.voice is not None:
            resume = await after_exit(run, run.voice, run.token, killed=kind != "term")
        # the log pipe closes once every process holding it (ffmpeg children too) has gone
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(bot.wait_exit()), 15)
        await asyncio.sleep(run.rng.uniform(0.5, 3.0))
        if run.late_subs:
            run.subs += run.late_subs
            run.log(f"config gains {len(run.late_subs)} subscriptions")
            run.late_subs = []
        await start_bot(run)
        if run.voice is not None:
            after_start(run.voice, resume)


def voice_notice(run: Run, guild_id: int, since: float) -> bool:
    """Whether the bot told a guild's lobby since `since` that voice playback stopped."""
    lobby = next(g.lobby for g in run.guilds if g.id == guild_id)
    return any(
        run.message_times.get(int(m["id"]), 0.0) >= since
        and "voice" in (m.get("content") or "")
        and int(m["author"]["id"]) == run.emu.bot.id
        for m in run.emu.messages(lobby)
    )


def signal_bot(run: Run, sig: signal.Signals) -> None:
    """The one place the driver signals the bot: the voice checks learn of it first."""
    if run.voice is not None:
        before_signal(run.voice, run.token)
    assert run.bot.proc is not None
    run.bot.proc.send_signal(sig)


def on_emulator_event(run: Run, kind: str, payload: dict[str, Any]) -> None:
    if kind != "message_create":
        return
    run.message_times[int(payload["id"])] = time.monotonic()
    if (
        run.kill_on_post
        and payload.get("embeds")
        and int(payload.get("channel_id", 0)) in run.channels
        and run.alive()
    ):
        run.kill_on_post = False
        signal_bot(run, signal.SIGKILL)  # before the emulator answers
        run.log(f"SIGKILL right after Discord stored message {payload['id']}")


# -- what changes in the world ---------------------------------------------------------------


async def feed_changes(run: Run, deadline: float) -> None:
    rng = run.rng
    migrate_at = run.started + 0.4 * (deadline - run.started)
    migrating = next(f for f in run.feeds if f.kind == "migrating")
    total = run.started
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        for feed in run.feeds:
            p = {"active": 0.33, "large": 0.008, "quiet": 0.0015, "migrating": 0.004}[feed.kind]
            if (
                feed.kind == "migrating"
                and run.migrated_at is None
                and time.monotonic() > migrate_at
            ):
                continue  # hold still until the migration
            if rng.random() < p:
                feed.add_items(1)
        if run.migrated_at is None and time.monotonic() > migrate_at and run.alive():
            # the bot must have seen the last version with the old guids
            seen = any(v == migrating.version.number for _t, v in migrating.served)
            if seen:
                migrating.migrate_guids()
                run.migrated_at = time.monotonic()
                run.migration_version = migrating.version.number
                run.log(
                    f"feed {migrating.index:03d}: every guid changed ({len(migrating.items)} items)"
                )
        total = time.monotonic()
    del total


async def discord_faults(run: Run, deadline: float) -> None:
    rng, emu = run.rng, run.emu
    last_gateway = time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(rng.uniform(1.0, 4.0))
        route = rng.choice((MESSAGES, MESSAGES, THREADS))
        kind = rng.choice(("429", "5xx", "after_commit_drop", "after_commit_500"))
        if route == THREADS and kind.startswith("after_commit") and not run.opts.forum_after_commit:
            route = MESSAGES
        if kind == "429":
            emu.faults.rate_limit(
                "POST", route, retry_after=rng.uniform(0.2, 1.5), count=rng.randint(1, 3)
            )
        elif kind == "5xx":
            emu.faults.server_error(
                "POST", route, status=rng.choice((500, 502, 503)), count=rng.randint(1, 2)
            )
        elif kind == "after_commit_drop":
            emu.faults.fail_after_commit("POST", route, drop_connection=True)
        else:
            emu.faults.fail_after_commit("POST", route, status=500)
        name = f"{kind} {route.rsplit('/', 1)[1]}"
        run.discord_faults[name] = run.discord_faults.get(name, 0) + 1
        if time.monotonic() - last_gateway > rng.uniform(25, 60) and run.alive():
            last_gateway = time.monotonic()
            if rng.random() < 0.6:
                await emu.close_gateway(4000)
                run.discord_faults["gateway close 4000"] = (
                    run.discord_faults.get("gateway close 4000", 0) + 1
                )
                run.log("gateway closed with 4000 (resumable)")
            else:
                await emu.invalidate_session(resumable=False)
                run.discord_faults["invalid session"] = (
                    run.discord_faults.get("invalid session", 0) + 1
                )
                run.log("gateway session invalidated")


async def permission_window(run: Run, deadline: float) -> None:
    from discord import Permissions

    assert run.blocked is not None
    channel_id = run.blocked[0]
    guild_id = run.channels[channel_id].guild_id
    span = deadline - run.started
    await asyncio.sleep(max(0.0, run.started + 0.2 * span - time.monotonic()))
    run.emu.deny(channel_id, guild_id, Permissions(send_messages=True).value)
    denied = time.monotonic()
    run.log(f"channel {channel_id}: Send Messages denied")
    await asyncio.sleep(max(0.0, run.started + 0.35 * span - time.monotonic()))
    run.emu.allow(channel_id, guild_id, Permissions(send_messages=True).value)
    allowed = time.monotonic()
    run.blocked = (channel_id, denied, allowed)
    run.log(f"channel {channel_id}: Send Messages allowed again")


# -- members ---------------------------------------------------------------------------------


def _text(body: dict[str, Any]) -> str:
    return ((body.get("data") or body).get("content")) or ""


async def _answer(ix: Any, timeout: float = 12.0) -> dict[str, Any] | None:
    try:
        first = await ix.wait_response(timeout=timeout)
        if first["type"] == 5:
            return await ix.wait_followup(timeout=timeout)
        return first
    except TimeoutError:
        return None


def _learn_card(run: Run, guild_id: int, message: dict[str, Any]) -> None:
    for embed in message.get("embeds") or []:
        footer = (embed.get("footer") or {}).get("text", "")
        if m := FOOTER.search(footer):
            run.request_guild[int(m[1])] = (guild_id, m[2])


async def member_request(run: Run, guild: Guild) -> None:
    user = run.rng.choice([*guild.members, guild.admin])
    url = run.rng.choice(guild.urls)
    key = canonical_key(url).key
    at = time.monotonic()
    try:
        ix = await run.emu.slash(guild.id, guild.lobby, user, "request", options={"url": url})
    except LookupError:
        return  # commands not registered yet
    answer = await _answer(ix)
    if answer is None:
        outcome, detail = "none", ""
    else:
        detail = _text(answer)
        if "Requested!" in detail:
            outcome = "created"
            _learn_card(run, guild.id, answer.get("data") or answer)
        elif "Added your vote" in detail:
            outcome = "voted"
        elif "already asked" in detail or "already counted" in detail:
            outcome = "already"
        else:
            outcome = "refused"
    run.actions.append(MemberAction("request", guild.id, user, key, outcome, detail[:120], at))


async def member_vote(run: Run, guild: Guild) -> None:
    cards = []
    for message in run.emu.messages(guild.lobby):
        for row in message.get("components") or []:
            for comp in row.get("components") or []:
                if (comp.get("custom_id") or "").startswith("narrator:vote:"):
                    cards.append((message, comp["custom_id"]))
    if not cards:
        return
    message, custom_id = run.rng.choice(cards)
    request_id = int(custom_id.rsplit(":", 1)[1])
    _learn_card(run, guild.id, message)
    if request_id not in run.request_guild:
        return
    _g, key = run.request_guild[request_id]
    user = run.rng.choice([*guild.members, guild.admin])
    at = time.monotonic()
    try:
        ix = await run.emu.click(int(message["id"]), custom_id, user)
    except LookupError:
        return
    try:
        first = await ix.wait_response(timeout=12)
    except TimeoutError:
        first = None
    detail = ""
    if first is not None and first["type"] == 6:  # acknowledged; the card is edited, or a note
        try:
            how, message = await ix.wait_answer(timeout=12)
        except TimeoutError:
            first = None
        else:
            first = {"type": 7} if how == "edit" else {"type": 4, "data": message}
    if first is None:
        outcome = "none"
    elif first["type"] == 7:
        outcome = "voted"
    else:
        detail = _text(first)
        outcome = "already" if "already voted" in detail else "refused"
    run.actions.append(MemberAction("vote_click", guild.id, user, key, outcome, detail[:120], at))


async def member_review(run: Run) -> None:
    cards = []
    for message in run.emu.messages(run.review_channel):
        for row in message.get("components") or []:
            for comp in row.get("components") or []:
                if (comp.get("custom_id") or "").startswith("narrator:review:"):
                    cards.append((message, comp["custom_id"]))
    if not cards:
        return
    message, custom_id = run.rng.choice(cards)
    _prefix, _review, action, request_id = custom_id.split(":")
    if int(request_id) not in run.request_guild:
        return
    guild_id, key = run.request_guild[int(request_id)]
    if any(g.id == guild_id and key in g.keep_open for g in run.guilds):
        return
    reviewer = run.guilds[0].admin
    at = time.monotonic()
    try:
        ix = await run.emu.click(int(message["id"]), custom_id, reviewer)
        first = await ix.wait_response(timeout=12)
        if first["type"] == 9:
            ix = await run.emu.submit_modal(ix, None, {"reason": "Out of scope"}, reviewer)
            first = await ix.wait_response(timeout=12)
    except (LookupError, TimeoutError):
        run.actions.append(MemberAction("review", guild_id, reviewer, key, "none", action, at))
        return
    m = re.search(r"is now (\w+)", _text(first))
    outcome = f"decided:{m[1]}" if m else "refused"
    run.actions.append(MemberAction("review", guild_id, reviewer, key, outcome, action, at))


async def members(run: Run, deadline: float) -> None:
    tasks: set[asyncio.Task[None]] = set()
    while time.monotonic() < deadline:
        await asyncio.sleep(run.rng.uniform(0.2, 0.8))
        guild = run.rng.choice(run.guilds)
        roll = run.rng.random()
        work = (
            member_voice(run, run.voice, guild, _answer, _text)
            if run.voice is not None and roll < 0.07
            else member_request(run, guild)
            if roll < 0.5
            else member_vote(run, guild)
            if roll < 0.85
            else member_review(run)
        )
        task = asyncio.create_task(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:  # answers still coming; one sent while the bot was down would wait its full timeout
        _done, late = await asyncio.wait(tasks, timeout=15)
        for task in late:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# -- the end ---------------------------------------------------------------------------------


def database_line(run: Run) -> str:
    if run.opts.database_url:
        return f'url = "{run.opts.database_url}"'
    return f'path = "{run.database}"'


async def waiting_deliveries(target: str | Path) -> int | None:
    """Deliveries the bot still owes, or None while its database cannot be read."""
    if isinstance(target, Path) and not await asyncio.to_thread(target.exists):
        return None  # not created by the bot yet: opening it here would create it
    try:
        async with Database(target) as db:
            return int(
                await db.fetchval(
                    "SELECT COUNT(*) FROM deliveries d JOIN episodes e ON e.id = d.episode_id"
                    " JOIN subscriptions s"
                    " ON s.feed_id = e.feed_id AND s.channel_id = d.channel_id"
                    " WHERE d.state IN ('pending', 'digest')"
                )
            )
    except DatabaseError:
        return None


async def quiesce(run: Run) -> bool:
    """Faults off, feeds still: wait until the bot saw every feed's last version and posted all."""
    run.server.faults_on = False
    run.emu.faults.clear()
    run.log("faults off; waiting for the bot to catch up")
    if not run.alive():
        await start_bot(run)
    final_at = time.monotonic()
    limit = final_at + run.opts.quiesce_timeout
    last_count, last_change = -1, time.monotonic()
    while time.monotonic() < limit:
        await asyncio.sleep(1.0)
        unseen = [
            f
            for f in run.feeds
            if any(f.index == s.index for s, _c in run.subs)
            and not any(v == f.version.number and t >= final_at for t, v in f.served)
        ]
        waiting = await waiting_deliveries(run.database)
        count = len(run.message_times)
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        if not unseen and waiting == 0 and time.monotonic() - last_change > 3.0:
            run.quiet_after = time.monotonic() - final_at
            run.log(f"quiet after {run.quiet_after:.1f} s")
            return True
    run.log(
        f"still not quiet after {run.opts.quiesce_timeout:.0f} s: {len(unseen)} feeds unseen, "
        f"{waiting} deliveries waiting"
    )
    return False


async def requests_top(run: Run) -> dict[int, list[tuple[int, str]] | None]:
    """Each guild's /requests top as (votes, link) lines; None where the bot did not answer, and
    an unparsable line as (-1, the line), so that it fails the comparison."""
    tops: dict[int, list[tuple[int, str]] | None] = {}
    for guild in run.guilds:
        ix = await run.emu.slash(guild.id, guild.lobby, guild.members[0], "requests top")
        answer = await _answer(ix, timeout=20)
        if answer is None:
            tops[guild.id] = None
            continue
        lines = []
        for line in _text(answer).splitlines():
            if m := TOP_LINE.match(line):
                lines.append((int(m[1]), m[2]))
            elif not line.startswith("No open requests yet"):
                lines.append((-1, line))
        tops[guild.id] = lines
    return tops


def memory_figures(run: Run, duration: float) -> dict[str, Any]:
    if not run.rss:
        return {}
    first = [kb for t, _p, kb in run.rss if t <= duration / 4]
    last = [kb for t, _p, kb in run.rss if t >= duration * 3 / 4]
    figures: dict[str, Any] = {}
    if first and last:
        a, b = statistics.median(first) / 1024, statistics.median(last) / 1024
        figures["rss_median_first_quarter_mb"] = round(a, 1)
        figures["rss_median_last_quarter_mb"] = round(b, 1)
        figures["rss_growth_mb"] = round(b - a, 1)
    # the longest-lived process: its own first and last quarter
    by_pid: dict[int, list[tuple[float, int]]] = {}
    for t, pid, kb in run.rss:
        by_pid.setdefault(pid, []).append((t, kb))
    pid, samples = max(by_pid.items(), key=lambda p: p[1][-1][0] - p[1][0][0])
    life = samples[-1][0] - samples[0][0]
    if life > 8:
        q1 = [kb for t, kb in samples if t <= samples[0][0] + life / 4]
        q4 = [kb for t, kb in samples if t >= samples[-1][0] - life / 4]
        figures["longest_process_life_s"] = round(life)
        figures["longest_process_rss_mb"] = (
            round(statistics.median(q1) / 1024, 1),
            round(statistics.median(q4) / 1024, 1),
        )
    figures["rss_peak_mb"] = round(max(kb for _t, _p, kb in run.rss) / 1024, 1)
    return figures


async def run_soak(opts: SoakOptions) -> SoakReport:
    from emulator import DiscordEmulator

    rng = random.Random(opts.seed)
    workdir = opts.workdir or Path(tempfile.mkdtemp(prefix="narrator-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    token = f"soak-token-{opts.seed}-{os.getpid()}-{time.time_ns()}"
    emu = DiscordEmulator(token=token)
    await emu.start(host="127.0.0.1", port=0)
    server = SoakFeedServer([], rng, fetch_timeout=FETCH_TIMEOUT, max_feed_bytes=MAX_FEED_BYTES)
    if not opts.truncated_feeds:
        server.faults.kinds = tuple(k for k in server.faults.kinds if k != "truncated")
    await server.start()
    audio = dict(audio_base=server.url(""), audio_seconds=opts.tone_seconds) if opts.voice else {}
    feeds = build_feeds(opts.feeds, rng, **audio)  # type: ignore[arg-type]
    server.feeds = {f.path: f for f in feeds}
    run = Run(opts, rng, emu, server, feeds, workdir, started=time.monotonic(), token=token)
    emu.on_event(lambda kind, payload: on_emulator_event(run, kind, payload))
    build_world(run)
    if opts.voice:
        run.voice = await setup_voice(emu, workdir, run.guilds, opts.tone_seconds)
        run.voice.told = lambda guild_id, since: voice_notice(run, guild_id, since)
        server.audio_file = run.voice.tone
    moved = next(f for f in feeds if f.kind == "quiet")
    run.log(
        f"{len(feeds)} feeds, {len(run.subs) + len(run.late_subs)} subscriptions in "
        f"{len(run.channels)} channels of {opts.guilds} guilds; workdir {workdir}"
    )
    sampler = asyncio.create_task(sample_rss(run))
    tasks: list[asyncio.Task[None]] = []
    try:
        await start_bot(run)
        deadline = time.monotonic() + opts.minutes * 60
        tasks = [
            asyncio.create_task(feed_changes(run, deadline)),
            asyncio.create_task(discord_faults(run, deadline)),
            asyncio.create_task(permission_window(run, deadline)),
            asyncio.create_task(killer(run, deadline)),
            asyncio.create_task(members(run, deadline)),
        ]
        if run.voice is not None:
            tasks += [
                asyncio.create_task(first_plays(run, run.voice, _answer, _text, deadline)),
                asyncio.create_task(voice_drops(run, run.voice, deadline)),
            ]
        await asyncio.sleep(opts.minutes * 30)
        server.move_permanently(moved)
        run.log(f"feed {moved.index:03d} moved permanently (301)")
        done, _pending = await asyncio.wait(
            tasks, timeout=max(0.0, deadline - time.monotonic()) + 120
        )
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        active_seconds = time.monotonic() - run.started
        converged = await quiesce(run)
        tops = await requests_top(run)
        if run.voice is not None and run.voice.watchers:  # the last checks settle (≤ 40 s)
            await asyncio.wait(list(run.voice.watchers), timeout=60)
            run.log("the last voice checks settled")
        signal_bot(run, signal.SIGTERM)
        try:
            code = await run.bot.wait_exit(timeout=30)
        except AssertionError:
            run.stuck.append("the bot ignored the final SIGTERM for 30 s")
            code = await run.bot.kill()
        run.log(f"final SIGTERM: exit code {code}")
    finally:
        sampler.cancel()
        for task in [*tasks, *(run.voice.watchers if run.voice is not None else ())]:
            task.cancel()
        for bot in run.bots:
            if bot.proc is not None and bot.proc.returncode is None:
                bot.proc.kill()
                await bot.wait_exit()
        await server.stop()
        await emu.stop()
    verdict = Verdict()
    if not converged:
        verdict.inconsistencies.append("the bot never caught up after the faults stopped")
    if code != 0:
        verdict.inconsistencies.append(f"the final SIGTERM ended the bot with exit code {code}")
    verdict.inconsistencies += run.stuck
    db = await read_db(run.database)
    subs = [
        Subscription(feed, ch, run.channels[ch].kind, run.sub_since[(feed.index, ch)])
        for feed, ch in run.subs
    ]
    posts = {
        ch: collect_posts(emu, ch, run.channels[ch].kind == "forum", run.message_times)
        for ch in run.channels
    }
    check_deliveries(subs, posts, db, run.migration_version, run.blocked, verdict)
    check_requests(run.actions, db, tops, lambda url: canonical_key(url).key, verdict)
    left = ffmpeg_processes(token)
    if left:
        verdict.inconsistencies.append(f"ffmpeg processes left behind: {sorted(left)}")
    voice_lines = judge(run.voice, emu, run.guilds, verdict) if run.voice is not None else []
    logs = group_logs([bot.lines for bot in run.bots])
    for n, bot in enumerate(run.bots, 1):
        (workdir / f"bot-{n}.log").write_text(bot.log)
    dump = {
        str(ch): [[p.message_id, p.episode_id, p.digest_key, p.title] for p in ps]
        for ch, ps in posts.items()
    }
    (workdir / "posts.json").write_text(json.dumps(dump))
    (workdir / "actions.json").write_text(json.dumps([a.__dict__ for a in run.actions]))
    verdict.figures.update(memory_figures(run, active_seconds))
    text = report(run, verdict, logs, active_seconds, left, voice_lines)
    return SoakReport(verdict, text)


def report(
    run: Run,
    verdict: Verdict,
    logs: Any,
    seconds: float,
    ffmpeg_left: set[int],
    voice_lines: list[str],
) -> str:
    f = verdict.figures
    kinds: dict[str, int] = {}
    for feed in run.feeds:
        kinds[feed.kind] = kinds.get(feed.kind, 0) + 1
    served = sum(len(feed.served) for feed in run.feeds)
    episodes = sum(len(feed.items) for feed in run.feeds)
    large = [len(feed.body) for feed in run.feeds if feed.kind == "large"]
    lines = [
        "",
        "=" * 78,
        f"Narrator soak: {seconds / 60:.1f} min of faults + quiesce, seed {run.opts.seed}",
        "=" * 78,
        f"feeds: {len(run.feeds)} ({', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}); "
        f"large bodies ≈ {statistics.mean(large) / 1e6:.2f} MB"
        if large
        else "",
        f"feed requests: {run.server.requests}, answered with the feed or 304: {served}; "
        f"faults injected: {sum(run.server.fault_counts.values())} "
        f"{dict(sorted(run.server.fault_counts.items()))}",
        f"episodes in the feeds at the end: {episodes}; feed versions: "
        f"{sum(len(feed.versions) for feed in run.feeds)}",
        f"Discord faults: {dict(sorted(run.discord_faults.items()))}",
        f"bot processes: {len(run.bots)} (restarts {len(run.bots) - 1}); "
        f"REST requests seen by the emulator: {len(run.emu.requests)}; caught up "
        + (f"{run.quiet_after:.0f} s after the faults stopped" if run.quiet_after else "never"),
        f"subscriptions: {f.get('subscriptions')} in {len(run.channels)} channels; "
        f"owed deliveries: {f.get('owed_deliveries')}; delivered: {f.get('delivered')}; "
        f"digest posts: {f.get('digest_posts')}",
        f"permission window: {f.get('blocked_channel_posts_while_denied')} posts while denied, "
        f"{f.get('blocked_channel_posts_after_fix')} after the fix",
        f"members: {f.get('member_actions')} actions {f.get('member_outcomes')}; DB: "
        f"{f.get('requests_in_db')} requests, {f.get('votes_in_db')} votes "
        f"({f.get('confirmed_votes')} confirmed to members); /requests top lines checked: "
        f"{f.get('requests_top_lines_checked')} in {f.get('requests_top_guilds')} guilds",
        f"memory (RSS): first quarter median {f.get('rss_median_first_quarter_mb')} MB, last "
        f"quarter {f.get('rss_median_last_quarter_mb')} MB, growth {f.get('rss_growth_mb')} MB; "
        f"longest-lived process ({f.get('longest_process_life_s')} s) "
        f"{f.get('longest_process_rss_mb')} MB; peak {f.get('rss_peak_mb')} MB",
        *voice_lines,
        f"ffmpeg processes left: {len(ffmpeg_left)}",
        *verdict.lines,
        "",
        "events:",
        *(f"  {e}" for e in run.events if "feed" not in e or "every guid" in e or "moved" in e),
        "",
        f"bot warnings and errors by template ({sum(logs.values())} lines):",
        *(f"  {n:6d}  {t}" for t, n in logs.most_common()),
        "",
    ]
    for title, items in (
        ("DUPLICATES", verdict.duplicates),
        ("LOSSES", verdict.losses),
        ("NOT OWED BUT POSTED", verdict.extras),
        ("INCONSISTENCIES", verdict.inconsistencies),
    ):
        lines.append(f"{title}: {len(items)}")
        lines += [f"  - {item}" for item in items[:200]]
    lines.append("RESULT: " + ("FAIL" if verdict.failed else "PASS"))
    return "\n".join(line for line in lines if line is not None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs (plus one SIGTERM)")
    parser.add_argument("--guilds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--quiet", action="store_true", help="no running event log")
    parser.add_argument(
        "--no-forum-after-commit",
        action="store_true",
        help="no 5xx/dropped connection after a forum post was created (known duplicate bug)",
    )
    parser.add_argument(
        "--no-truncated-feeds",
        action="store_true",
        help="no feed bodies cut in half (known bug: half-parsed episodes are announced)",
    )
    parser.add_argument("--no-voice", action="store_true", help="no /play, no voice drops")
    parser.add_argument(
        "--database-url", default="", help="run the bot on this (empty) PostgreSQL database"
    )
    parser.add_argument("--log-level", default="INFO", help="the bot's log level (DEBUG, INFO)")
    parser.add_argument(
        "--tone-seconds", type=int, default=90, help="length of every episode's audio"
    )
    args = parser.parse_args(argv)
    opts = SoakOptions(
        minutes=args.minutes,
        feeds=args.feeds,
        seed=args.seed,
        kills=args.kills,
        guilds=args.guilds,
        workdir=args.workdir,
        quiet=args.quiet,
        forum_after_commit=not args.no_forum_after_commit,
        truncated_feeds=not args.no_truncated_feeds,
        voice=not args.no_voice,
        tone_seconds=args.tone_seconds,
        log_level=args.log_level,
        database_url=args.database_url,
    )
    result = asyncio.run(run_soak(opts))
    print(result.text)
    return 0 if result.ok else 1
