"""One audio sender thread for every guild, instead of discord.py's one `AudioPlayer` thread each.

Each tick (20 ms, paced against `time.perf_counter` like discord.py's `AudioPlayer`) the sender
hands one Opus packet per playing guild to `send_audio_packet(packet, encode=False)`, the public
call that keeps DAVE encryption, then sleeps once. Fifty guilds cost 50 sleeps a second, not 2,500:
on this VM the wake-up of a paced thread was most of the player's CPU per packet.

It keeps what `AudioPlayer` does (discord.py `player.py`): five `OPUS_SILENCE` frames when paused,
stopped or ended; the speaking flag (set through the link, which must not block); waiting out a
reconnect for up to `link.timeout` seconds, per stream, so the others keep playing; `after(error)`
called once, from a thread, when the source ends, fails (an exception from `read()` or the source's
`_current_error`), is stopped or gave up waiting; then the source's `cleanup()`.

Reads never run on the sender thread, because a read can block (ffmpeg opening a slow host, a
stalled download, the wait for ffmpeg to exit at the end): each stream has a reader thread that
keeps `AHEAD_HIGH` packets queued, and sleeps until the sender has used the queue down to
`AHEAD_LOW`, so it wakes once per few packets rather than once per packet. A stalled source
starves only its own stream. The price: a source that counts frames as they are read (the
player's `CountingSource`) runs up to `AHEAD_HIGH` frames (160 ms) ahead of what was sent.

Nothing here imports Discord: a `Link` is what a `discord.VoiceClient` offers, plus `set_speaking`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

FRAME = 0.02  # seconds per Opus packet, as discord.py's player sends them
SILENCE = b"\xf8\xff\xfe"  # discord.py's OPUS_SILENCE
SILENCE_FRAMES = 5  # sent on pause, stop and end, as discord.py does
AHEAD_HIGH = 8  # packets a reader keeps queued...
AHEAD_LOW = 3  # ...refilling once the queue is down to this many (60 ms left)
MAX_LAG = 10  # ticks the sender may fall behind and catch up; further behind, its clock restarts

After = Callable[[Exception | None], object]


class Source(Protocol):
    def read(self) -> bytes: ...
    def cleanup(self) -> None: ...


class Link(Protocol):
    """The voice connection one stream is sent on (a `discord.VoiceClient` and `set_speaking`)."""

    @property
    def timeout(self) -> float: ...
    def is_connected(self) -> bool: ...
    def send_audio_packet(self, data: bytes, *, encode: bool = True) -> None: ...
    def set_speaking(self, speaking: bool) -> None:
        """Tell the voice gateway; must not block (schedule it on the event loop)."""
        ...


class _End:
    """Queued by the reader after the last packet."""

    __slots__ = ("error",)

    def __init__(self, error: Exception | None) -> None:
        self.error = error


PLAYING, PAUSED, ENDED = "playing", "paused", "ended"


class Stream:
    """One source playing on one link; made by `Sender.play`. Controls are thread-safe."""

    def __init__(self, sender: Sender, link: Link, source: Source, after: After | None) -> None:
        self.link = link
        self.source = source
        self.after = after
        self.state = PLAYING
        self.error: Exception | None = None
        self._sender = sender
        self._queue: deque[bytes | _End] = deque()
        self._cond = threading.Condition()
        self._silenced = False  # the pause's silence frames were sent
        self._lost_at: float | None = None  # when the link was found down while playing
        self._reader = threading.Thread(target=self._read, name="voice-reader", daemon=True)

    def start(self) -> None:
        self._reader.start()

    def is_playing(self) -> bool:
        return self.state == PLAYING

    def is_paused(self) -> bool:
        return self.state == PAUSED

    def pause(self) -> None:
        if self.state == PLAYING:
            self._silenced = False
            self.state = PAUSED
            self.link.set_speaking(False)

    def resume(self) -> None:
        if self.state == PAUSED:
            self._lost_at = None  # a link down before the pause gets its full wait again
            self.state = PLAYING
            self.link.set_speaking(True)
            self._sender.wake()

    def stop(self) -> None:
        """End now: silence frames on the next tick, then `after(None)` and `cleanup()`.

        A source with `interrupt()` (the player's ffmpeg) is interrupted at once: its reader may
        be waiting on a slow host, and cleanup comes only after that read returns, so every
        seek against a host that does not answer would leave one more ffmpeg behind."""
        if self.state != ENDED:
            self.link.set_speaking(False)
            self._end(None, silence=True)
            interrupt = getattr(self.source, "interrupt", None)
            if interrupt is not None:
                interrupt()

    def set_source(self, source: Source) -> None:
        """Play `source` from now on (what discord.py's `VoiceClient.source = ...` does); packets
        queued from the old one are dropped, and the old one is not cleaned up (nor is it there)."""
        with self._cond:
            self.source = source
            self._queue.clear()
            self._cond.notify()

    # -- the sender thread -----------------------------------------------------------------------

    def tick(self, now: float) -> bool:
        """Send this tick's packet; False once the stream needs no more ticks (paused or ended)."""
        state = self.state
        if state == PAUSED:
            if not self._silenced:
                self._silenced = True
                self.send_silence()
            return False
        if state == ENDED:
            return False
        link = self.link
        if not link.is_connected():
            if self._lost_at is None:
                self._lost_at = now
            elif now - self._lost_at > link.timeout:
                log.info("Voice link still down after %ss: ending the stream", link.timeout)
                self._end(None, silence=False)  # discord.py's player gives up the same way
                return False
            return True
        if self._lost_at is not None:
            self._lost_at = None
            link.set_speaking(True)
        try:
            item = self._queue.popleft()
        except IndexError:  # the reader is waiting on the source: nothing to send this tick
            return True
        queue = self._queue
        if len(queue) == AHEAD_LOW:
            with self._cond:
                self._cond.notify()
        if type(item) is bytes:
            link.send_audio_packet(item, encode=False)
            return True
        assert isinstance(item, _End)
        link.set_speaking(False)
        self._end(item.error, silence=True)
        return False

    def fail(self, error: Exception) -> None:
        """The sender's own call on this stream raised: end it with that error."""
        self._end(error, silence=False)

    def _end(self, error: Exception | None, *, silence: bool) -> None:
        with self._cond:
            if self.state == ENDED:
                return
            self.error = error
            self.state = ENDED
            self._queue.clear()
            self._cond.notify()
        self._sender.ended(self, silence=silence)

    def send_silence(self) -> None:
        try:
            if self.link.is_connected():
                for _ in range(SILENCE_FRAMES):
                    self.link.send_audio_packet(SILENCE, encode=False)
        except Exception:  # as discord.py: a lost silence frame does not matter
            log.debug("Silence frames not sent", exc_info=True)

    # -- the reader thread -----------------------------------------------------------------------

    def _read(self) -> None:
        queue = self._queue
        cond = self._cond
        try:
            while self.state != ENDED:
                with cond:
                    if len(queue) >= AHEAD_HIGH:
                        while self.state != ENDED and len(queue) > AHEAD_LOW:
                            cond.wait()
                        continue
                source = self.source
                data = source.read()
                if not data:
                    # discord.py's FFmpegAudio keeps ffmpeg's failure here; its player reads it too
                    error = getattr(source, "_current_error", None)
                    queue.append(_End(error if isinstance(error, Exception) else None))
                    break
                queue.append(data)
        except Exception as exc:  # reported to after(), as discord.py does
            queue.append(_End(exc))
        with cond:
            while self.state != ENDED:
                cond.wait()
        self._finish()

    def _finish(self) -> None:
        error = self.error
        try:
            if self.after is not None:
                try:
                    self.after(error)
                except Exception as exc:
                    exc.__context__ = error
                    log.exception("Calling the after function failed.", exc_info=exc)
            elif error is not None:
                log.error("Exception in voice stream", exc_info=error)
        finally:
            self.source.cleanup()


class Sender:
    """The one sender thread, started by the first `play` and gone once no stream is left."""

    def __init__(self, frame: float = FRAME) -> None:
        self.frame = frame
        self._lock = threading.Lock()
        self._streams: tuple[Stream, ...] = ()
        self._silence: list[Stream] = []  # stopped or ended streams owed their silence frames
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def play(self, link: Link, source: Source, after: After | None = None) -> Stream:
        stream = Stream(self, link, source, after)
        link.set_speaking(True)
        stream.start()
        with self._lock:
            self._streams = (*self._streams, stream)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="voice-sender", daemon=True)
                self._thread.start()
        self._wake.set()
        return stream

    @property
    def running(self) -> bool:
        return self._thread is not None

    def wake(self) -> None:
        self._wake.set()

    def ended(self, stream: Stream, *, silence: bool) -> None:
        with self._lock:
            self._streams = tuple(s for s in self._streams if s is not stream)
            if silence:
                self._silence.append(stream)
        self._wake.set()

    def _run(self) -> None:
        frame = self.frame
        start = time.perf_counter()
        ticks = 0
        while True:
            self._wake.clear()
            if self._silence:
                with self._lock:
                    owed, self._silence = self._silence, []
                for stream in owed:
                    stream.send_silence()  # on this thread, like its packets
            with self._lock:
                streams = self._streams
                if not streams and not self._silence:
                    self._thread = None
                    return
            now = time.perf_counter()
            busy = False
            for stream in streams:
                try:
                    if stream.tick(now):
                        busy = True
                except Exception as exc:  # one stream's failure ends that one only
                    stream.fail(exc)
            if not busy:  # every stream paused (or just ended): wait for a change
                self._wake.wait()
                start = time.perf_counter()
                ticks = 0
                continue
            ticks += 1
            delay = start + ticks * frame - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            elif delay < -MAX_LAG * frame:  # far behind (a stalled machine): do not burst
                start = time.perf_counter()
                ticks = 0


SENDER = Sender()
"""The process's sender: every `WatchedVoiceClient` plays through it."""
