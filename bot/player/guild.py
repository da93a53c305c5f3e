"""One guild's player: the voice connection, the queue, and the ffmpeg source now playing.

discord.py's player thread calls `after` when a source ends; every source carries a generation
number, so the end of a source we replaced ourselves (seek, speed, skip) is ignored, and only a
real end moves on, retries a cut download from where it stopped, or gives up with a message.
Python only relays Opus packets; seeking, speed and transcoding happen in ffmpeg, which reads
remote audio only through the bot's loopback proxy (`audio_proxy.py`).
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot import metrics
from bot.backoff import Backoff
from bot.errors import UserFacingError
from bot.player.audio_proxy import AudioProxy, AudioRefused, AudioStream, AudioTarget
from bot.player.ffmpeg import OpusSourceSpec, check_source, opus_source_spec
from bot.player.ogg import OggPackets
from bot.player.position import (
    PlaybackClock,
    counts_as_played,
    decide_after_end,
)
from bot.player.positions_store import GuildSession, PlaybackStore
from bot.player.queue import Queue, QueueItem

if TYPE_CHECKING:
    from bot.announce.store import AnnounceStore, StoredEpisode

log = logging.getLogger(__name__)

SAVE_EVERY = 10.0  # seconds between position saves while playing
# discord.py waits forever for the UDP IP-discovery reply, so one lost datagram hangs a connection
# attempt until its timeout ([voice] connect_timeout): then one fresh attempt is made.
CONNECT_ATTEMPTS = 2
CONNECT_RETRY = Backoff(first=0.5, cap=5.0)  # the pause before that fresh attempt
# How long a player whose audio ended mid-reconnect waits for discord.py to finish reconnecting.
RECONNECT_WAIT = 20.0

Notify = Callable[[str], Awaitable[None]]


class OpusProcess(discord.FFmpegAudio):
    """Runs a spec's command line as is and yields the Opus packets of the Ogg stream it writes.

    discord.py's `FFmpegOpusAudio` assembles its own command line around option strings; this
    public `FFmpegAudio` subclass (the extension point discord.py documents for that) runs the one
    ffmpeg-python built, so nothing is split, re-joined or copied from discord.py's internals.
    """

    def __init__(self, spec: OpusSourceSpec) -> None:
        executable, *args = spec.argv
        super().__init__(spec.source, executable=executable, args=args, stdin=subprocess.DEVNULL)
        self._packets = OggPackets(self._stdout)  # audio only: no OpusHead/OpusTags

    def read(self) -> bytes:
        return self._packets.read()

    def is_opus(self) -> bool:
        return True


class CountingSource(discord.AudioSource):
    """Wraps an OpusProcess and counts the frames handed to Discord into the clock."""

    def __init__(
        self,
        inner: OpusProcess,
        clock: PlaybackClock,
        stream: AudioStream | None = None,
    ) -> None:
        self.inner = inner
        self.clock = clock
        self.stream = stream  # its proxy URL dies with this source

    def read(self) -> bytes:
        packet = self.inner.read()  # never OpusHead/OpusTags: OggPackets drops them
        if packet:
            self.clock.frames += 1
        return packet

    def is_opus(self) -> bool:
        return True

    def cleanup(self) -> None:
        self.inner.cleanup()
        if self.stream is not None:
            self.stream.close()


@dataclass
class Playing:
    item: QueueItem
    episode: StoredEpisode
    clock: PlaybackClock
    generation: int
    target: AudioTarget | None = None  # None for a local file (tests)
    retries: int = 0
    retry_started_at: float | None = None


@dataclass(frozen=True)
class PlayerOptions:
    ffmpeg: str
    bitrate: int
    idle_seconds: float
    connect_timeout: float = 15.0
    allow_files: bool = False  # tests play local files; members' episodes are always http(s)
    audio: AudioProxy | None = None  # every remote episode is fetched through it


async def prepare_audio(
    options: PlayerOptions, url: str | None, title: str | None = None
) -> AudioTarget | None:
    """Check an episode's audio link and make its first request, so a refusal is one sentence.

    Raises `UserFacingError` (no audio, malformed, refused by the address policy, a playlist);
    returns None for a local file (tests).
    """
    if not url:
        raise UserFacingError(f"“{title}” has no audio to play." if title else "No audio to play.")
    if not check_source(url, allow_files=options.allow_files):
        return None
    if options.audio is None:
        raise RuntimeError("remote audio needs PlayerOptions.audio")
    try:
        return await options.audio.prepare(url)
    except AudioRefused as exc:
        raise AudioRefused(exc.reason, title) from None


class GuildPlayer:
    def __init__(
        self,
        guild: discord.Guild,
        *,
        text_channel_id: int,
        store: PlaybackStore,
        episodes: AnnounceStore,
        options: PlayerOptions,
        notify: Notify,
    ) -> None:
        self.guild = guild
        self.text_channel_id = text_channel_id
        self.store = store
        self.episodes = episodes
        self.options = options
        self.notify = notify
        self.queue = Queue()
        self.playing: Playing | None = None
        self.speed = 1.0
        self._generation = 0
        self._idle_since: float | None = None
        self._last_save = 0.0
        self._lock = asyncio.Lock()
        self.leaving = False  # set when we leave on purpose, so that is not taken for a kick

    # -- state -------------------------------------------------------------------------------

    @property
    def voice(self) -> discord.VoiceClient | None:
        client = self.guild.voice_client
        return client if isinstance(client, discord.VoiceClient) else None

    @property
    def channel(self) -> discord.VoiceChannel | discord.StageChannel | None:
        voice = self.voice
        return voice.channel if voice is not None else None  # type: ignore[return-value]

    @property
    def position(self) -> float:
        return self.playing.clock.position if self.playing else 0.0

    @property
    def paused(self) -> bool:
        return self.playing is not None and self.playing.clock.paused

    def listeners(self) -> list[int]:
        channel = self.channel
        if channel is None:
            return []
        return [m.id for m in channel.members if not m.bot]

    # -- connecting ------------------------------------------------------------------------------

    async def connect(self, channel: discord.VoiceChannel | discord.StageChannel) -> None:
        voice = self.voice
        if voice is not None and voice.is_connected():
            if voice.channel.id != channel.id:
                await voice.move_to(channel)
            return
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            try:
                await channel.connect(
                    timeout=self.options.connect_timeout, reconnect=True, self_deaf=True
                )
                return
            except TimeoutError:
                if attempt == CONNECT_ATTEMPTS:
                    raise
                log.warning(
                    "Connecting to voice channel %s timed out (attempt %d); trying again",
                    channel.id,
                    attempt,
                )
                await asyncio.sleep(CONNECT_RETRY.delay(attempt))

    # -- playing ---------------------------------------------------------------------------------

    async def play(self, item: QueueItem, episode: StoredEpisode, *, start: float = 0.0) -> None:
        """Start `item` now (replacing what plays), from `start` seconds."""
        target = await prepare_audio(self.options, episode.episode.audio_url, item.title)
        async with self._lock:
            await self._save_positions()
            self.queue.now_playing = item
            self._start(item, episode, start, target)
        await self.save_session()

    def _start(
        self,
        item: QueueItem,
        episode: StoredEpisode,
        start: float,
        target: AudioTarget | None,
        *,
        retries: int = 0,
    ) -> None:
        voice = self.voice
        if voice is None or not voice.is_connected():
            raise UserFacingError("I'm not connected to a voice channel any more; use /play again.")
        audio_url = episode.episode.audio_url
        if not audio_url:
            raise UserFacingError(f"“{item.title}” has no audio to play.")
        stream: AudioStream | None = None
        if target is not None:
            assert self.options.audio is not None
            stream = self.options.audio.open(target)
        spec = opus_source_spec(
            stream.url if stream is not None else audio_url,
            executable=self.options.ffmpeg,
            start=start,
            speed=self.speed,
            bitrate=self.options.bitrate,
            allow_files=self.options.allow_files,
        )
        self._generation += 1
        generation = self._generation
        clock = PlaybackClock(start, self.speed)
        previous = self.playing
        self.playing = Playing(item, episode, clock, generation, target, retries)
        if previous is not None and previous.item.episode_id == item.episode_id and retries:
            self.playing.retry_started_at = start
        try:
            opus = OpusProcess(spec)
        except BaseException:
            if stream is not None:
                stream.close()
            raise
        source = CountingSource(opus, clock, stream)
        if voice.is_playing() or voice.is_paused():
            voice.stop()  # its after() comes with an old generation and is ignored
        loop = asyncio.get_running_loop()

        def after(error: Exception | None) -> None:
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._ended(generation, error)))

        voice.play(source, after=after)
        metrics.STREAM_STARTS.inc()
        self._idle_since = None
        log.info(
            "Guild %s: playing episode %s from %.1f s at %.2fx",
            self.guild.id,
            item.episode_id,
            start,
            self.speed,
        )

    async def _ended(self, generation: int, error: Exception | None) -> None:
        await self._reconnected(generation)
        async with self._lock:
            playing = self.playing
            if playing is None or playing.generation != generation:
                return
            if error is not None:
                log.warning("Guild %s: playback error: %s", self.guild.id, error)
            if self.voice is None or not self.voice.is_connected():
                # Disconnected for good (kicked, channel gone): keep the place, stop here.
                await self._save_positions()
                self.playing = None
                return
            decision = decide_after_end(
                position=playing.clock.position,
                duration=playing.item.duration,
                failed=error is not None,
                retries=playing.retries,
                retry_started_at=playing.retry_started_at,
            )
            if decision.action == "retry" and self.voice is not None and self.voice.is_connected():
                log.info(
                    "Guild %s: the audio stopped early at %.1f s; resuming there",
                    self.guild.id,
                    decision.position,
                )
                self._start(
                    playing.item,
                    playing.episode,
                    decision.position,
                    playing.target,
                    retries=decision.retries,
                )
                return
            finished = decision.action == "finished"
            await self._save_positions(finished=finished)
            if not finished:
                metrics.STREAM_FAILURES.inc()
            refused = playing.target.refused if playing.target is not None else None
            if not finished and refused is not None:
                await self.notify(f"I couldn't play “{playing.item.title}”: {refused}. Moving on.")
            elif (
                not finished
                and decision.position - playing.clock.start < 1.0
                and playing.clock.frames == 0
            ):
                await self.notify(
                    f"I couldn't play “{playing.item.title}”: its audio could not be loaded "
                    "(the link failed or is not audio). Moving on."
                )
            elif not finished:
                await self.notify(
                    f"I couldn't play the rest of “{playing.item.title}”: its audio stopped loading "
                    f"at {decision.position:.0f} s. Moving on."
                )
            self.playing = None
            await self._advance()
        await self.save_session()

    async def _reconnected(self, generation: int) -> None:
        """Wait while discord.py is still reconnecting the voice client.

        Its player stops waiting for the connection after the connect timeout, or as soon as a
        failed reconnect attempt wakes it, and ends the source, although the client goes on to
        reconnect. Ending there would leave the channel silent: once the client is back, the
        audio "stopped early" and is resumed where it stopped. A client that is gone (kicked,
        left) or does not come back within `RECONNECT_WAIT` ends the episode as before.
        """
        deadline = time.monotonic() + RECONNECT_WAIT
        while time.monotonic() < deadline and not self.leaving:
            voice, playing = self.voice, self.playing
            if voice is None or voice.is_connected():
                return
            if playing is None or playing.generation != generation:
                return
            await asyncio.sleep(0.25)

    async def _advance(self) -> None:
        """Start the next queued episode, or go idle."""
        while (item := self.queue.next()) is not None:
            stored = await self.episodes.episode(item.episode_id)
            if stored is None or not stored.episode.audio_url:
                await self.notify(f"Skipping “{item.title}”: it has no audio any more.")
                continue
            try:
                target = await prepare_audio(self.options, stored.episode.audio_url)
            except AudioRefused as exc:
                await self.notify(f"Skipping “{item.title}”: {exc.reason}.")
                continue
            except UserFacingError as exc:
                await self.notify(f"Skipping “{item.title}”: {exc.message}")
                continue
            self._start(item, stored, 0.0, target)
            return
        self._idle_since = time.monotonic()

    # -- controls --------------------------------------------------------------------------------

    def _require_playing(self) -> Playing:
        if self.playing is None:
            raise UserFacingError("Nothing is playing.")
        return self.playing

    async def pause(self) -> None:
        playing = self._require_playing()
        voice = self.voice
        if voice is None or playing.clock.paused:
            raise UserFacingError("Already paused.")
        voice.pause()
        playing.clock.pause()
        await self._save_positions()
        await self.save_session()

    async def resume(self) -> None:
        playing = self._require_playing()
        voice = self.voice
        if voice is None or not playing.clock.paused:
            raise UserFacingError("It isn't paused.")
        voice.resume()
        playing.clock.resume()
        await self.save_session()

    async def seek(self, target: float) -> float:
        async with self._lock:
            playing = self._require_playing()
            duration = playing.item.duration
            if duration:
                target = min(target, max(0.0, duration - 1))
            target = max(0.0, target)
            paused = playing.clock.paused
            self._start(playing.item, playing.episode, target, playing.target)
            if paused and self.voice is not None:
                self.voice.pause()
                assert self.playing is not None
                self.playing.clock.pause()
        await self.save_session()
        return target

    async def set_speed(self, speed: float) -> None:
        async with self._lock:
            self.speed = speed
            if self.playing is not None:
                self._start(
                    self.playing.item,
                    self.playing.episode,
                    self.playing.clock.position,
                    self.playing.target,
                )
        await self.save_session()

    async def skip(self) -> QueueItem | None:
        async with self._lock:
            playing = self._require_playing()
            await self._save_positions()
            skipped = playing.item
            self.playing = None
            self._generation += 1  # the stopped source's after() is now stale
            if self.voice is not None:
                self.voice.stop()
            await self._advance()
        await self.save_session()
        return skipped

    async def stop(self) -> None:
        """Stop playing and clear the queue, staying in the channel."""
        async with self._lock:
            await self._save_positions()
            self.queue.stop()
            self.playing = None
            self._generation += 1
            if self.voice is not None:
                self.voice.stop()
            self._idle_since = time.monotonic()
        await self.store.delete_session(self.guild.id)

    async def leave(self) -> None:
        self.leaving = True
        await self.stop()
        voice = self.voice
        if voice is not None:
            await voice.disconnect(force=True)

    # -- bookkeeping ------------------------------------------------------------------------------

    def idle_for(self) -> float:
        return 0.0 if self._idle_since is None else time.monotonic() - self._idle_since

    async def tick(self) -> None:
        """Called every few seconds: save positions while playing."""
        if (
            self.playing is not None
            and not self.playing.clock.paused
            and time.monotonic() - self._last_save >= SAVE_EVERY
        ):
            await self._save_positions()
            await self.store.update_session_position(
                self.guild.id, self.position, paused=self.paused
            )

    async def _save_positions(
        self, *, finished: bool = False, user_ids: list[int] | None = None
    ) -> None:
        playing = self.playing
        if playing is None:
            return
        if user_ids is None:
            self._last_save = time.monotonic()
        position = playing.clock.position
        done = finished or counts_as_played(position, playing.item.duration)
        await self.store.save_position(
            self.listeners() if user_ids is None else user_ids,
            playing.item.episode_id,
            position,
            finished=done,
        )

    async def listener_left(self, user_id: int) -> None:
        """Keep the exact place of a member who leaves the channel mid-episode."""
        await self._save_positions(user_ids=[user_id])

    async def save_session(self) -> None:
        channel = self.channel
        if channel is None:
            return
        await self.store.save_session(
            GuildSession(
                guild_id=self.guild.id,
                voice_channel_id=channel.id,
                text_channel_id=self.text_channel_id,
                now_playing=self.playing.item if self.playing else None,
                position=self.position,
                speed=self.speed,
                paused=self.paused,
                queue=self.queue.upcoming,
            )
        )
