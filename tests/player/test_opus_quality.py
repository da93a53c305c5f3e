"""The player's libopus settings keep narration intact: decoded output against its source.

`driver.opus_quality` encodes a speech-like signal (gliding pitch, formants, syllables, hiss),
decodes it back and measures the band distortion (a log-spectral distance over third-octave bands,
dB) and the loudness difference. The bot's settings must score within `MARGIN_DB` of libopus at
its defaults (complexity 10) at the same bitrate, and under `LIMIT_DB` outright; settings that
are known to lose detail must fail the same check, so the check can tell.
"""

from __future__ import annotations

from array import array
from pathlib import Path

import pytest

from bot.player.ffmpeg import SPEECH_BITRATE, encoder_options, find_ffmpeg
from driver.opus_quality import Quality, compare, decode_mono, encode, measure, speech_like

MARGIN_DB = 0.25
"""How much worse than default libopus the bot's encode may be (≈ 0.55 dB there at 64 kbps)."""
LIMIT_DB = 1.0
LOUDNESS_DB = 0.5

DEFAULT = ["-c:a", "libopus", "-b:a", f"{SPEECH_BITRATE}k", "-ar", "48000", "-ac", "2"]


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speech_like(find_ffmpeg(), tmp_path_factory.mktemp("speech") / "speech.wav", 4.0)


def quality_of(speech: Path, args: list[str], name: str) -> Quality:
    ffmpeg = find_ffmpeg()
    return measure(ffmpeg, speech, encode(ffmpeg, speech, speech.with_name(f"{name}.opus"), args))


def passes(quality: Quality, reference: Quality) -> bool:
    return (
        quality.band_distortion_db <= reference.band_distortion_db + MARGIN_DB
        and quality.band_distortion_db <= LIMIT_DB
        and abs(quality.loudness_db) <= LOUDNESS_DB
    )


@pytest.fixture(scope="module")
def reference(speech: Path) -> Quality:
    return quality_of(speech, DEFAULT, "default")


@pytest.mark.parametrize("bitrate", [SPEECH_BITRATE, 48, 96])
def test_the_bots_encoder_settings_sound_like_default_libopus(speech: Path, bitrate: int) -> None:
    default = quality_of(speech, [*DEFAULT[:2], "-b:a", f"{bitrate}k", *DEFAULT[4:]], "d")
    ours = quality_of(speech, encoder_options(bitrate), f"bot-{bitrate}")
    assert passes(ours, default), f"bot: {ours}; default libopus: {default}"


@pytest.mark.parametrize(
    "damage",
    [
        ["-compression_level", "0"],  # the cheapest encoder search
        ["-b:a", "16k"],  # a quarter of the bitrate
        ["-cutoff", "8000"],  # the top octave gone
        ["-fec", "true", "-packet_loss", "15"],  # bits spent on redundancy, SILK layers
    ],
    ids=["complexity-0", "16kbps", "cutoff-8k", "fec-loss-15"],
)
def test_settings_that_lose_detail_fail_the_same_check(
    speech: Path, reference: Quality, damage: list[str]
) -> None:
    worse = quality_of(speech, [*DEFAULT, *damage], "worse")
    assert not passes(worse, reference), f"{damage}: {worse}; default libopus: {reference}"


def test_the_measure_itself() -> None:
    tone = array("h", [int(8000 * ((n // 24) % 2 * 2 - 1)) for n in range(48000)])  # 1 kHz square
    same = compare(tone, tone)
    assert same.band_distortion_db == 0 and same.loudness_db == 0
    quieter = compare(tone, array("h", [s // 2 for s in tone]))
    assert quieter.loudness_db == pytest.approx(-6.02, abs=0.01)
    assert quieter.band_distortion_db == pytest.approx(6.02, abs=0.01), "every band 6 dB down"


def test_decode_lines_up_with_the_source(speech: Path) -> None:
    """ffmpeg applies the Ogg pre-skip, so no alignment search is needed: a shifted decode
    would show as a large distortion in the tests above, and the lengths agree here."""
    ffmpeg = find_ffmpeg()
    source = decode_mono(ffmpeg, speech)
    decoded = decode_mono(ffmpeg, encode(ffmpeg, speech, speech.with_name("a.opus"), DEFAULT))
    assert abs(len(decoded) - len(source)) < 960
    shifted = compare(source, array("h", [0] * 480) + decoded)
    aligned = compare(source, decoded)
    assert shifted.snr_db < aligned.snr_db - 10
