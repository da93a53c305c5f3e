"""Posting what a channel is owed, exactly once, oldest first, one channel at a time.

For each delivery: count the attempt in the database, then (only if an earlier attempt may have
reached Discord) look for the message in the channel, then send with a nonce derived from
(channel, episode) so Discord itself drops a repeat, then record the message id. A crash at any
point therefore leads to neither a duplicate nor a loss.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
import discord.http

from bot import metrics, outgoing, rest_once
from bot.announce import render
from bot.announce.announced import Announced
from bot.announce.echoes import Announcement, Echoes
from bot.announce.markers import (
    DIGEST_PREFIX,
    announced_keys,
    custom_ids,
    episode_key,
    play_custom_id,
)
from bot.announce.store import AnnounceStore, Waiting

if TYPE_CHECKING:
    from bot.bot import Narrator

log = logging.getLogger(__name__)

Postable = discord.TextChannel | discord.ForumChannel | discord.Thread
HISTORY_CHECK = 50  # recent messages searched for a post that may have gone out before a crash
MAX_RETRY_AFTER = 3600.0  # a longer Retry-After is read as this, so a bad one cannot mute a channel
UNKNOWN_CHANNEL = 10003
# Discord's refusals that no retry and no plain post can get past: the channel itself must change.
REFUSALS = {
    40067: "the forum requires a tag on every post and I don't choose tags"
    " (turn off Require Tags in the forum's settings)",
    160005: "the thread is locked",
    50083: "the thread is archived and locked",
    160006: "the server has reached Discord's limit of active threads",
    50024: "Discord does not take posts in that kind of channel",
    50008: "Discord does not take posts in that kind of channel",
    40058: "Discord does not take posts in that kind of channel",
}


class ChannelBlocked(Exception):
    """Posting in this channel cannot work until an admin fixes something; `gone` when the
    channel no longer exists, which no fix brings back."""

    def __init__(self, reason: str, *, gone: bool = False) -> None:
        super().__init__(reason)
        self.gone = gone


class TryLater(Exception):
    """A passing problem (Discord 5xx or 429, network); the delivery stays owed."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after  # Discord said: not before this many seconds


@dataclass(frozen=True)
class Report:
    sent: int = 0
    blocked: str | None = None  # why nothing can be posted here, when it is news
    retry: bool = False
    retry_after: float | None = None  # Discord said how long to wait (a 429)
    unblocked: bool = False  # posting works again where admins had been told it could not
    gone: bool = False  # the channel was deleted: tried again rarely (the scheduler's GONE_RETRY)


def digest_thread_name(embed: discord.Embed) -> str:
    return outgoing.clip(embed.title or "New episodes", outgoing.THREAD_NAME_MAX)


PublishRefused = Callable[[int, str], Awaitable[None]]
"""Told (channel id, Discord's reason) when posts there cannot be published to followers."""


class Deliverer:
    def __init__(
        self, bot: Narrator, store: AnnounceStore, *, on_publish_refused: PublishRefused
    ) -> None:
        self.bot = bot
        self.store = store
        self._locks: dict[int, asyncio.Lock] = {}
        self.announced = Announced()  # read-backs, kept up to date with every post made here
        self.on_publish_refused = on_publish_refused
        self._publishes: set[asyncio.Task[None]] = set()
        self._last_publish: dict[int, asyncio.Task[None]] = {}  # per channel: the newest
        self._publish_refused: set[int] = set()  # admins told (until a publish works there)
        self._sent_at: dict[int, float] = {}  # channel -> when the bot last posted (slowmode)

    def busy(self, channel_id: int) -> bool:
        lock = self._locks.get(channel_id)
        return lock is not None and lock.locked()

    @asynccontextmanager
    async def holding(self, channel_ids: Iterable[int]) -> AsyncIterator[None]:
        """Nothing is posted in these channels until the block ends (locks taken in id order)."""
        async with contextlib.AsyncExitStack() as stack:
            for channel_id in sorted(set(channel_ids)):
                await stack.enter_async_context(self._locks.setdefault(channel_id, asyncio.Lock()))
            yield

    async def deliver(self, channel_id: int) -> Report:
        lock = self._locks.setdefault(channel_id, asyncio.Lock())
        async with lock:
            waiting = await self.store.waiting(channel_id)
            if not waiting:
                return Report()
            sent = 0
            try:
                channel = await self._channel(channel_id)
                # What the channel already shows of these episodes from other feeds: looked up
                # only when the query said there is some. Posts made below are added as they go.
                echoed = any(w.echoed for w in waiting)
                echoes = Echoes(
                    await self.store.announcements(channel_id, waiting) if echoed else ()
                )
                for item in [w for w in waiting if w.state == "pending"]:
                    if await self._already_announced(channel_id, item, echoes):
                        continue
                    message_id = await self._post_episode(channel, item)
                    echoes.add(_announcement(item, message_id))
                    sent += 1
                digest = [w for w in waiting if w.state == "digest"]
                if digest and await self._post_digest(channel, digest, echoes):
                    sent += 1
            except ChannelBlocked as exc:
                news = await self.store.set_blocked(channel_id, str(exc))
                log.warning("Cannot post in channel %s: %s", channel_id, exc)
                return Report(blocked=str(exc) if news else None, retry=True, gone=exc.gone)
            except TryLater as exc:
                log.warning("Posting in channel %s failed for now: %s", channel_id, exc)
                return Report(sent=sent, retry=True, retry_after=exc.retry_after)
            except discord.RateLimited as exc:  # a 429 too long for discord.py to wait inside
                log.warning("Posting in channel %s failed for now: %s", channel_id, exc)
                return Report(sent=sent, retry=True, retry_after=_capped(exc.retry_after))
            unblocked = False
            if any(w.blocked for w in waiting):  # else there is nothing to clear: no write
                unblocked = await self.store.set_blocked(channel_id, None)
            return Report(sent=sent, unblocked=unblocked)

    async def _channel(self, channel_id: int) -> Postable:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                fetched = await self.bot.fetch_channel(channel_id)
            except discord.NotFound as exc:
                raise ChannelBlocked(
                    f"channel {channel_id} does not exist or I cannot see it",
                    gone=exc.code == UNKNOWN_CHANNEL,  # deleted: its id never comes back
                ) from None
            except discord.Forbidden:
                raise ChannelBlocked(f"I am not allowed to see channel {channel_id}") from None
            except outgoing.REQUEST_FAILURES as exc:
                raise TryLater(str(exc)) from exc
            channel = fetched
        if not isinstance(channel, discord.TextChannel | discord.ForumChannel | discord.Thread):
            raise ChannelBlocked(
                f"#{getattr(channel, 'name', channel_id)} is not a text, announcement or forum channel"
            )
        return channel

    async def _wait_for_slowmode(self, channel: Postable) -> None:
        """Slowmode binds a bot without Manage Messages: wait it out in the scheduler (the
        channel's retry), not inside discord.py's request, which would sleep on Discord's 429
        (up to six hours) holding the channel and a delivery slot, and count as an invalid
        request. Forum posts need no check: their 429 is already the scheduler's to wait."""
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return
        me = channel.guild.me
        if not channel.slowmode_delay or me is None:
            return
        perms = channel.permissions_for(me)
        if perms.manage_messages or perms.manage_channels or perms.bypass_slowmode:
            return
        last = self._sent_at.get(channel.id)
        if last is None:  # not posted there since the start: its history says when we last did
            last = self._sent_at[channel.id] = await self._last_own_post(channel)
        wait = last + channel.slowmode_delay - time.time()
        if wait > 0:
            raise TryLater(
                f"slowmode allows a post every {channel.slowmode_delay} s", retry_after=wait
            )

    async def _last_own_post(self, channel: discord.TextChannel | discord.Thread) -> float:
        """When the bot last posted in the channel among its recent messages (0: not there)."""
        me = self.bot.user
        try:
            async for message in channel.history(limit=HISTORY_CHECK):
                if me and message.author.id == me.id:
                    return message.created_at.timestamp()
        except outgoing.REQUEST_FAILURES as exc:
            log.info("Cannot read %s for its slowmode (%s); posting anyway", channel.id, exc)
        return 0.0

    async def _already_announced(self, channel_id: int, item: Waiting, echoes: Echoes) -> bool:
        """Whether another feed's announcement in the channel already shows this episode; if so
        it is recorded as sent in that message (buttons, read-backs and recovery then find it
        like any other), and said once. An admin's re-post (round > 0) is always posted."""
        if item.round > 0:
            return False
        stored = item.episode
        key = episode_key(stored.episode.id)
        earlier = echoes.earlier(stored.feed_id, key, stored.episode.source_key)
        if earlier is None:
            return False
        await self.store.mark_sent([stored.id], channel_id, earlier.message_id)
        self.announced.posted(channel_id, [key], earlier.message_id)
        echoes.add(_announcement(item, earlier.message_id))
        log.info(
            "Episode %s (%s) was already announced in channel %s by feed %s (message %s)",
            stored.id,
            stored.episode.title,
            channel_id,
            earlier.feed_name,
            earlier.message_id,
        )
        return True

    async def _post_episode(self, channel: Postable, item: Waiting) -> int:
        """Posts the episode (or finds the post an earlier attempt made): its message id."""
        stored = item.episode
        key = episode_key(stored.episode.id)
        legacy = play_custom_id(stored.id, None)  # posted by a version before episode keys

        def is_it(message: discord.Message) -> bool:
            return key in announced_keys(message) or legacy in custom_ids(message)

        await self._wait_for_slowmode(channel)
        await self.store.begin_attempt([stored.id], channel.id)
        if item.attempts > 0:
            found = await self._find_earlier(channel, is_it, render.thread_name(stored))
            if found is not None:
                log.info(
                    "Episode %s was already posted in %s (message %s)", stored.id, channel.id, found
                )
                await self.store.mark_sent([stored.id], channel.id, found)
                self.announced.posted(channel.id, [key], found)
                return found
        kind = "sent"
        content, mentions = render.mention_content(item.mention_role_id)
        embed = render.episode_embed(stored, item.feed_name, item.feed_image, announcement=True)
        view = render.episode_view(stored, announcement=True)
        nonce = render.nonce_for(channel.id, f"episode:{stored.id}:{item.round}")
        try:
            message_id = await self._send(
                channel, content, embed, view, mentions, nonce, render.thread_name(stored)
            )
        except discord.HTTPException as exc:
            if exc.status != 400 or exc.code in REFUSALS:  # a plain post would meet the same
                raise self._classify(exc) from exc
            log.warning(
                "Discord refused the post for episode %s (%s); sending it plain",
                stored.id,
                exc.text,
            )
            kind = "fallback"
            plain = render.plain_post(stored, item.feed_name, item.mention_role_id)
            try:
                message_id = await self._send(
                    channel,
                    plain,
                    None,
                    render.episode_view(stored, announcement=True),
                    mentions,
                    nonce,
                    render.thread_name(stored),  # the name a retry looks for, embed or not
                )
            except discord.HTTPException as again:
                raise self._classify(again) from again
        except (aiohttp.ClientError, TimeoutError) as exc:
            await self.store.mark_error([stored.id], channel.id, str(exc))
            raise TryLater(str(exc)) from exc
        await self.store.mark_sent([stored.id], channel.id, message_id)
        self.announced.posted(channel.id, [key], message_id)
        metrics.POSTS.labels(kind=kind).inc()
        log.info(
            "Posted episode %s (%s) in channel %s", stored.id, stored.episode.title, channel.id
        )
        return message_id

    async def _send(
        self,
        channel: Postable,
        content: str | None,
        embed: discord.Embed | None,
        view: discord.ui.View,
        mentions: discord.AllowedMentions,
        nonce: str,
        thread_name: str,
    ) -> int:
        if isinstance(channel, discord.ForumChannel):
            return await self._create_forum_post(
                channel,
                thread_name,
                content=content,
                embed=embed,
                view=view,
                mentions=mentions,
            )
        assert isinstance(channel, discord.TextChannel | discord.Thread)
        message = await self._send_message(
            channel,
            content=content,
            embed=embed if embed is not None else discord.utils.MISSING,
            view=view,
            allowed_mentions=mentions,
            nonce=nonce,
        )
        if (
            isinstance(channel, discord.TextChannel)
            and channel.is_news()
            and self.bot.settings.announce.publish_to_followers
        ):
            self._publish_soon(message)
        return message.id

    async def _send_message(
        self, channel: discord.TextChannel | discord.Thread, **fields: Any
    ) -> discord.Message:
        try:
            message = await channel.send(**fields)
        except (KeyError, TypeError, ValueError) as exc:
            # A 2xx whose body discord.py cannot read (fields missing): the post may be there,
            # and the next attempt looks for it before sending again.
            raise TryLater(f"Discord's answer to a post could not be read ({exc!r})") from exc
        self._sent_at[channel.id] = time.time()
        return message

    def _publish_soon(self, message: discord.Message) -> None:
        """Publish beside the delivery, not inside it: Discord allows a channel few publishes
        an hour, and discord.py waits out a 429 inside the request, which would hold the
        channel's next posts back as long. A channel's publishes still go out in order."""
        channel_id = message.channel.id
        task = asyncio.create_task(
            self._publish(message, self._last_publish.get(channel_id)),
            name=f"publish-{message.id}",
        )
        self._publishes.add(task)
        self._last_publish[channel_id] = task

        def done(finished: asyncio.Task[None]) -> None:
            self._publishes.discard(finished)
            if self._last_publish.get(channel_id) is finished:
                del self._last_publish[channel_id]

        task.add_done_callback(done)

    async def _publish(self, message: discord.Message, after: asyncio.Task[None] | None) -> None:
        channel_id = message.channel.id
        if after is not None:
            await asyncio.wait([after])  # its outcome is its own
        try:
            await message.publish()
        except discord.RateLimited as exc:  # the channel's few publishes an hour are used up
            log.warning("Could not publish message %s to followers: %s", message.id, exc)
        except discord.HTTPException as exc:
            log.warning("Could not publish message %s to followers: %s", message.id, exc)
            if exc.status == 403 and channel_id not in self._publish_refused:
                self._publish_refused.add(channel_id)
                await self.on_publish_refused(channel_id, _refusal(exc))
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Could not publish message %s to followers: %s", message.id, exc)
        else:
            self._publish_refused.discard(channel_id)

    async def stop(self, grace: float) -> None:
        """Publishes still running get `grace` seconds, then are given up (their posts stand)."""
        if self._publishes:
            _done, pending = await asyncio.wait(set(self._publishes), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _post_digest(
        self, channel: Postable, owed: Sequence[Waiting], echoes: Echoes
    ) -> bool:
        """Posts one message listing what is owed as a digest, less what the channel already
        shows from another feed, and listing once what two of its feeds both carry. Whether a
        digest was posted (or found from an earlier attempt)."""
        items: list[Waiting] = []
        inside: list[tuple[Waiting, str]] = []  # a copy of an episode listed here, and its feed
        listed = Echoes()  # what this digest lists, by placeholder message ids (-1, -2, ...)
        for w in owed:
            if await self._already_announced(channel.id, w, echoes):
                continue
            key = episode_key(w.episode.episode.id)
            twin = listed.earlier(w.episode.feed_id, key, w.episode.episode.source_key)
            if twin is not None:
                inside.append((w, twin.feed_name))
                continue
            items.append(w)
            listed.add(_announcement(w, -len(items)))
        if not items:
            return False
        episodes = [w.episode for w in items]
        ids = [e.id for e in episodes] + [w.episode.id for w, _ in inside]
        keys = [episode_key(e.episode.id) for e in episodes]
        keys += [episode_key(w.episode.episode.id) for w, _ in inside]
        key = render.digest_key(episodes)
        marker = DIGEST_PREFIX + key
        embed = render.digest_embed([w.feed_name for w in items], episodes)
        await self._wait_for_slowmode(channel)
        await self.store.begin_attempt(ids, channel.id)
        if any(w.attempts > 0 for w in items):
            found = await self._find_earlier(
                channel, lambda m: marker in custom_ids(m), digest_thread_name(embed)
            )
            if found is not None:
                log.info("The digest of %d episodes was already posted in %s", len(ids), channel.id)
                await self._digest_sent(channel.id, items, inside, ids, keys, found, echoes)
                return True
        view = render.digest_view(episodes)
        nonce = render.nonce_for(channel.id, f"digest:{key}")
        try:
            if isinstance(channel, discord.ForumChannel):
                message_id = await self._create_forum_post(
                    channel, digest_thread_name(embed), content=None, embed=embed, view=view
                )
            else:
                assert isinstance(channel, discord.TextChannel | discord.Thread)
                message = await self._send_message(
                    channel,
                    embed=embed,
                    view=view,
                    nonce=nonce,
                    allowed_mentions=outgoing.mentions(),
                )
                message_id = message.id
        except discord.HTTPException as exc:
            raise self._classify(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TryLater(str(exc)) from exc
        await self._digest_sent(channel.id, items, inside, ids, keys, message_id, echoes)
        metrics.POSTS.labels(kind="digest").inc()
        log.info("Posted a digest of %d episodes in channel %s", len(items), channel.id)
        return True

    async def _digest_sent(
        self,
        channel_id: int,
        items: Sequence[Waiting],
        inside: Sequence[tuple[Waiting, str]],
        ids: Sequence[int],
        keys: Sequence[str],
        message_id: int,
        echoes: Echoes,
    ) -> None:
        await self.store.mark_sent(ids, channel_id, message_id)
        self.announced.posted(channel_id, keys, message_id)
        for w in [*items, *(w for w, _ in inside)]:
            echoes.add(_announcement(w, message_id))
        for w, by in inside:
            log.info(
                "Episode %s (%s) was already announced in channel %s by feed %s (message %s,"
                " a digest)",
                w.episode.id,
                w.episode.episode.title,
                channel_id,
                by,
                message_id,
            )

    async def _create_forum_post(
        self,
        channel: discord.ForumChannel,
        name: str,
        *,
        content: str | None,
        embed: discord.Embed | None,
        view: discord.ui.View,
        mentions: discord.AllowedMentions | None = None,
    ) -> int:
        """One `POST /channels/{id}/threads`, without discord.py's automatic retries.

        Forum posts take no nonce, so a library retry after a 5xx that Discord had in fact
        stored would post twice. Here a failure is one failed attempt, and the next attempt first
        looks for the post among the forum's threads.
        """
        params = discord.http.handle_message_parameters(
            content=content,
            embed=embed if embed is not None else discord.utils.MISSING,
            view=view,
            # Built by outgoing.mentions, never discord.py's defaults: this request bypasses the
            # client, whose own default (no pings) would otherwise fill in what is left unset.
            allowed_mentions=mentions or outgoing.mentions(),
            channel_payload={"name": name, "auto_archive_duration": 10080},
        )
        try:
            data = await rest_once.post_once(
                self.bot, f"/channels/{channel.id}/threads", params.payload or {}
            )
        except discord.RateLimited as exc:  # nothing was posted: wait as long as Discord says
            raise TryLater(
                "Discord is rate limiting posts in this forum (429)",
                retry_after=_capped(exc.retry_after),
            ) from None
        return _post_id(data)

    def _classify(self, exc: discord.HTTPException) -> Exception:
        if exc.code in REFUSALS:
            return ChannelBlocked(REFUSALS[exc.code])
        if isinstance(exc, discord.Forbidden):
            return ChannelBlocked(
                "I am missing permissions to post there (View Channel, Send Messages, Embed Links)"
            )
        if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_CHANNEL:
            return ChannelBlocked("the channel no longer exists", gone=True)
        if exc.status >= 500 or exc.status == 429:
            return TryLater(f"Discord answered {exc.status}: {exc.text or exc}")
        # Any other refusal (a 404 naming no channel, a 400 that met the plain post too) will
        # not pass by itself: admins are told once, in Discord's words, and it is tried again.
        return ChannelBlocked(f"Discord refused the post: {_refusal(exc)}")

    async def _find_earlier(
        self, channel: Postable, is_it: Callable[[discord.Message], bool], name: str | None
    ) -> int | None:
        """The id of a post from an earlier attempt, if it did reach Discord."""
        me = self.bot.user
        try:
            if isinstance(channel, discord.ForumChannel):
                # Ask Discord, not the cache: the THREAD_CREATE of a post whose reply was lost
                # may not have arrived yet (during a gateway resume, say).
                active = await channel.guild.active_threads()
                for thread in [t for t in active if t.parent_id == channel.id]:
                    if me and thread.owner_id == me.id and name is not None and thread.name == name:
                        starter = await thread.fetch_message(thread.id)  # the post's first message
                        if is_it(starter):
                            return starter.id
                return None
            assert isinstance(channel, discord.TextChannel | discord.Thread)
            async for message in channel.history(limit=HISTORY_CHECK):
                if me and message.author.id == me.id and is_it(message):
                    return message.id
        except discord.Forbidden:
            log.info("Cannot read history in %s; relying on the nonce alone", channel.id)
        except outgoing.REQUEST_FAILURES as exc:
            raise TryLater(f"could not check for an earlier post: {exc}") from exc
        return None


def _announcement(item: Waiting, message_id: int) -> Announcement:
    stored = item.episode
    return Announcement(
        stored.id,
        stored.feed_id,
        item.feed_name,
        episode_key(stored.episode.id),
        stored.episode.source_key,
        message_id,
    )


def _post_id(data: object) -> int:
    """The id of a new forum post (its first message's, which is the thread's) from Discord's
    answer; a body without one may still mean the post exists: the next attempt looks first."""
    message = data.get("message") if isinstance(data, dict) else None
    found = message.get("id") if isinstance(message, dict) else None
    if found is None and isinstance(data, dict):
        found = data.get("id")
    try:
        return int(str(found))  # a snowflake string; None or junk raises
    except (TypeError, ValueError):
        raise TryLater("Discord's answer to a forum post named no post") from None


def _refusal(exc: discord.HTTPException) -> str:
    """Discord's own words, safe in a notice: `404: Not Found (HTTP 404, code 0)`."""
    text = discord.utils.escape_markdown(outgoing.clip(exc.text or exc.response.reason or "", 200))
    return f"{text} (HTTP {exc.status}, code {exc.code})".strip()


def _capped(retry_after: float) -> float | None:
    """Seconds a 429 asks to wait, at most MAX_RETRY_AFTER (None: it named no usable wait)."""
    return min(retry_after, MAX_RETRY_AFTER) if retry_after > 0 else None
