"""The machine-narration engine with the real piper voice on short texts: audio, cache, limits."""

from __future__ import annotations

import array
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bot.narration.engine import (
    NarrationCache,
    NarrationEngine,
    NarrationFailed,
    tts_missing,
)
from bot.player.ffmpeg import find_ffmpeg

pytestmark = pytest.mark.skipif(
    tts_missing() is not None, reason=f"machine narrations need the tts extra: {tts_missing()}"
)

SENTENCES = [
    "Notes on careful updating.",
    "By Quinn Harper.",
    "This is a machine reading, not a human narration.",
]


def decoded(path: Path) -> array.array[int]:
    """The file decoded to 16 kHz mono 16-bit samples."""
    pcm = subprocess.run(
        [
            find_ffmpeg(),
            "-v",
            "error",
            "-i",
            str(path),
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            "16000",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    samples = array.array("h")
    samples.frombytes(pcm)
    return samples


def rms(samples: array.array[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


@pytest.fixture
def engine(tmp_path: Path) -> NarrationEngine:
    return NarrationEngine(NarrationCache(tmp_path / "cache", 50_000_000), find_ffmpeg())


async def test_real_voice_speaks_the_sentences(engine: NarrationEngine) -> None:
    narration = engine.start("lw:abc", "Notes on careful updating", SENTENCES)
    await narration.wait_first_audio()
    assert not narration.finished or narration.sentences_done == len(SENTENCES)
    path = await narration.wait_done()
    assert path.suffix == ".ogg" and path.exists()
    assert narration.sentences_done == len(SENTENCES)
    samples = decoded(path)
    seconds = len(samples) / 16000
    # about 4 s of speech for these 17 words, and what the worker reported
    assert 2.5 < seconds < 9, seconds
    assert abs(seconds - narration.seconds) < 0.15
    assert rms(samples) > 500  # speech, not silence
    assert not list(path.parent.glob("*.part"))


async def test_cached_narration_is_reused_without_synthesis(engine: NarrationEngine) -> None:
    first = engine.start("ea:xyz", "T", SENTENCES[:1])
    await first.wait_done()
    again = engine.start("ea:xyz", "T", ["Completely different text that would take longer."])
    assert again.finished and again.path == first.path and engine.busy == 0
    # a new engine over the same directory finds it too (the sidecar survives a restart)
    other = NarrationEngine(NarrationCache(engine.cache.directory, 50_000_000), find_ffmpeg())
    found = other.find("ea:xyz")
    assert found is not None and found.finished and found.seconds == first.seconds


async def test_one_narration_at_a_time(engine: NarrationEngine) -> None:
    first = engine.start("lw:one", "One", SENTENCES[:2])
    second = engine.start("lw:two", "Two", SENTENCES[:1])
    assert engine.busy == 2
    assert engine.start("lw:one", "One", SENTENCES) is first  # the same key joins the running one
    await second.wait_done()
    assert first.finished
    # the second waited for the slot: its worker started after the first one's had ended
    assert first.worker_ended_at is not None
    assert second.started_at >= first.worker_ended_at
    assert engine.busy == 0


async def test_cache_evicts_least_recently_used_above_its_cap(tmp_path: Path) -> None:
    cache = NarrationCache(tmp_path / "c", 1)  # any finished file is above the cap
    engine = NarrationEngine(cache, find_ffmpeg())
    a = engine.start("lw:a", "A", SENTENCES[:1])
    await a.wait_done()
    assert cache.get("lw:a") is not None  # the newest file is kept even above the cap
    b = engine.start("lw:b", "B", SENTENCES[:1])
    await b.wait_done()
    assert cache.get("lw:a") is None and cache.get("lw:b") is not None
    assert len(list(cache.directory.glob("*.ogg"))) == 1


async def test_worker_failure_is_reported_and_leaves_no_file(tmp_path: Path) -> None:
    engine = NarrationEngine(NarrationCache(tmp_path / "c", 10_000_000), "/nonexistent/ffmpeg")
    narration = engine.start("lw:bad", "Bad", SENTENCES[:1])
    with pytest.raises(NarrationFailed, match="nonexistent"):
        await narration.wait_first_audio()
    assert not list((tmp_path / "c").iterdir())
    assert engine.find("lw:bad") is None


async def test_a_stuck_worker_is_killed_and_the_next_narration_goes_on(tmp_path: Path) -> None:
    stuck = tmp_path / "stuck-python"
    stuck.write_text("#!/bin/sh\nexec sleep 60\n")
    stuck.chmod(0o755)
    cache = NarrationCache(tmp_path / "c", 10_000_000)
    engine = NarrationEngine(cache, find_ffmpeg(), python=str(stuck), stall_seconds=0.5)
    narration = engine.start("lw:stuck", "Stuck", SENTENCES[:1])
    with pytest.raises(NarrationFailed, match=r"reported nothing for 0\.5 s"):
        await narration.wait_done()
    assert engine.busy == 0 and not engine._workers
    engine.python, engine.stall_seconds = sys.executable, 60.0  # the slot is free again
    assert (await engine.start("lw:next", "Next", SENTENCES[:1]).wait_done()).exists()
