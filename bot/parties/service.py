"""Listening parties with Discord: the scheduled event made for an episode, one timer until the
soonest party's start, and the start itself (claim, join, become a speaker on a stage, notice
mentioning the interested members, event active, the episode from 0:00); the event completed
when the episode ends, the party cancelled when the event is.

Parties live in the database (`store.py`), so a restart before the start still holds them: the
timer is armed again from the table once the guilds are ready. With several processes, each
times the parties of its own guilds and `claim_start` lets exactly one start a party.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.announce.store import AnnounceStore
from bot.errors import UserFacingError
from bot.feeds.documents import DocumentFetchError, FetchRules, fetch_image
from bot.outgoing import REQUEST_FAILURES, clip, shown_title
from bot.parties.plan import INTERESTED_READ, EventFields, event_fields, start_notice
from bot.parties.store import Party, PartyStore
from bot.rest_once import post_once

if TYPE_CHECKING:
    from bot.announce.store import StoredEpisode
    from bot.bot import Narrator
    from bot.player.guild import GuildPlayer
    from bot.player.queue import QueueItem

log = logging.getLogger(__name__)

VoiceChannel = discord.VoiceChannel | discord.StageChannel
LATE_START = 15 * 60.0
"""A party whose start passed while the bot was down still starts if it is this late at most."""
CREATE_ATTEMPTS = 2  # requests for a new event, each after looking for the one before
CREATE_RETRY_PAUSE = 1.0


class _Unreadable(Exception):
    """A 2xx answer to a new event that names no event."""


def _event_id(data: object) -> int:
    found = data.get("id") if isinstance(data, dict) else None
    try:
        return int(str(found))  # a snowflake string; None or junk raises
    except (TypeError, ValueError):
        raise _Unreadable(f"no event id in {clip(str(data), 100)!r}") from None


@dataclass
class Playing:
    party: Party
    player: GuildPlayer
    item: QueueItem | None


def missing_permissions(channel: VoiceChannel) -> str | None:
    """Why the bot cannot hold a party in `channel` (one sentence), or None."""
    perms = channel.permissions_for(channel.guild.me)
    if not (perms.manage_events or perms.create_events):
        return (
            "I need the Manage Events (or Create Events) permission to schedule a listening party."
        )
    if not perms.view_channel or not perms.connect or not perms.speak:
        return f"I'm not allowed to join and speak in {channel.mention}."
    if isinstance(channel, discord.StageChannel) and not (
        perms.manage_channels and perms.mute_members and perms.move_members
    ):
        return (
            f"To hold a party on the stage {channel.mention} I need to be a stage moderator "
            "(Manage Channels, Mute Members and Move Members there)."
        )
    return None


def member_cannot_host(channel: VoiceChannel, member: discord.Member | discord.User) -> str | None:
    """Why `member` may not hold a party in `channel` (one sentence), or None.

    Discord asks of whoever schedules an event in a channel what it asks here: Manage Events
    there, seeing and joining it, and for a stage its moderation. The bot makes the event, so
    without this a member with Manage Events on the server could have it take over a channel
    that overwrites close to them (a staff room) and ping members into it."""
    if not isinstance(member, discord.Member):
        return "Listening parties are held in a server's voice channels."
    perms = channel.permissions_for(member)
    if not perms.view_channel or not perms.connect:
        return f"You can't join {channel.mention} yourself, so you can't hold a party there."
    if not perms.manage_events:
        return f"You need the Manage Events permission in {channel.mention} to hold a party there."
    if isinstance(channel, discord.StageChannel) and not (
        perms.manage_channels and perms.mute_members and perms.move_members
    ):
        return f"Only a stage moderator of {channel.mention} can hold a party on it."
    return None


class PartyService:
    def __init__(self, bot: Narrator) -> None:
        self.bot = bot
        self.store = PartyStore(bot.db)
        self.episodes = AnnounceStore(bot.db)
        settings = bot.settings.announce
        self.rules = FetchRules(
            timeout=settings.fetch_timeout, refuse_private=not settings.allow_private_addresses
        )
        self.playing: dict[int, Playing] = {}  # event id -> the party playing
        self.resumed: dict[int, Party] = {}  # guild id -> a party playing before a restart
        self._rearm = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._starting: set[asyncio.Task[None]] = set()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Arm the timer (once the guilds are known: a process times its own guilds' parties)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="parties")
        else:
            self._rearm.set()

    def close(self) -> None:
        tasks = [t for t in (self._task, *self._starting) if t is not None]
        for task in tasks:
            task.cancel()
        self._task = None

    # -- creating ----------------------------------------------------------------------------------

    async def create(
        self,
        channel: VoiceChannel,
        text_channel_id: int,
        stored: StoredEpisode,
        start: datetime,
        created_by: int,
    ) -> int:
        """The scheduled event's id, and the party's row; UserFacingError when Discord refuses."""
        if not stored.episode.audio_url:
            raise UserFacingError(f"“{shown_title(stored.episode.title)}” has no audio to play.")
        if reason := missing_permissions(channel):
            raise UserFacingError(reason)
        fields = event_fields(stored.episode, stored.feed_name, start)
        image = await self._image(stored.episode.image or stored.feed_image)
        stage = isinstance(channel, discord.StageChannel)
        kind = discord.EntityType.stage_instance if stage else discord.EntityType.voice
        payload: dict[str, Any] = {
            "name": fields.name,
            "description": fields.description,
            "scheduled_start_time": fields.start.isoformat(),
            "entity_type": kind.value,
            "channel_id": channel.id,
            "privacy_level": discord.PrivacyLevel.guild_only.value,
        }
        if image is not None:
            payload["image"] = discord.utils._bytes_to_base64_data(image)
        event_id = await self._make_event(
            channel, fields, payload, reason=f"Listening party requested by {created_by}"
        )
        await self.store.add(
            event_id,
            channel.guild.id,
            channel.id,
            text_channel_id,
            stored.id,
            created_by,
            start.timestamp(),
        )
        self._rearm.set()
        return event_id

    async def _make_event(
        self, channel: VoiceChannel, fields: EventFields, payload: dict[str, Any], *, reason: str
    ) -> int:
        """The new event's id. Scheduled events take no nonce, so each attempt is one request
        (discord.py would repeat it after a 5xx that Discord may have stored, making a second
        event); after an attempt whose outcome is unknown, the event is looked for first."""
        path = f"/guilds/{channel.guild.id}/scheduled-events"
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            if attempt > 1:
                await asyncio.sleep(CREATE_RETRY_PAUSE)
            try:
                return _event_id(await post_once(self.bot, path, payload, reason=reason))
            except discord.Forbidden:
                raise UserFacingError(
                    "Discord refused to create the event: I need Manage Events (or Create Events) "
                    f"and to be able to join {channel.mention}."
                ) from None
            except discord.DiscordServerError as exc:
                log.warning("Creating a party event: Discord answered %s", exc.status)
            except (aiohttp.ClientError, TimeoutError, _Unreadable) as exc:
                log.warning("Creating a party event: no usable answer (%r)", exc)
            except discord.HTTPException as exc:
                refusal = exc.text or exc.response.reason or f"HTTP {exc.status}"
                raise UserFacingError(
                    f"Discord refused to create the event: {clip(refusal, 200)}."
                ) from None
            found = await self._find_event(channel, fields)
            if found is not None:
                log.info("Party event %s was made despite the failed answer", found)
                return found
        raise UserFacingError(
            "Discord is having trouble and did not create the event; try again in a few minutes."
        )

    async def _find_event(self, channel: VoiceChannel, fields: EventFields) -> int | None:
        """The event an attempt made, if Discord stored it before failing."""
        me = self.bot.user
        try:
            events = await channel.guild.fetch_scheduled_events(with_counts=False)
        except REQUEST_FAILURES as exc:
            log.warning("Could not look for a party event after a failed answer: %s", exc)
            raise UserFacingError(
                "Discord is having trouble: I could not tell whether the event was created. "
                "Look in the server's events before trying again."
            ) from None
        for event in events:
            if (
                me is not None
                and event.creator_id == me.id
                and event.channel_id == channel.id
                and event.name == fields.name
                and abs((event.start_time - fields.start).total_seconds()) < 1
            ):
                return event.id
        return None

    async def _image(self, url: str | None) -> bytes | None:
        if not url:
            return None
        try:
            return await fetch_image(self.bot.feed_session, url, self.rules)
        except DocumentFetchError as exc:  # the event is made without a cover
            log.info("No cover image for a listening party from %s: %s", url, exc)
            return None

    # -- the timer ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._resume_started()
        except Exception:
            log.exception("Listening parties: could not look at the parties under way")
        while True:
            self._rearm.clear()
            delay = None
            try:
                delay = await self._start_due()
            except Exception:
                log.exception("Listening parties: could not look at the parties due")
                delay = 30.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._rearm.wait(), timeout=delay)

    async def _start_due(self) -> float | None:
        """Start every party due now; seconds until the next one (None: none waits)."""
        own = [g.id for g in self.bot.guilds]
        now = time.time()
        for party in await self.store.upcoming(own):
            if party.starts_at > now:
                return party.starts_at - now
            task = asyncio.create_task(self._begin(party), name=f"party-{party.event_id}")
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)
        return None

    async def _resume_started(self) -> None:
        """Parties that were playing when the bot stopped: one whose player session continues
        (bot/player/manager.py restores it) ends with its episode; one without is over now."""
        players = self.bot.players
        assert players is not None
        for party in await self.store.playing([g.id for g in self.bot.guilds]):
            if party.event_id in self.playing:
                continue
            session = await players.store.session(party.guild_id)
            playing = session.now_playing if session is not None else None
            if playing is not None and playing.episode_id == party.episode_id:
                self.resumed[party.guild_id] = party
                await self.player_changed(party.guild_id)  # restored already, perhaps
            elif await self.store.finish(party.event_id):
                await self._end_event(party, completed=True)

    # -- starting ------------------------------------------------------------------------------------

    async def _begin(self, party: Party) -> None:
        if not await self.store.claim_start(party.event_id):
            return  # another process, or a cancel, came first
        try:
            await self._hold(party)
        except Exception as exc:
            if not isinstance(exc, UserFacingError):
                log.exception("Listening party %s could not start", party.event_id)
            reason = exc.message if isinstance(exc, UserFacingError) else "something went wrong."
            await self._say(party.text_channel_id, f"The listening party could not start: {reason}")
            await self.store.cancel(party.event_id)
            self.playing.pop(party.event_id, None)
            await self._end_event(party, completed=False)

    async def _hold(self, party: Party) -> None:
        guild = self.bot.get_guild(party.guild_id)
        channel = guild.get_channel(party.voice_channel_id) if guild else None
        if guild is None or not isinstance(channel, VoiceChannel):
            raise UserFacingError("its voice channel is gone.")
        if time.time() - party.starts_at > LATE_START:
            raise UserFacingError("I was offline at its start time.")
        event = await self._event(party)
        if event is None or event.status not in (
            discord.EventStatus.scheduled,
            discord.EventStatus.active,
        ):
            await self.store.cancel(party.event_id)
            return
        stored = await self.episodes.episode(party.episode_id)
        if stored is None or not stored.episode.audio_url:
            raise UserFacingError("its episode is no longer in my library.")
        await self._check_host(guild, channel, party)
        # only as many as the notice can mention: reading them all took a request per 100
        # before the bot joined (a party in a big server started minutes late)
        interested = [u.id async for u in event.users(limit=INTERESTED_READ) if not u.bot]
        players = self.bot.players
        assert players is not None
        player = await players.join_channel(channel, party.text_channel_id)
        if isinstance(channel, discord.StageChannel):
            await self._open_stage(channel, event, stored)
        elif event.status == discord.EventStatus.scheduled:
            await event.start(reason="The listening party started")
        item = await players.play_from_start(player, stored, party.created_by)
        self.playing[party.event_id] = Playing(party, player, item)
        notice = start_notice(stored.episode.title, channel.id, interested, event.user_count)
        text = self.bot.get_channel(party.text_channel_id)
        if isinstance(text, discord.TextChannel | discord.Thread | discord.VoiceChannel):
            try:
                message = await text.send(
                    notice.content,
                    allowed_mentions=discord.AllowedMentions(
                        everyone=False,
                        roles=False,
                        replied_user=False,
                        users=[discord.Object(u) for u in notice.mentioned],
                    ),
                )
                await self.store.started_notice(party.event_id, message.id)
            except REQUEST_FAILURES as exc:
                log.warning("Could not post the start of party %s: %s", party.event_id, exc)
        log.info(
            "Listening party %s started in %s with %d interested",
            party.event_id,
            channel.id,
            event.user_count or len(interested),
        )

    async def _check_host(self, guild: discord.Guild, channel: VoiceChannel, party: Party) -> None:
        """The bot starts the party for its host, as the host would start their own event: they
        must still be in the server and able to hold a party in the channel (member_cannot_host),
        or a host who has since lost a staff room would still have the bot take it over.
        A failed lookup (Discord unreachable) lets the party start: it was announced."""
        try:
            host = await guild.fetch_member(party.created_by)
        except discord.NotFound:
            raise UserFacingError("its host has left the server.") from None
        except REQUEST_FAILURES as exc:
            log.warning("Could not look up the host of party %s: %s", party.event_id, exc)
            return
        if member_cannot_host(channel, host):
            raise UserFacingError(f"its host can no longer hold a party in {channel.mention}.")

    async def _open_stage(
        self, channel: discord.StageChannel, event: discord.ScheduledEvent, stored: StoredEpisode
    ) -> None:
        """Speak on the stage (a moderator unsuppresses itself; else it raises its hand) and
        open the stage instance for the event, which makes the event active."""
        me = channel.guild.me
        try:
            await me.edit(suppress=False)
        except discord.Forbidden:
            with contextlib.suppress(*REQUEST_FAILURES):
                await me.request_to_speak()
        if channel.instance is None:
            await channel.create_instance(
                topic=shown_title(stored.episode.title)[:120] or "Listening party",
                scheduled_event=event,
                reason="The listening party started",
            )

    async def _event(self, party: Party) -> discord.ScheduledEvent | None:
        guild = self.bot.get_guild(party.guild_id)
        if guild is None:
            return None
        try:
            return await guild.fetch_scheduled_event(party.event_id)
        except discord.NotFound:
            return None

    # -- ending --------------------------------------------------------------------------------------

    async def player_changed(self, guild_id: int) -> None:
        """The guild's player changed: a party whose episode no longer plays has ended."""
        if guild_id in self.resumed:
            self._adopt(guild_id)
        for event_id, playing in list(self.playing.items()):
            if playing.party.guild_id != guild_id:
                continue
            now = playing.player.playing
            if now is not None and now.item is playing.item:
                continue
            del self.playing[event_id]
            if await self.store.finish(event_id):
                log.info("Listening party %s ended", event_id)
                await self._end_event(playing.party, completed=True)

    def _adopt(self, guild_id: int) -> None:
        """A party from before a restart: its episode playing again is the party's."""
        players = self.bot.players
        player = players.get(guild_id) if players is not None else None
        if player is None or player.playing is None:
            return  # not restored yet (its first change is its episode starting)
        party = self.resumed.pop(guild_id)
        now = player.playing
        if now is not None and now.item.episode_id == party.episode_id:
            self.playing[party.event_id] = Playing(party, player, now.item)
        else:  # something else plays: the party's episode is over; end it below
            self.playing[party.event_id] = Playing(party, player, None)

    async def _end_event(self, party: Party, *, completed: bool) -> None:
        """Complete the event (closing its stage does that), or cancel one that never began."""
        event = await self._event(party)
        if event is None:
            return
        try:
            if event.status == discord.EventStatus.active:
                channel = event.channel
                if isinstance(channel, discord.StageChannel) and channel.instance is not None:
                    await channel.instance.delete(reason="The listening party ended")
                else:
                    await event.end(reason="The listening party ended")
            elif event.status == discord.EventStatus.scheduled and not completed:
                await event.cancel(reason="The listening party could not start")
        except REQUEST_FAILURES as exc:
            log.warning("Could not end the event of party %s: %s", party.event_id, exc)

    # -- Discord's side: a moderator cancels, deletes or moves the event ---------------------------

    async def event_changed(self, event: discord.ScheduledEvent) -> None:
        if event.status in (discord.EventStatus.cancelled, discord.EventStatus.completed):
            await self.cancelled(event.id)
        elif event.status == discord.EventStatus.scheduled and await self.store.reschedule(
            event.id, event.start_time.timestamp()
        ):
            log.info("Listening party %s moved to %s", event.id, event.start_time.isoformat())
            self._rearm.set()

    async def cancelled(self, event_id: int) -> None:
        if not await self.store.cancel(event_id):
            return
        log.info("Listening party %s cancelled", event_id)
        self._rearm.set()
        playing = self.playing.pop(event_id, None)
        now = playing.player.playing if playing is not None else None
        if playing is not None and now is not None and now.item is playing.item:
            await playing.player.stop()  # a moderator ended it while it played

    async def _say(self, channel_id: int, text: str) -> None:
        players = self.bot.players
        if players is not None:
            await players.say(channel_id, text)


def when_text(start: datetime) -> str:
    """A Discord timestamp every member sees in their own time zone."""
    seconds = int(start.astimezone(UTC).timestamp())
    return f"<t:{seconds}:F> (<t:{seconds}:R>)"
