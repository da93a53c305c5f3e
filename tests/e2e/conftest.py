"""Fixtures for the end-to-end tests: an episode host, voice, and tone files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from driver.audioserver import AudioServer
from emulator.voice.tones import make_tone, make_tones

STEP_SEGMENTS = [(300 + 100 * n, 1.0) for n in range(8)]  # 1 s steps: 300, 400, ... 1000 Hz


@pytest.fixture
async def audio() -> AsyncIterator[AudioServer]:
    server = AudioServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def voice(emu, tmp_path: Path):
    """The emulator's voice side; the bot process is told to trust its certificate."""
    return await emu.enable_voice(tmp_path / "certs")


@pytest.fixture(scope="session")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tones")
    return {
        "a440": make_tone(folder / "a440.mp3", 440, 8),
        "a880": make_tone(folder / "a880.mp3", 880, 6),
        "steps": make_tones(folder / "steps.mp3", STEP_SEGMENTS),
        "mid": make_tone(folder / "mid.mp3", 550, 15),
        "long": make_tone(folder / "long.mp3", 660, 40),
    }
