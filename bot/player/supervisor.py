"""Each player's voice watch (`watch.py`) with its one timer, and what its verdicts do: end the
session with a message, leave an empty or idle channel, or leave and rejoin (the watchdog).

The manager hands every event here: the voice client's link reports (`voice_client.py`), voice-state
updates, and the player's own changes (`GuildPlayer.changed`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import discord

from bot.player.guild import GuildPlayer
from bot.player.voice_client import LinkEvent, WatchedVoiceClient
from bot.player.watch import Limits, Verdict, VoiceWatch

if TYPE_CHECKING:
    from bot.player.manager import PlayerManager

log = logging.getLogger(__name__)

LEAVE_TIMEOUT = 10.0  # a client mid-way through a reconnect attempt is not waited on longer
LOST = (
    "I lost the voice connection and couldn't get it back, so playback stopped. "
    "Your place is saved; try /play again in a moment."
)
SILENT = (
    "The voice connection stopped carrying audio and rejoining didn't help, so playback "
    "stopped. Your place is saved; try /play again in a moment."
)
KICKED = "I was disconnected from the voice channel, so playback stopped. Your place is saved."


class Supervisor:
    """Owned by the manager: one watch, one timer and at most one rejoin per watched player."""

    def __init__(self, manager: PlayerManager, limits: Limits) -> None:
        self.manager = manager
        self.limits = limits
        self._watches: dict[int, VoiceWatch] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._rejoins: dict[int, asyncio.Task[Any]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def close(self) -> None:
        """Stop watching: what follows (the manager leaving every channel) is on purpose."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._watches.clear()
        for task in list(self._tasks):
            task.cancel()

    def watch(self, player: GuildPlayer) -> None:
        """Watch a player from its first connection on (a failed first join is /play's to say)."""
        guild_id = player.guild.id
        if guild_id not in self._watches and self.manager.players.get(guild_id) is player:
            self._watches[guild_id] = VoiceWatch(self.limits, time.monotonic())
        self.review(guild_id)

    def forget(self, player: GuildPlayer) -> None:
        guild_id = player.guild.id
        if self.manager.players.get(guild_id) is player:
            del self.manager.players[guild_id]
        self._watches.pop(guild_id, None)
        self.manager.listening.forget(guild_id)
        timer = self._timers.pop(guild_id, None)
        if timer is not None:
            timer.cancel()
        rejoin = self._rejoins.pop(guild_id, None)
        if rejoin is not None and rejoin is not asyncio.current_task():
            rejoin.cancel()  # it would join again a channel the session has left

    def on_link(self, client: WatchedVoiceClient, event: LinkEvent) -> None:
        """discord.py's voice client connected, dropped, or was torn down for good."""
        guild_id = client.guild.id
        player, watch = self.manager.players.get(guild_id), self._watches.get(guild_id)
        if player is None or watch is None:
            return
        current = player.voice
        if current is not None and current is not client:
            return  # the client a rejoin replaced
        now = time.monotonic()
        if event == "connected":
            watch.connected(now)
            self.spawn(player.resume_interrupted())
        elif event == "dropped":
            watch.dropped(now)
        elif (verdict := watch.torn_down(now)) is not None:
            self.spawn(self._end(player, verdict))
            return
        self.review(guild_id)

    def on_voice_state(self, member: discord.Member, before: discord.VoiceState) -> None:
        """Someone joined, left or moved: a listener who left keeps their exact place."""
        player = self.manager.players.get(member.guild.id)
        if player is None:
            return
        me = self.manager.bot.user
        if (
            me is not None
            and member.id != me.id
            and before.channel is not None
            and before.channel.id == player.channel_id
            and not (member.voice and member.voice.channel == before.channel)
        ):
            self.spawn(player.listener_left(member.id))
        self.review(member.guild.id)

    def review(self, guild_id: int) -> None:
        """Tell the watch what the player is doing, act on its verdict, and set the one timer."""
        player, watch = self.manager.players.get(guild_id), self._watches.get(guild_id)
        if player is None or watch is None:
            return
        now = time.monotonic()
        watch.listeners(now, len(player.listeners()))
        watch.audio(
            now, frames=player.frames_sent, wants_audio=player.wants_audio, idle=player.idle
        )
        verdict = watch.due(now)
        if verdict == "rejoin":
            watch.rejoin_started(now)
            self._rejoins[guild_id] = self.spawn(self._rejoin(player, watch))
        elif verdict is not None:
            self.spawn(self._end(player, verdict))
            return
        save = player.next_save()
        if save is not None and save <= now:
            self.spawn(player.tick())
            save = now + 1.0  # tick() moves it on; look again then, not in a tight loop
        card = self.manager.listening.review(player, now)  # the card's chapter, kept current
        timer = self._timers.pop(guild_id, None)
        if timer is not None:
            timer.cancel()
        deadline = min((t for t in (watch.deadline(), save, card) if t is not None), default=None)
        if deadline is not None:
            loop = asyncio.get_running_loop()
            self._timers[guild_id] = loop.call_later(
                max(0.0, deadline - now) + 0.01, self.review, guild_id
            )

    async def _rejoin(self, player: GuildPlayer, watch: VoiceWatch) -> None:
        """The watchdog: leave and join the channel again, with a fresh discord.py client."""
        guild = player.guild
        channel = guild.get_channel(player.channel_id or 0)
        log.warning(
            "Guild %s: no audio went out for %d s although an episode should be playing; "
            "rejoining the voice channel (attempt %d of %d)",
            guild.id,
            self.limits.silence_seconds,
            watch.rejoins,
            self.limits.max_rejoins,
        )
        try:
            voice = player.voice
            if voice is not None:
                await asyncio.wait_for(voice.disconnect(force=True), timeout=LEAVE_TIMEOUT)
            if isinstance(channel, discord.VoiceChannel | discord.StageChannel):
                await player.connect(channel)
        except (TimeoutError, discord.ClientException) as exc:
            log.warning("Guild %s: rejoining voice failed: %r", guild.id, exc)
        finally:
            watch.rejoin_ended(time.monotonic())
            if self._rejoins.get(guild.id) is asyncio.current_task():
                del self._rejoins[guild.id]
        await player.resume_interrupted()
        self.review(guild.id)

    async def _end(self, player: GuildPlayer, verdict: Verdict) -> None:
        guild_id = player.guild.id
        if verdict == "kicked":
            self.forget(player)
            was_playing = player.playing is not None
            await player.stop()
            log.warning(
                "Guild %s: disconnected from voice by Discord (kicked, channel gone, or the voice "
                "server refused us: close 4017 means it requires DAVE end-to-end encryption)",
                guild_id,
            )
            if was_playing:  # idle in the channel: nothing stopped, nothing to say
                await self.manager.say(player.text_channel_id, KICKED)
            return
        if verdict in ("alone", "idle"):
            reason = "everyone left" if verdict == "alone" else "nothing was playing"
            log.info("Guild %s: leaving voice (%s)", guild_id, reason)
            await self.manager.leave(player)
            return
        if verdict == "give_up":
            log.warning(
                "Guild %s: the voice connection was not restored within %.0f s (a 4017 close "
                "means Discord requires DAVE end-to-end encryption); ending the session",
                guild_id,
                self.limits.reconnect_grace,
            )
        else:
            log.warning(
                "Guild %s: still no audio after %d rejoins; ending the session",
                guild_id,
                self.limits.max_rejoins,
            )
        self.forget(player)
        await self.manager.say(player.text_channel_id, LOST if verdict == "give_up" else SILENT)
        try:  # discord.py may be mid-way through a reconnect attempt; don't wait on it forever
            await asyncio.wait_for(player.leave(), timeout=LEAVE_TIMEOUT)
        except TimeoutError:
            log.warning("Guild %s: leaving the broken voice connection timed out", guild_id)

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("Voice player work failed", exc_info=error)
