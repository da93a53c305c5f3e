"""One member floods /forward and /back (a script, or a held key on the card's ±30 s): every
seek starts a new ffmpeg, about 30 ms of CPU each plus a request to the host, so 30 at once
started 30 ffmpegs within 0.3 s, and a member sending 50 a second could take 1.5 of the
machine's cores from every other guild's audio. A guild's ffmpeg is now restarted at most four
times a second: the flood is paced, every seek is still answered, and the last one lands.
"""

from __future__ import annotations

import asyncio
import time

from driver.voice import play_long_tone, slash

SEEKS = 20


async def test_a_flood_of_seeks_restarts_ffmpeg_at_a_bounded_pace(
    emu, world, start_bot, feeds, audio, voice, tones
) -> None:
    bot, receiver = await play_long_tone(emu, world, start_bot, feeds, audio, voice, tones)

    def starts() -> int:
        return sum("playing episode:" in line for line in bot.lines)

    before = starts()
    began = time.monotonic()
    answers = await asyncio.gather(
        *(slash(emu, world, "forward" if n % 2 else "back", seconds="1") for n in range(SEEKS))
    )
    took = time.monotonic() - began
    assert all(a.startswith("Now at ") for a in answers), answers
    await emu.wait_until(lambda: starts() - before == SEEKS, timeout=20)
    assert took >= (SEEKS - 1) * 0.25 * 0.9, f"{SEEKS} ffmpegs started in {took:.1f} s"
    frames = len(receiver.packets)
    await emu.wait_until(lambda: len(receiver.packets) > frames + 50, timeout=10)  # still plays
