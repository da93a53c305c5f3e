"""The one sender thread (`bot/player/sender.py`) with fake links and sources: pacing, pause and
resume, stop, failing and stalled sources, and waiting out a reconnect, as discord.py's
`AudioPlayer` does them, for many streams on one thread."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from bot.player.sender import FRAME, SILENCE, SILENCE_FRAMES, Sender

WAIT = 10.0  # seconds any condition may take on a loaded machine


class FakeLink:
    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.connected = True
        self.sent: list[tuple[float, bytes]] = []
        self.speaking: list[bool] = []
        self.changed = threading.Condition()

    def is_connected(self) -> bool:
        return self.connected

    def send_audio_packet(self, data: bytes, *, encode: bool = True) -> None:
        assert not encode
        with self.changed:
            self.sent.append((time.perf_counter(), data))
            self.changed.notify_all()

    def set_speaking(self, speaking: bool) -> None:
        with self.changed:
            self.speaking.append(speaking)
            self.changed.notify_all()

    def packets(self) -> list[bytes]:
        with self.changed:
            return [data for _, data in self.sent]

    def audio(self) -> list[bytes]:
        return [data for data in self.packets() if data != SILENCE]

    def wait(self, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT  # woken by each packet, and checked every 10 ms
        with self.changed:
            while not condition():
                assert time.monotonic() < deadline, "condition not met in time"
                self.changed.wait(0.01)


class FakeSource:
    def __init__(self, packets: Iterator[bytes], *, fail: Exception | None = None) -> None:
        self.packets = packets
        self.fail = fail
        self.cleanups = 0
        self.release = threading.Event()
        self.release.set()
        self.blocked = threading.Event()

    def read(self) -> bytes:
        if not self.release.is_set():
            self.blocked.set()
            self.release.wait()
        packet = next(self.packets, b"")
        if not packet and self.fail is not None:
            raise self.fail
        return packet

    def cleanup(self) -> None:
        self.cleanups += 1


def numbered(n: int | None, tag: str = "p") -> Iterator[bytes]:
    counter = itertools.count() if n is None else range(n)
    return (f"{tag}{i}".encode() for i in counter)


class Afters:
    def __init__(self) -> None:
        self.calls: list[Exception | None] = []
        self.done = threading.Event()

    def __call__(self, error: Exception | None) -> None:
        self.calls.append(error)
        self.done.set()

    def wait(self) -> None:
        assert self.done.wait(WAIT), "after() was not called"


@pytest.fixture
def sender() -> Iterator[Sender]:
    sender = Sender()
    yield sender
    deadline = time.monotonic() + WAIT
    while sender.running and time.monotonic() < deadline:  # streams left over: let them go
        time.sleep(0.01)


def test_packets_are_paced_one_per_frame_then_silence_after_and_cleanup(sender: Sender) -> None:
    link, source, after = FakeLink(), FakeSource(numbered(25)), Afters()
    sender.play(link, source, after)
    after.wait()
    packets = link.packets()
    assert packets == [f"p{i}".encode() for i in range(25)] + [SILENCE] * SILENCE_FRAMES
    times = [t for t, data in link.sent if data != SILENCE]
    assert times[-1] - times[0] >= 24 * FRAME - 0.005  # not faster than real time
    assert times[-1] - times[0] < 24 * FRAME * 3  # nor stuck
    assert after.calls == [None]
    link.wait(lambda: source.cleanups == 1)
    assert link.speaking == [True, False]


def test_many_streams_share_one_thread_each_in_order(sender: Sender) -> None:
    streams = [(FakeLink(), FakeSource(numbered(30, f"s{n}-")), Afters()) for n in range(20)]
    for link, source, after in streams:
        sender.play(link, source, after)
    senders = [t for t in threading.enumerate() if t.name == "voice-sender"]
    assert len(senders) == 1
    for _, _, after in streams:
        after.wait()
        assert after.calls == [None]
    for n, (link, _, _) in enumerate(streams):
        assert link.audio() == [f"s{n}-{i}".encode() for i in range(30)]
    deadline = time.monotonic() + WAIT
    while sender.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not sender.running  # gone once idle


def test_pause_sends_five_silence_frames_then_nothing_until_resume(sender: Sender) -> None:
    paused_link, clock_link = FakeLink(), FakeLink()
    stream = sender.play(paused_link, FakeSource(numbered(None)))
    clock = sender.play(clock_link, FakeSource(numbered(None)))
    paused_link.wait(lambda: len(paused_link.sent) >= 5)
    stream.pause()
    assert stream.is_paused() and not stream.is_playing()
    paused_link.wait(lambda: paused_link.packets()[-SILENCE_FRAMES:] == [SILENCE] * SILENCE_FRAMES)
    sent = len(paused_link.sent)
    at = len(clock_link.sent)
    clock_link.wait(lambda: len(clock_link.sent) >= at + 25)  # half a second of the other's audio
    packets = paused_link.packets()
    assert len(packets) == sent
    assert packets[-SILENCE_FRAMES:] == [SILENCE] * SILENCE_FRAMES
    assert SILENCE not in packets[:-SILENCE_FRAMES]
    stream.resume()
    assert stream.is_playing()
    paused_link.wait(lambda: len(paused_link.sent) >= sent + 10)
    audio = paused_link.audio()
    assert audio == [f"p{i}".encode() for i in range(len(audio))]  # nothing lost or repeated
    assert paused_link.speaking == [True, False, True]
    stream.stop()
    clock.stop()


def test_stop_sends_silence_calls_after_once_and_cleans_up(sender: Sender) -> None:
    link, source, after = FakeLink(), FakeSource(numbered(None)), Afters()
    stream = sender.play(link, source, after)
    link.wait(lambda: len(link.sent) >= 5)
    stream.stop()
    assert not stream.is_playing() and not stream.is_paused()
    after.wait()
    link.wait(lambda: link.packets()[-SILENCE_FRAMES:] == [SILENCE] * 5 and source.cleanups == 1)
    stream.stop()  # again: nothing more
    count = len(link.sent)
    other = FakeLink()
    sender.play(other, FakeSource(numbered(20)))  # a clock only
    other.wait(lambda: len(other.sent) >= 15)
    assert len(link.sent) == count
    assert link.packets()[-SILENCE_FRAMES:] == [SILENCE] * SILENCE_FRAMES
    assert after.calls == [None]
    assert source.cleanups == 1
    assert link.speaking == [True, False]


def test_a_source_that_raises_is_reported_to_after(sender: Sender) -> None:
    link, after = FakeLink(), Afters()
    error = RuntimeError("ffmpeg went away")
    source = FakeSource(numbered(3), fail=error)
    sender.play(link, source, after)
    after.wait()
    assert after.calls == [error]
    assert link.audio() == [b"p0", b"p1", b"p2"]
    link.wait(lambda: source.cleanups == 1)


def test_a_source_error_kept_by_the_source_is_reported_at_its_end(sender: Sender) -> None:
    class Failed(FakeSource):
        _current_error = RuntimeError("FFmpeg exited with code 1")

    link, after = FakeLink(), Afters()
    sender.play(link, Failed(numbered(2)), after)
    after.wait()
    assert after.calls == [Failed._current_error]


def test_an_exception_from_after_does_not_stop_the_sender(sender: Sender) -> None:
    def broken(_error: Exception | None) -> None:
        raise ValueError("after failed")

    link, source = FakeLink(), FakeSource(numbered(2))
    sender.play(link, source, broken)
    link.wait(lambda: source.cleanups == 1)
    other, after = FakeLink(), Afters()
    sender.play(other, FakeSource(numbered(5)), after)
    after.wait()
    assert other.audio() == [f"p{i}".encode() for i in range(5)]


def test_a_stalled_source_does_not_delay_the_others(sender: Sender) -> None:
    stalled_link, stalled, stalled_after = FakeLink(), FakeSource(numbered(None)), Afters()
    stalled.release.clear()  # its read blocks, as on ffmpeg waiting for a slow host
    stalled_stream = sender.play(stalled_link, stalled, stalled_after)
    assert stalled.blocked.wait(WAIT)
    link, after = FakeLink(), Afters()
    sender.play(link, FakeSource(numbered(50)), after)
    after.wait()
    times = [t for t, data in link.sent if data != SILENCE]
    assert len(times) == 50
    assert times[-1] - times[0] < 49 * FRAME * 2  # paced, not held up by the blocked read
    assert stalled_link.packets() == []
    assert stalled_stream.is_playing()  # still waiting on its source
    stalled_stream.stop()
    stalled.release.set()  # the read returns; only then is it cleaned up, as in discord.py
    stalled_after.wait()
    assert stalled_after.calls == [None]
    stalled_link.wait(lambda: stalled.cleanups == 1)


def test_a_dropped_link_is_waited_out_without_holding_up_the_others(sender: Sender) -> None:
    link, clock_link = FakeLink(), FakeLink()
    stream = sender.play(link, FakeSource(numbered(None)))
    clock = sender.play(clock_link, FakeSource(numbered(None)))
    link.wait(lambda: len(link.sent) >= 5)
    link.connected = False
    at = len(clock_link.sent)
    clock_link.wait(lambda: len(clock_link.sent) >= at + 3)
    sent = len(link.sent)  # a tick's packet may have been on its way
    at = len(clock_link.sent)
    clock_link.wait(lambda: len(clock_link.sent) >= at + 25)
    assert len(link.sent) == sent
    assert stream.is_playing()
    link.connected = True
    link.wait(lambda: len(link.sent) >= sent + 10)
    assert link.speaking == [True, True]  # speaking again once back, as discord.py's player
    audio = link.audio()
    assert audio == [f"p{i}".encode() for i in range(len(audio))]  # nothing lost while down
    stream.stop()
    clock.stop()


def test_a_link_down_longer_than_its_timeout_ends_the_stream(sender: Sender) -> None:
    link, source, after = FakeLink(timeout=0.2), FakeSource(numbered(None)), Afters()
    stream = sender.play(link, source, after)
    link.wait(lambda: len(link.sent) >= 3)
    link.connected = False
    after.wait()
    assert after.calls == [None]
    assert not stream.is_playing()
    assert SILENCE not in link.packets()  # nothing sent on a link that is down
    link.wait(lambda: source.cleanups == 1)
