"""How a finished machine reading is handed over: attached within the server's upload limit,
else one honest sentence; every message names it a machine reading and names the voice."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord

from bot.config import Settings
from bot.narration.engine import VOICE_NAME, Narration, digest
from bot.narration.service import NarrationService, label, progress


class Followup:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, content: str = "", **kwargs: Any) -> None:
        self.sent.append({"content": content, **kwargs})


def service() -> NarrationService:
    return NarrationService(SimpleNamespace(settings=Settings(), db=None))  # type: ignore[arg-type]


def interaction(limit: int, voice_channel: object | None = None) -> Any:
    voice = None if voice_channel is None else SimpleNamespace(channel=voice_channel)
    return SimpleNamespace(
        guild=SimpleNamespace(filesize_limit=limit),
        followup=Followup(),
        user=SimpleNamespace(voice=voice),
    )


def offered(sent: dict[str, Any]) -> list[str]:
    """The custom ids of the buttons on a sent message."""
    view = sent.get("view")
    return [item.custom_id for item in view.children] if view is not None else []  # type: ignore[attr-defined]


async def test_a_file_within_the_limit_is_attached(tmp_path: Path) -> None:
    path = tmp_path / "r.ogg"
    path.write_bytes(b"\0" * 1000)
    ix = interaction(10 * 1024 * 1024)
    reading = Narration("lw:x", "A *post*", path, seconds=125.4)
    await service()._attach(ix, reading, path, ephemeral=True)
    (sent,) = ix.followup.sent
    assert sent["content"] == label("A *post*", 125.4)
    assert isinstance(sent["file"], discord.File) and sent["ephemeral"] is True
    assert "Machine reading" in sent["content"] and "(2:05)" in sent["content"]
    assert VOICE_NAME in sent["content"] and "not a TYPE III AUDIO narration" in sent["content"]
    assert "A \\*post\\*" in sent["content"]  # markdown in titles is shown, not applied
    assert offered(sent) == [], "not in a voice channel: no voice offer"


async def test_a_member_in_voice_is_offered_play_in_voice_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "r.ogg"
    path.write_bytes(b"\0" * 1000)
    ix = interaction(10 * 1024 * 1024, voice_channel=object())
    await service()._attach(ix, Narration("lw:x", "T", path, seconds=60), path, ephemeral=True)
    (sent,) = ix.followup.sent
    assert isinstance(sent["file"], discord.File)
    assert offered(sent) == [f"narrator:readvoice:{digest('lw:x')}"]


async def test_a_file_above_the_servers_limit_is_not_attached(tmp_path: Path) -> None:
    path = tmp_path / "r.ogg"
    path.write_bytes(b"\0" * 3000)
    ix = interaction(2048)
    await service()._attach(ix, Narration("lw:x", "T", path, seconds=60), path, ephemeral=False)
    (sent,) = ix.followup.sent
    assert "file" not in sent
    assert "above this server's upload limit" in sent["content"]
    assert sent["content"].startswith(label("T", 60))
    # instead of failing: the voice option, offered to whoever reads it
    assert "press **Play in voice**" in sent["content"]
    assert offered(sent) == [f"narrator:readvoice:{digest('lw:x')}"]


def test_progress_says_machine_reading_voice_and_length() -> None:
    reading = Narration("lw:x", "T", Path("x"), words=1600)
    assert progress(reading) == (
        f"🤖 Making a **machine reading** of “T” with the machine voice {VOICE_NAME}: "
        "about 10 min of speech. The file comes here when it is ready."
    )
