"""One guild's player: the voice connection, the queue, and the ffmpeg source now playing.

discord.py's player thread calls `after` when a source ends; every source carries a generation
number, so the end of a source we replaced ourselves (seek, speed, skip) is ignored, and only a
real end moves on, retries a cut download from where it stopped, or gives up with a message.
A source that ends while the voice connection is down is kept as *interrupted* and started again
where it stopped once the connection is back (`resume_interrupted`, called by the manager).
Python only relays Opus packets; seeking, speed and transcoding happen in ffmpeg, which reads
remote audio only through the bot's loopback proxy (`audio_proxy.py`). A machine reading
(`reading.py`) is the exception by construction: the bot serves it on 127.0.0.1 itself, so
ffmpeg reads the URL the reading opens, never a member's link; its seeks stay within what has
been synthesised, and no member's position is saved for it (the session keeps only episodes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord

from bot import metrics
from bot.backoff import Backoff
from bot.errors import UserFacingError
from bot.outgoing import clip, escape, format_time
from bot.player import ffmpeg
from bot.player.audio_proxy import AudioProxy, AudioRefused, AudioStream, AudioTarget
from bot.player.ffmpeg import OpusSourceSpec, check_source, opus_source_spec
from bot.player.ffmpeg_log import stderr_to_log
from bot.player.ogg import OggPackets
from bot.player.position import (
    PlaybackClock,
    counts_as_played,
    decide_after_end,
)
from bot.player.positions_store import GuildSession, PlaybackStore
from bot.player.queue import Queue, QueueItem, for_restart
from bot.player.reading import ReadingAudio, Readings, seek_limit
from bot.player.timecodes import MAX_SECONDS

if TYPE_CHECKING:
    from bot.announce.store import AnnounceStore, StoredEpisode

log = logging.getLogger(__name__)


def quoted(title: str) -> str:
    """A feed's or page's title inside a player message: clipped, and its Markdown shown as
    written (a hostile title must not become a masked link in the bot's own words)."""
    return f"“{escape(clip(title, 200))}”"


SAVE_EVERY = 10.0  # seconds between position saves while playing
RESTART_GAP = 0.25
"""Seconds at least between a member's restarts of ffmpeg (play, seek, ±, speed, skip): each
costs about 30 ms of CPU and a request to the host, so a flood of seeks is paced, not obeyed
at once (four a second in one guild is a tenth of a core)."""
# discord.py waits forever for the UDP IP-discovery reply, so one lost datagram hangs a connection
# attempt until its timeout ([voice] connect_timeout): then one fresh attempt is made.
CONNECT_ATTEMPTS = 2
CONNECT_RETRY = Backoff(first=0.5, cap=5.0)  # the pause before that fresh attempt
EXIT_WAIT = 2.0  # seconds ffmpeg gets to exit once its output ended, so its exit code is known

Notify = Callable[[str], Awaitable[None]]


class OpusProcess(discord.FFmpegAudio):
    """Runs a spec's command line as is and yields the Opus packets of the Ogg stream it writes.

    discord.py's `FFmpegOpusAudio` assembles its own command line around option strings; this
    public `FFmpegAudio` subclass (the extension point discord.py documents for that) runs the one
    ffmpeg-python built, so nothing is split, re-joined or copied from discord.py's internals.
    """

    def __init__(self, spec: OpusSourceSpec, *, log_as: str = "no guild") -> None:
        executable, *args = spec.argv
        stderr = stderr_to_log(log_as)  # its lines in the bot's log, tagged `log_as`
        try:
            super().__init__(
                spec.source,
                executable=executable,
                args=args,
                stdin=subprocess.DEVNULL,
                stderr=stderr,
            )
        finally:
            if stderr is not None:  # ffmpeg holds the write end now; EOF comes with its exit
                stderr.close()
        ffmpeg.limit_memory(self._process.pid)  # a hostile file must not take the host's memory
        self._packets = OggPackets(self._stdout)  # audio only: no OpusHead/OpusTags
        self.exit_code: int | None = None

    def interrupt(self) -> None:
        """Kill ffmpeg now, from any thread, so a read waiting on it returns; `cleanup` reaps it."""
        with contextlib.suppress(OSError):
            self._process.kill()

    def read(self) -> bytes:
        packet = self._packets.read()
        if not packet and self.exit_code is None:  # on the player thread: waiting is fine here
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.exit_code = self._process.wait(timeout=EXIT_WAIT)
        return packet


class CountingSource(discord.AudioSource):
    """Wraps an OpusProcess and counts the frames handed to Discord into the clock."""

    def __init__(
        self,
        inner: OpusProcess,
        clock: PlaybackClock,
        stream: AudioStream | None = None,
        reading: tuple[ReadingAudio, str] | None = None,
    ) -> None:
        self.inner = inner
        self.clock = clock
        self.stream = stream  # its proxy URL dies with this source
        self.reading = reading  # a machine reading and its loopback URL, which dies with it too
        self.reads = 0  # one more than `clock.frames` while a read waits on ffmpeg (the host)
        self.exhausted = False  # ffmpeg's output ended (rather than the source being stopped)

    def read(self) -> bytes:
        if self.clock.position >= MAX_SECONDS:
            # longer than any episode: audio that never ends (a live stream behind an
            # enclosure) must not hold its ffmpeg for as long as one member stays in the channel
            self.exhausted = True
            return b""
        self.reads += 1
        packet = self.inner.read()  # never OpusHead/OpusTags: OggPackets drops them
        if packet:
            self.clock.frames += 1
        else:
            self.exhausted = True
        return packet

    def interrupt(self) -> None:
        """Stopped (seek, skip, stop): ffmpeg goes at once, not once the host answers."""
        self.inner.interrupt()

    @property
    def waiting_for_audio(self) -> bool:
        """Inside a read that waits on ffmpeg, i.e. on the audio host, not on the voice link."""
        return not self.exhausted and self.reads > self.clock.frames

    def failed_before_audio(self) -> bool:
        """ffmpeg ended with an error before a single frame: the link failed or is not audio.
        Without a duration from the feed, nothing else tells this from an episode's end."""
        return self.exhausted and self.clock.frames == 0 and self.inner.exit_code not in (None, 0)

    def downloaded_whole(self) -> bool:
        """ffmpeg's output ended, ffmpeg exited 0 and the proxy received the file to its end: the
        episode is over whatever its feed claims its duration is (feeds over-state it). A machine
        reading is whole once it was finished and ffmpeg read it to its end."""
        if not self.exhausted or self.inner.exit_code != 0:
            return False
        if self.reading is not None:
            return self.reading[0].finished
        return self.stream is not None and self.stream.body == "complete"

    def is_opus(self) -> bool:
        return True

    def cleanup(self) -> None:
        self.inner.cleanup()
        if self.stream is not None:
            self.stream.close()
        if self.reading is not None:
            reading, url = self.reading
            reading.close(url)


@dataclass
class Playing:
    item: QueueItem
    episode: StoredEpisode | None  # None for a machine reading
    clock: PlaybackClock
    generation: int
    target: AudioTarget | None = None  # None for a local file (tests) or a machine reading
    retries: int = 0
    retry_started_at: float | None = None
    source: CountingSource | None = field(default=None, repr=False)
    interrupted: bool = False  # ended while the voice connection was down; resumed once back
    reading: ReadingAudio | None = None


@dataclass(frozen=True)
class PlayerOptions:
    ffmpeg: str
    bitrate: int
    connect_timeout: float = 15.0
    allow_files: bool = False  # tests play local files; members' episodes are always http(s)
    audio: AudioProxy | None = None  # every remote episode is fetched through it
    # what `channel.connect(cls=...)` makes: the manager's reports link events (voice_client.py)
    voice_client: Callable[[discord.Client, Any], discord.VoiceProtocol] = discord.VoiceClient


async def prepare_audio(
    options: PlayerOptions, url: str | None, title: str | None = None
) -> AudioTarget | None:
    """Check an episode's audio link and make its first request, so a refusal is one sentence.

    Raises `UserFacingError` (no audio, malformed, refused by the address policy, a playlist);
    returns None for a local file (tests).
    """
    if not url:
        raise UserFacingError(
            f"{quoted(title)} has no audio to play." if title else "No audio to play."
        )
    if not check_source(url, allow_files=options.allow_files):
        return None
    if options.audio is None:
        raise RuntimeError("remote audio needs PlayerOptions.audio")
    try:
        return await options.audio.prepare(url)
    except AudioRefused as exc:
        shown = escape(clip(title, 200)) if title else None
        raise AudioRefused(exc.reason, shown) from None


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
        changed: Callable[[], None] = lambda: None,
        readings: Readings | None = None,
    ) -> None:
        self.guild = guild
        self.text_channel_id = text_channel_id
        self.store = store
        self.episodes = episodes
        self.options = options
        self.notify = notify
        self.changed = changed  # what it is doing changed: the manager looks at it again
        self.readings = readings  # where a queued machine reading is found when its turn comes
        self.queue = Queue()
        self.playing: Playing | None = None
        self.speed = 1.0
        self.channel_id: int | None = None  # the channel it joined, kept while it reconnects
        self._generation = 0
        self._frames_before = 0  # frames sent by the sources before the current one
        self._idle = False
        self._last_save = 0.0
        self._lock = asyncio.Lock()
        self._last_start = 0.0  # monotonic time of the last ffmpeg start

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

    @property
    def idle(self) -> bool:
        """Nothing to play since the last episode ended or /stop."""
        return self._idle and self.playing is None

    @property
    def frames_sent(self) -> int:
        """Every frame this player handed to Discord: the watchdog's sign that audio goes out."""
        playing = self.playing
        return self._frames_before + (playing.clock.frames if playing is not None else 0)

    @property
    def wants_audio(self) -> bool:
        """It should be sending audio now: playing, not paused, and not waiting on the host."""
        playing = self.playing
        if playing is None or playing.clock.paused:
            return False
        source = playing.source
        return playing.interrupted or source is None or not source.waiting_for_audio

    def listeners(self) -> list[int]:
        channel = self.channel
        if channel is None:
            return []
        return [m.id for m in channel.members if not m.bot]

    # -- connecting ------------------------------------------------------------------------------

    async def connect(self, channel: discord.VoiceChannel | discord.StageChannel) -> None:
        self.channel_id = channel.id
        voice = self.voice
        if voice is not None and voice.is_connected():
            if voice.channel.id != channel.id:
                await voice.move_to(channel)
            return
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            try:
                await channel.connect(
                    timeout=self.options.connect_timeout,
                    reconnect=True,
                    self_deaf=True,
                    cls=self.options.voice_client,
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

    async def play(
        self,
        item: QueueItem,
        episode: StoredEpisode,
        *,
        start: float = 0.0,
        queue_if_busy: bool = False,
        speed: float | None = None,
    ) -> int | None:
        """Start `item` now from `start` seconds, replacing what plays; with `queue_if_busy`,
        queue it instead when something plays. None when it plays, else its place in the queue."""
        target = await prepare_audio(self.options, episode.episode.audio_url, item.title)
        return await self._admit(
            item,
            lambda: self._start(item, episode, start, target),
            queue_if_busy=queue_if_busy,
            speed=speed,
        )

    async def play_reading(
        self,
        item: QueueItem,
        reading: ReadingAudio,
        *,
        queue_if_busy: bool = False,
        speed: float | None = None,
    ) -> int | None:
        """Like `play`, for the machine reading `item`, from its beginning."""
        return await self._admit(
            item,
            lambda: self._start(item, None, 0.0, None, reading=reading),
            queue_if_busy=queue_if_busy,
            speed=speed,
        )

    async def _admit(
        self,
        item: QueueItem,
        begin: Callable[[], None],
        *,
        queue_if_busy: bool,
        speed: float | None,
    ) -> int | None:
        # Whether something plays is read under the lock that starts it: two plays arriving
        # together would otherwise both find the player idle, and the second replace the first.
        async with self._lock:
            if queue_if_busy and self.playing is not None:
                place: int | None = self.queue.add(item)
            else:
                if speed is not None:
                    self.speed = speed
                await self._pace()
                await self._save_positions()
                self.queue.now_playing = item
                begin()
                place = None
        await self.save_session()
        return place

    def _start(
        self,
        item: QueueItem,
        episode: StoredEpisode | None,
        start: float,
        target: AudioTarget | None,
        *,
        retries: int = 0,
        reading: ReadingAudio | None = None,
    ) -> None:
        voice = self.voice
        if voice is None or not voice.is_connected():
            raise UserFacingError("I'm not connected to a voice channel any more; use /play again.")
        stream: AudioStream | None = None
        opened: tuple[ReadingAudio, str] | None = None
        if reading is not None:  # served by the bot itself on 127.0.0.1: no proxy, no policy
            opened = (reading, reading.open())
            source_url = opened[1]
        else:
            assert episode is not None
            audio_url = episode.episode.audio_url
            if not audio_url:
                raise UserFacingError(f"{quoted(item.title)} has no audio to play.")
            if target is not None:
                assert self.options.audio is not None
                stream = self.options.audio.open(target)
            source_url = stream.url if stream is not None else audio_url
        try:
            spec = opus_source_spec(
                source_url,
                executable=self.options.ffmpeg,
                start=start,
                speed=self.speed,
                bitrate=self.options.bitrate,
                allow_files=self.options.allow_files,
                seekable=reading is None or reading.finished,
            )
        except BaseException:
            if opened is not None:
                reading_audio, url = opened
                reading_audio.close(url)
            raise
        self._generation += 1
        generation = self._generation
        self._last_start = time.monotonic()
        clock = PlaybackClock(start, self.speed)
        previous = self.playing
        self._forget(previous)
        self.playing = Playing(item, episode, clock, generation, target, retries, reading=reading)
        if previous is not None and previous.item.key == item.key and retries:
            self.playing.retry_started_at = start
        try:
            opus = OpusProcess(spec, log_as=f"guild {self.guild.id}")
        except BaseException:
            if stream is not None:
                stream.close()
            if opened is not None:
                opened[0].close(opened[1])
            raise
        source = CountingSource(opus, clock, stream, opened)
        self.playing.source = source
        if voice.is_playing() or voice.is_paused():
            voice.stop()  # its after() comes with an old generation and is ignored
        loop = asyncio.get_running_loop()

        def after(error: Exception | None) -> None:
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._ended(generation, error)))

        voice.play(source, after=after)
        metrics.STREAM_STARTS.inc()
        self._idle = False
        self.changed()
        log.info(
            "Guild %s: playing %s from %.1f s at %.2fx",
            self.guild.id,
            item.key,
            start,
            self.speed,
        )

    def _forget(self, playing: Playing | None) -> None:
        """`playing` is replaced or over: its frames stay counted in `frames_sent`."""
        if playing is not None:
            self._frames_before += playing.clock.frames

    def _set_playing_none(self) -> None:
        self._forget(self.playing)
        self.playing = None

    async def _ended(self, generation: int, error: Exception | None) -> None:
        async with self._lock:
            playing = self.playing
            if playing is None or playing.generation != generation:
                return
            if error is not None:
                log.warning("Guild %s: playback error: %s", self.guild.id, error)
            if self.voice is None or not self.voice.is_connected():
                # discord.py's player stops waiting for a reconnecting client after its timeout
                # and ends the source; keep the place and go on once the connection is back
                # (the manager's watch decides how long to wait, and what to say if it is not).
                await self._save_positions()
                playing.interrupted = True
                self.changed()
                return
            if playing.reading is not None and playing.reading.failed:
                # what was made has been played; the rest never will be: say so, go on
                await self._save_positions()
                await self.notify(
                    f"The machine reading {quoted(playing.item.title)} "
                    f"stopped at {format_time(playing.clock.position)} because its synthesis "
                    "failed; moving on."
                )
                self._set_playing_none()
                await self._advance()
                await self.save_session()
                return
            source = playing.source
            whole = source is not None and source.downloaded_whole()
            decision = decide_after_end(
                position=playing.clock.position,
                duration=None if whole else playing.item.duration,
                failed=error is not None or (source is not None and source.failed_before_audio()),
                retries=playing.retries,
                retry_started_at=playing.retry_started_at,
            )
            if decision.action == "retry":
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
                    reading=playing.reading,
                )
                return
            finished = decision.action == "finished"
            await self._save_positions(finished=finished)
            if not finished:
                metrics.STREAM_FAILURES.inc()
            refused = playing.target.refused if playing.target is not None else None
            if not finished and refused is not None:
                await self.notify(
                    f"I couldn't play {quoted(playing.item.title)}: {refused}. Moving on."
                )
            elif (
                not finished
                and decision.position - playing.clock.start < 1.0
                and playing.clock.frames == 0
            ):
                await self.notify(
                    f"I couldn't play {quoted(playing.item.title)}: its audio could not be loaded "
                    "(the link failed or is not audio). Moving on."
                )
            elif not finished:
                await self.notify(
                    f"I couldn't play the rest of {quoted(playing.item.title)}: its audio stopped loading "
                    f"at {decision.position:.0f} s. Moving on."
                )
            self._set_playing_none()
            await self._advance()
        await self.save_session()

    async def resume_interrupted(self) -> None:
        """The connection is back: start the interrupted episode again where it stopped."""
        async with self._lock:
            playing = self.playing
            voice = self.voice
            if playing is None or not playing.interrupted or voice is None:
                return
            if not voice.is_connected():
                return
            log.info(
                "Guild %s: the voice connection is back; resuming at %.1f s",
                self.guild.id,
                playing.clock.position,
            )
            self._start(
                playing.item,
                playing.episode,
                playing.clock.position,
                playing.target,
                retries=playing.retries,
                reading=playing.reading,
            )
            if playing.clock.paused:  # paused while it was down: stays paused
                voice.pause()
                assert self.playing is not None
                self.playing.clock.pause()

    async def _advance(self) -> None:
        """Start the next queued episode, or go idle."""
        while (item := self.queue.next()) is not None:
            if item.reading is not None:
                reading = self.readings.playable(item.reading) if self.readings else None
                if reading is None:
                    await self.notify(
                        f"Skipping the machine reading {quoted(item.title)}: it is not available any "
                        "more (use /narrate again)."
                    )
                    continue
                self._start_or_hold(item, None, None, reading=reading)
                return
            assert item.episode_id is not None
            stored = await self.episodes.episode(item.episode_id)
            if stored is None or not stored.episode.audio_url:
                await self.notify(f"Skipping {quoted(item.title)}: it has no audio any more.")
                continue
            try:
                target = await prepare_audio(self.options, stored.episode.audio_url)
            except AudioRefused as exc:
                await self.notify(f"Skipping {quoted(item.title)}: {exc.reason}.")
                continue
            except UserFacingError as exc:
                await self.notify(f"Skipping {quoted(item.title)}: {exc.message}")
                continue
            self._start_or_hold(item, stored, target)
            return
        self._idle = True
        self.changed()

    def _start_or_hold(
        self,
        item: QueueItem,
        episode: StoredEpisode | None,
        target: AudioTarget | None,
        *,
        reading: ReadingAudio | None = None,
    ) -> None:
        """Start the next item from 0:00; if the voice connection dropped while it was looked up
        (its host may take seconds), hold it as interrupted playback, which starts once the
        connection is back (`resume_interrupted`) or ends with the session's message."""
        voice = self.voice
        if voice is not None and voice.is_connected():
            self._start(item, episode, 0.0, target, reading=reading)
            return
        self._forget(self.playing)
        self.playing = Playing(
            item,
            episode,
            PlaybackClock(0.0, self.speed),
            self._generation,
            target,
            interrupted=True,
            reading=reading,
        )
        self._idle = False
        self.changed()

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
        self.changed()
        await self._save_positions()
        await self.save_session()

    async def resume(self) -> None:
        playing = self._require_playing()
        voice = self.voice
        if voice is None or not playing.clock.paused:
            raise UserFacingError("It isn't paused.")
        voice.resume()
        playing.clock.resume()
        self.changed()
        await self.save_session()

    async def _pace(self) -> None:
        """Under the lock, before a member's restart: wait out `RESTART_GAP` since the last."""
        wait = self._last_start + RESTART_GAP - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def seek(self, target: float) -> float:
        async with self._lock:
            await self._pace()
            playing = self._require_playing()
            duration = playing.item.duration
            if playing.reading is not None:  # not past what has been synthesised so far
                target = seek_limit(playing.reading, target)
            elif duration:
                target = min(target, max(0.0, duration - 1))
            target = max(0.0, target)
            paused = playing.clock.paused
            self._start(
                playing.item, playing.episode, target, playing.target, reading=playing.reading
            )
            if paused and self.voice is not None:
                self.voice.pause()
                assert self.playing is not None
                self.playing.clock.pause()
        await self.save_session()
        return target

    async def set_speed(self, speed: float) -> None:
        async with self._lock:
            await self._pace()
            self.speed = speed
            if self.playing is not None:
                self._start(
                    self.playing.item,
                    self.playing.episode,
                    self.playing.clock.position,
                    self.playing.target,
                    reading=self.playing.reading,
                )
        await self.save_session()

    async def skip(self, meant: str | None = None) -> QueueItem | None:
        """Skip what plays; with `meant` (an item's key), only if that is still what plays, so
        two members skipping at once skip one episode, not the one the first skip started.
        None when `meant` is no longer playing: nothing was skipped."""
        async with self._lock:
            if meant is not None and (self.playing is None or self.playing.item.key != meant):
                return None
            await self._pace()
            playing = self._require_playing()
            await self._save_positions()
            skipped = playing.item
            self._set_playing_none()
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
            self._set_playing_none()
            self._generation += 1
            if self.voice is not None:
                self.voice.stop()
            self._idle = True
        self.changed()
        await self.store.delete_session(self.guild.id)

    async def leave(self) -> None:
        """Stop and disconnect (the manager has told its watch that this is on purpose)."""
        await self.stop()
        voice = self.voice
        if voice is not None:
            await voice.disconnect(force=True)

    # -- bookkeeping ------------------------------------------------------------------------------

    def next_save(self) -> float | None:
        """When `tick` next has a position to save (monotonic), or None while nothing plays."""
        if self.playing is None or self.playing.clock.paused or self.playing.interrupted:
            return None
        return self._last_save + SAVE_EVERY

    async def tick(self) -> None:
        """Save positions while playing, every `SAVE_EVERY` seconds."""
        due = self.next_save()
        if due is not None and time.monotonic() >= due:
            await self._save_positions()
            if self.playing is not None and self.playing.item.reading is None:
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
        if playing.item.episode_id is None:  # a machine reading: no saved places
            return
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
        playing = self.playing.item if self.playing else None
        now_playing, position, queue = for_restart(playing, self.position, self.queue.upcoming)
        await self.store.save_session(
            GuildSession(
                guild_id=self.guild.id,
                voice_channel_id=channel.id,
                text_channel_id=self.text_channel_id,
                now_playing=now_playing,
                position=position,
                speed=self.speed,
                paused=self.paused and now_playing is playing,
                queue=queue,
            )
        )
