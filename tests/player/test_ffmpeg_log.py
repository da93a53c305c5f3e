"""ffmpeg's stderr reaches the bot's log as its own lines: tagged with the guild, bounded."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from bot.player.ffmpeg import find_ffmpeg, opus_source_spec
from bot.player.ffmpeg_log import MAX_LINE_CHARS, MAX_LINES, FfmpegLog, stderr_to_log
from bot.player.guild import OpusProcess


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.player.ffmpeg"]


def test_lines_split_across_writes_are_logged_whole(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    lines = FfmpegLog("guild 7")
    lines.write(b"[tcp @ 0x1] Connection to tcp://127.0.0.1:1 fai")
    lines.write(b"led: Connection refused\n\n[http @ 0x2] Will reconnect\r\nlast without newline")
    assert logged(caplog) == [
        "ffmpeg (guild 7): [tcp @ 0x1] Connection to tcp://127.0.0.1:1 failed: Connection refused",
        "ffmpeg (guild 7): [http @ 0x2] Will reconnect",
    ]
    lines.flush()
    assert logged(caplog)[-1] == "ffmpeg (guild 7): last without newline"


def test_a_chatty_ffmpeg_is_cut_off_with_one_line_saying_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    lines = FfmpegLog("guild 7")
    lines.write(b"".join(b"Header missing %d\n" % n for n in range(5000)))
    lines.write(b"x" * (MAX_LINE_CHARS * 3) + b"\n")
    shown = logged(caplog)
    assert len(shown) == MAX_LINES + 1
    assert shown[-1] == "ffmpeg (guild 7): more lines follow; not logged"
    assert lines.lines == 5001


def test_a_long_line_is_clipped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    FfmpegLog("g").write(b"y" * 100_000 + b"\n")
    (line,) = logged(caplog)
    assert len(line) == len("ffmpeg (g): ") + MAX_LINE_CHARS and line.endswith("…")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_a_real_ffmpeg_error_is_logged_for_its_guild_and_its_pipe_closed(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.WARNING)
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"\xff\xfb" + os.urandom(20_000))  # an MP3 header, then noise
    before = open_fds()
    spec = opus_source_spec(str(broken), executable=find_ffmpeg(), allow_files=True)
    source = OpusProcess(spec, log_as="guild 42")
    try:
        while await asyncio.to_thread(source.read):
            pass
    finally:
        source.cleanup()
    del source  # its packet reader holds ffmpeg's stdout
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not logged(caplog) or open_fds() > before:  # the loop reads the last lines at EOF
        assert loop.time() < deadline, (logged(caplog), open_fds(), before)
        await asyncio.sleep(0.05)
    assert all(line.startswith("ffmpeg (guild 42): ") for line in logged(caplog))


def test_off_the_event_loop_ffmpeg_keeps_the_bots_stderr() -> None:
    assert stderr_to_log("g") is None


def test_escapes_from_a_hostile_file_and_the_proxys_token_stay_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    lines = FfmpegLog("guild 7")
    lines.write(b"[mp3 @ 0x1] tag \x1b[2J\x1b[31mfake\r2026-01-01 ERROR forged\n")
    lines.write(b"Error opening input file http://127.0.0.1:4000/audio/AbC_dEf-123456789xyzXYZ.\n")
    lines.write(b"[http @ 0x2] http://127.0.0.1:4001/reading/Zm9vYmFyYmF6cXV4eHl6: end\n")
    assert logged(caplog) == [
        "ffmpeg (guild 7): [mp3 @ 0x1] tag ?[2J?[31mfake?2026-01-01 ERROR forged",
        "ffmpeg (guild 7): Error opening input file http://127.0.0.1:4000/audio/….",
        "ffmpeg (guild 7): [http @ 0x2] http://127.0.0.1:4001/reading/…: end",
    ]
