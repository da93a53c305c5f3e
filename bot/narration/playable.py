"""A machine reading as the player plays it (`bot.player.reading.ReadingAudio`): its loopback
URLs come from `stream.py`, and what exists of it from the `Narration` being made."""

from __future__ import annotations

from bot.errors import UserFacingError
from bot.narration.engine import Narration, NarrationFailed
from bot.narration.stream import ReadingStreams


class PlayableReading:
    def __init__(
        self, narration: Narration, streams: ReadingStreams, link: str | None, voice: str
    ) -> None:
        self.narration = narration
        self.streams = streams
        self.key = narration.key
        self.title = narration.title
        self.link = link
        self.voice = voice

    @property
    def seconds_ready(self) -> float:
        return self.narration.seconds

    @property
    def finished(self) -> bool:
        return self.narration.finished

    @property
    def failed(self) -> bool:
        return self.narration.done.is_set() and self.narration.error is not None

    def open(self) -> str:
        return self.streams.open(self.narration)

    def close(self, url: str) -> None:
        self.streams.close_url(url)  # one dict pop: safe from discord.py's player thread

    async def wait_ready(self) -> None:
        try:
            await self.narration.wait_first_audio()
        except NarrationFailed:
            raise UserFacingError("The machine reading failed; try again later.") from None
