"""The ffmpeg arguments the player builds, checked as argument lists (no process started)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.errors import UserFacingError
from bot.player.ffmpeg import (
    FfmpegNotFoundError,
    SourceError,
    atempo_chain,
    find_ffmpeg,
    opus_source_spec,
)

URL = "http://127.0.0.1:41234/audio/Zk3n9Qx-token"
"""What the player hands ffmpeg: the loopback proxy's URL for one stream."""


def argv(source: str = URL, **kw: object) -> list[str]:
    return list(opus_source_spec(source, executable="ffmpeg", **kw).argv)  # type: ignore[arg-type]


def before(source: str = URL, **kw: object) -> list[str]:
    """The input and global options: everything but the input and output options."""
    args = argv(source, **kw)
    return args[1 : args.index("-i")] + args[args.index("pipe:1") + 1 :]


def after(source: str = URL, **kw: object) -> list[str]:
    """The output options, between the input and the output pipe."""
    args = argv(source, **kw)
    return args[args.index("-i") + 2 : args.index("pipe:1")]


def value(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_remote_sources_get_the_whitelist_and_reconnect_flags() -> None:
    args = before()
    assert "-nostdin" in args
    assert value(args, "-protocol_whitelist") == "http,tcp"
    assert value(args, "-reconnect") == "1"
    assert value(args, "-reconnect_on_network_error") == "1"
    assert value(args, "-reconnect_delay_max") == "5"
    assert value(args, "-rw_timeout") == "15000000"


def test_reconnect_streamed_and_at_eof_are_never_used() -> None:
    args = before()
    assert "-reconnect_streamed" not in args
    assert "-reconnect_at_eof" not in args


def test_local_files_only_with_allow_files_and_without_http_flags() -> None:
    args = before("/tmp/ep.mp3", allow_files=True)
    assert value(args, "-protocol_whitelist") == "file"
    assert not any(a.startswith("-reconnect") or a == "-rw_timeout" for a in args)
    with pytest.raises(SourceError):
        before("/tmp/ep.mp3")


@pytest.mark.parametrize(
    "source",
    [
        "file:///etc/passwd",
        "ftp://host/ep.mp3",
        "concat:/a.mp3|/b.mp3",
        "subfile:,start,0,end,10,:/etc/passwd",
        "https://",
        "https://host/ep 1.mp3",
        "https://host/ep.mp3\n-i /etc/passwd",
        "",
    ],
)
def test_anything_but_a_clean_http_url_is_refused(source: str) -> None:
    with pytest.raises(SourceError):
        before(source)
    with pytest.raises(SourceError):
        before(source, allow_files=True)


def test_source_error_is_user_facing() -> None:
    with pytest.raises(UserFacingError, match="http"):
        before("ftp://host/ep.mp3")


def test_start_is_an_input_seek_before_the_input() -> None:
    spec = opus_source_spec(URL, executable="ffmpeg", start=754.25)
    argv = list(spec.argv)
    assert value(argv, "-ss") == "754.25"
    assert argv.index("-ss") < argv.index("-i")
    assert "-ss" not in before(), "no seek from the start"


def test_a_source_that_cannot_seek_is_trimmed_in_its_own_time_before_atempo() -> None:
    args = argv(start=12.5, speed=1.5, seekable=False)
    assert "-ss" not in args, "no input seek: a growing reading has no Range"
    graph = value(args, "-filter_complex")
    assert graph.startswith("[0:a:0]atrim=start=12.5[")
    assert graph.index("asetpts=PTS-STARTPTS") < graph.index("atempo=1.5")
    assert "-filter_complex" not in argv(seekable=False), "from the start: nothing to trim"


def test_one_audio_stream_only_and_opus_pinned_to_20ms_frames() -> None:
    args = after()
    assert value(args, "-map") == "0:a:0"
    assert value(args, "-frame_duration") == "20"
    assert value(args, "-application") == "audio"
    assert "-af" not in args


def test_speed_becomes_atempo_in_a_graph_reading_the_first_audio_stream() -> None:
    args = after(speed=1.5)
    graph = value(args, "-filter_complex")
    assert graph.startswith("[0:a:0]atempo=1.5[")
    assert value(args, "-map") == graph[graph.rindex("[") :], "the graph's output is mapped"


@pytest.mark.parametrize(
    ("speed", "factors"),
    [(1.0, []), (0.5, [0.5]), (1.25, [1.25]), (2.0, [2.0]), (2.5, [2.0, 1.25]), (3.0, [2.0, 1.5])],
)
def test_atempo_is_chained_to_stay_within_old_ffmpeg_limits(
    speed: float, factors: list[float]
) -> None:
    assert atempo_chain(speed) == factors


@pytest.mark.parametrize("speed", [0.25, 0.49, 3.01, 10])
def test_speeds_outside_half_to_triple_are_refused(speed: float) -> None:
    with pytest.raises(UserFacingError, match=r"between 0\.5× and 3×"):
        opus_source_spec(URL, executable="ffmpeg", speed=speed)


def test_volume_goes_after_speed_and_is_omitted_at_one() -> None:
    graph = value(after(speed=2.5, volume=0.8), "-filter_complex")
    assert graph.index("atempo=2") < graph.index("atempo=1.25") < graph.index("volume=0.8")
    assert "volume" not in " ".join(after(speed=1.5))


def test_one_command_line_ogg_opus_at_48_khz_stereo_speech_bitrate() -> None:
    spec = opus_source_spec(URL, executable="/opt/ffmpeg")
    assert spec.argv[0] == "/opt/ffmpeg"
    args = after()
    assert value(args, "-b:a") == "64k"
    assert value(args, "-f") == "opus" and value(args, "-c:a") == "libopus"
    assert value(args, "-ar") == "48000" and value(args, "-ac") == "2"
    assert value(args, "-map_metadata") == "-1"
    assert value(argv(), "-loglevel") == "warning"
    assert value(after(bitrate=96), "-b:a") == "96k"
    with pytest.raises(ValueError, match="bitrate"):
        opus_source_spec(URL, executable="ffmpeg", bitrate=512)


@pytest.mark.parametrize(
    "source",
    [
        "https://cdn.example.com/show/ep1.mp3",
        "http://cdn.example.com/show/ep1.mp3",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/ep.mp3",
        "https://127.0.0.1:41234/audio/token",
    ],
)
def test_ffmpeg_never_gets_a_remote_address_other_than_the_loopback_proxy(source: str) -> None:
    with pytest.raises(ValueError, match="proxy"):
        before(source)


def test_only_plain_audio_demuxers_so_no_playlist_can_name_further_urls() -> None:
    for args in (before(), before("/tmp/ep.mp3", allow_files=True)):
        formats = value(args, "-format_whitelist").split(",")
        assert "mp3" in formats and "mov" in formats
        assert not {"hls", "dash", "concat", "applehttp"} & set(formats)


def test_url_with_shell_characters_survives_as_one_argument() -> None:
    url = "http://127.0.0.1:41234/a'b;$(x)&c=1.mp3"
    args = argv(url)
    assert args[args.index("-i") + 1] == url


def test_find_ffmpeg_uses_the_configured_path(tmp_path: Path) -> None:
    exe = tmp_path / "my-ffmpeg"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    assert find_ffmpeg(exe) == str(exe)
    with pytest.raises(FfmpegNotFoundError, match="nope"):
        find_ffmpeg(tmp_path / "nope")


def test_find_ffmpeg_falls_back_to_imageio_ffmpeg() -> None:
    exe = find_ffmpeg(None)
    assert os.access(exe, os.X_OK)
    assert "ffmpeg" in Path(exe).name
