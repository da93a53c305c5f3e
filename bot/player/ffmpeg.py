"""ffmpeg for playback: find the binary and build its whole command line with ffmpeg-python.

All DSP (seek, speed, volume, resampling, Opus encoding) happens in ffmpeg, so Python only relays
Opus packets. Changing position or speed means a new process started with `-ss` at the position.

Flags chosen, and why (see `shared/reference/discord-voice.md` §0.7, §2.7, §2.14, §2.15):

- `-ss` goes *before* `-i`: an input seek, which over HTTP is one Range request instead of
  downloading and decoding everything up to the position. A source that cannot seek (a machine
  reading still being made, served without Range) starts with `atrim` instead: decoded from its
  beginning and dropped up to the position, exact (ffmpeg's input seek on a non-seekable Ogg
  stream landed 1-2 s late), and cheap for a local file.
- ffmpeg reads remote audio only from the bot's loopback proxy (`audio_proxy.py`), which fetches
  it under the address policy, so a remote source must be `http://127.0.0.1:…`, and
  `-protocol_whitelist http,tcp` keeps ffmpeg from following anything into `https:`, `file:`,
  `concat:` and friends. `-format_whitelist` admits only plain audio containers: HLS, DASH and
  concat playlists would name further URLs for ffmpeg to fetch itself.
- `-reconnect 1 -reconnect_on_network_error 1 -reconnect_delay_max 5` for http(s) only: a dropped
  download otherwise ends the episode early with exit code 0; on a local file `-reconnect` is a
  hard error (rc 8). `-reconnect_streamed` and `-reconnect_at_eof` are deliberately left out: on
  hosts without Range support the former replays the episode from byte 0 (duplicated audio), and
  the latter reconnects at the real end. Hosts without Range support end early instead, and the
  player restarts from its tracked position (`position.decide_after_end`).
- `-rw_timeout 15000000` (µs): a stalled connection fails after 15 s instead of hanging silently.
- `-nostdin`: ffmpeg never waits for keyboard input.
- Its data memory is limited (`MEMORY_LIMIT` plus its threads' stacks, set on the process as it
  starts): a hostile file whose tables claim millions of entries (an .m4a's sample sizes) had
  ffmpeg fill hundreds of MB a second, gigabytes with several tracks. Thread stacks count as
  data and are as large as the stack limit ffmpeg inherits (8 threads: 64 MB under the usual
  8 MB, 476 MB under `ulimit -s 65536`, measured), so they are allowed for on top.
  `-filter_threads 1` keeps the thread count independent of the machine's cores (speech filters
  are not threaded anyway).
- `-map 0:a:0` (or a filter graph reading `[0:a:0]`): exactly one audio stream; embedded cover
  art and second audio tracks never reach the Ogg stream.
- Speed is `atempo` (pitch preserved, cheap). ffmpeg before 4.3 limits one atempo to 0.5–2.0, so
  factors outside that range are chained (`atempo=2.0,atempo=1.25` for 2.5×); the bundled n9.0.2
  would take one filter, but the chain also works on an older system ffmpeg from the config.
- libopus tuned for narration (issue 14; `bench/opus_settings.py` measures each candidate's CPU
  and its quality with `driver/opus_quality.py`, the README's "Voice playback" has the figures):
  - `-application audio`: narration at 64 kbps is well above the bitrates `voip` mode is tuned
    for (`voip` cost more CPU and scored worse), and `audio` keeps music beds and intros intact;
  - `-frame_duration 20`: what discord.py's player paces and `PlaybackClock` counts, so pinned;
  - `-compression_level 5` (libopus complexity; default 10): about 0.6× the encoder's CPU, with
    band distortion on the speech-like check within 0.05 dB of complexity 10; 3 and below start
    to lose detail, 0 clearly does;
  - VBR (libopus's default), and no in-band FEC: discord.py's own encoder asks for `-fec true
    -packet_loss 15`, which forces the SILK/hybrid layers that carry the redundancy, costing 1.3–2×
    the CPU and, on a clean path, clearly worse quality (the encoder spends bits on the copy). A
    lost packet is concealed by the listener's decoder instead.
- Bitrate 64 kbps by default (`SPEECH_BITRATE`): speech is transparent there, and it matches a
  default voice channel's bitrate.
- The output otherwise is what discord.py's own FFmpegOpusAudio asks for: `-map_metadata -1 -f
  opus -c:a libopus -ar 48000 -ac 2 -blocksize 8192 pipe:1`, global `-loglevel warning`;
  `-ar 48000` is what keeps a 44.1 kHz episode from playing as a chipmunk. The whole
  command line is built here, once, and run as is by `bot.player.guild.OpusProcess` (a public
  `discord.FFmpegAudio` subclass), so no option string is split, re-joined or copied.
No ffprobe is needed or used.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bot.errors import UserFacingError

try:
    import resource
except ImportError:  # not on Windows
    resource = None

MIN_SPEED = 0.5
MAX_SPEED = 3.0
SPEECH_BITRATE = 64
"""kbps; speech is transparent at 64 and there is little to gain above 96."""
COMPLEXITY = 5
"""libopus complexity (0–10, default 10): 5 sounds the same on speech for about 0.6× the CPU."""
MIN_BITRATE = 32
MAX_BITRATE = 128
RECONNECT_DELAY_MAX = 5
"""Seconds; ffmpeg's default is 120, far too long for a listener waiting in silence."""
RW_TIMEOUT_US = 15_000_000
REMOTE_PROTOCOLS = "http,tcp"
FILE_PROTOCOLS = "file"
AUDIO_FORMATS = "mp3,mov,aac,ogg,matroska,wav,flac,asf,aiff,caf"
"""Demuxers ffmpeg may use (`mov` is mp4/m4a, `matroska` is webm): none of them opens other URLs."""
PROXY_HOST = "127.0.0.1"
MEMORY_LIMIT = 384 * 1024 * 1024
"""Bytes of data memory (RLIMIT_DATA) one ffmpeg may hold besides its thread stacks; an episode
needs about 11 MB of it (75 MB in all with eight 8 MB stacks)."""
THREAD_STACKS = 16
"""Thread stacks allowed on top of `MEMORY_LIMIT` (ffmpeg runs 8 threads for one episode)."""
_GLIBC_DEFAULT_STACK = 2 * 1024 * 1024  # what a thread gets when the stack limit is unlimited
_ATEMPO_MIN = 0.5
_ATEMPO_MAX = 2.0

# What discord.py 2.7.1's FFmpegOpusAudio puts between `-i source` and our options.
OGG_BLOCKSIZE = 8192  # bytes per pipe write, as discord.py's own FFmpegOpusAudio uses


class FfmpegNotFoundError(RuntimeError):
    """No usable ffmpeg binary; the message names the path that was tried."""


class SourceError(UserFacingError):
    """The episode's audio location cannot be played safely (not http(s), or malformed)."""


def find_ffmpeg(configured: str | os.PathLike[str] | None = None) -> str:
    """The configured binary (a path, or a name on PATH), else the one imageio-ffmpeg ships."""
    if configured:
        name = os.fspath(configured)
        path = Path(name).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        found = shutil.which(name)
        if found is None:
            raise FfmpegNotFoundError(f"The configured ffmpeg {name!r} is not an executable file.")
        return found
    return _bundled_ffmpeg()


def _bundled_ffmpeg() -> str:
    """imageio-ffmpeg's binary. Its wheel ships one, `binaries/ffmpeg-<platform>-<version>`: when
    that file is there and executable it is the answer, found without importing imageio_ffmpeg
    (≈0.6 MB of RSS at start with what it imports, and its check runs the 170 MB binary once).
    Anything else (a custom build, no binary) goes through imageio-ffmpeg's own lookup."""
    configured = os.environ.get("IMAGEIO_FFMPEG_EXE")  # imageio-ffmpeg's own override, first
    if configured:
        return configured
    spec = importlib.util.find_spec("imageio_ffmpeg")
    for package in (spec.submodule_search_locations or []) if spec is not None else []:
        shipped = [
            path
            for path in (Path(package) / "binaries").glob("ffmpeg-*")
            if path.is_file() and os.access(path, os.X_OK)
        ]
        if len(shipped) == 1:
            return str(shipped[0])
    import imageio_ffmpeg

    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        raise FfmpegNotFoundError(f"imageio-ffmpeg has no ffmpeg binary: {exc}") from exc


def atempo_chain(speed: float) -> list[float]:
    """atempo factors, each within 0.5–2.0, whose product is `speed`; `[]` for 1×."""
    check_speed(speed)
    factors: list[float] = []
    rest = speed
    while rest > _ATEMPO_MAX:
        factors.append(_ATEMPO_MAX)
        rest /= _ATEMPO_MAX
    while rest < _ATEMPO_MIN:
        factors.append(_ATEMPO_MIN)
        rest /= _ATEMPO_MIN
    if abs(rest - 1.0) > 1e-9:
        factors.append(round(rest, 6))
    return factors


def check_speed(speed: float) -> None:
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise UserFacingError(f"Speed must be between {MIN_SPEED:g}× and {MAX_SPEED:g}×.")


def check_source(source: str, *, allow_files: bool = False) -> bool:
    """Raise `SourceError` unless `source` is an http(s) URL (or, if allowed, a file path).

    Returns whether the source is remote.
    """
    if not source or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in source):
        raise SourceError("This episode's audio link is malformed, so it can't be played.")
    parts = urlsplit(source)
    if parts.scheme.lower() in ("http", "https"):
        if not parts.hostname:
            raise SourceError("This episode's audio link has no host, so it can't be played.")
        return True
    if allow_files and "://" not in source and ":" not in source.split("/", 1)[0]:
        return False
    raise SourceError("Only http(s) audio links can be played; this episode's link is not one.")


@dataclass(frozen=True, slots=True)
class OpusSourceSpec:
    """The whole ffmpeg command line for one stream (built by ffmpeg-python), and what it plays."""

    source: str
    argv: tuple[str, ...]
    start: float = 0.0
    speed: float = 1.0
    remote: bool = field(default=True)


def _seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _encoder(bitrate: int) -> dict[str, object]:
    return {
        "c:a": "libopus",
        "ar": 48000,
        "ac": 2,
        "b:a": f"{bitrate}k",
        "application": "audio",
        "frame_duration": 20,
        "compression_level": COMPLEXITY,
        "vbr": "on",
    }


def encoder_options(bitrate: int = SPEECH_BITRATE) -> list[str]:
    """The encoder's part of the command line (`-c:a libopus ...`), for benchmarks and checks."""
    return [arg for name, value in _encoder(bitrate).items() for arg in (f"-{name}", str(value))]


def opus_source_spec(
    source: str,
    *,
    executable: str,
    start: float = 0.0,
    speed: float = 1.0,
    volume: float = 1.0,
    bitrate: int = SPEECH_BITRATE,
    allow_files: bool = False,
    seekable: bool = True,
) -> OpusSourceSpec:
    """Arguments to play `source` from episode second `start` at `speed` (0.5–3.0).

    `seekable=False` starts by decoding and dropping up to `start` (a growing machine reading).

    A remote `source` must be the loopback proxy's URL for this stream (`AudioProxy.open`).
    `allow_files` admits local paths (tests, bundled sounds); members' input must never set it.
    """
    remote = check_source(source, allow_files=allow_files)
    if remote:
        parts = urlsplit(source)
        if parts.scheme != "http" or parts.hostname != PROXY_HOST:
            raise ValueError("ffmpeg reads remote audio only through the loopback audio proxy")
    if start < 0:
        raise ValueError(f"start must be >= 0, not {start}")
    if not 0 <= volume <= 2:
        raise ValueError(f"volume must be within 0–2, not {volume}")
    if not MIN_BITRATE <= bitrate <= MAX_BITRATE:
        raise ValueError(f"bitrate must be within {MIN_BITRATE}–{MAX_BITRATE} kbps, not {bitrate}")
    trim = start > 0 and not seekable
    filters = [("atempo", _seconds(f)) for f in atempo_chain(speed)]
    if volume != 1:
        filters.append(("volume", _seconds(volume)))

    input_options: dict[str, object] = {}
    if remote:
        input_options |= {
            "protocol_whitelist": REMOTE_PROTOCOLS,
            "reconnect": 1,
            "reconnect_on_network_error": 1,
            "reconnect_delay_max": RECONNECT_DELAY_MAX,
            "rw_timeout": RW_TIMEOUT_US,
        }
    else:
        input_options["protocol_whitelist"] = FILE_PROTOCOLS
    input_options["format_whitelist"] = AUDIO_FORMATS
    if start > 0 and seekable:
        input_options["ss"] = _seconds(start)

    import ffmpeg as ffmpeg_python  # at the first play: it and its `future` are ≈1 MB of RSS

    audio = ffmpeg_python.input(source, **input_options)["a:0"]
    if trim:  # in the source's own time, before atempo
        audio = audio.filter("atrim", start=_seconds(start)).filter("asetpts", "PTS-STARTPTS")
    for name, value in filters:
        audio = audio.filter(name, value)
    output = ffmpeg_python.output(
        audio,
        "pipe:1",
        **{
            "map_metadata": -1,
            "f": "opus",  # Ogg Opus, read packet by packet by OpusProcess
            **_encoder(bitrate),
            "blocksize": OGG_BLOCKSIZE,
        },
    ).global_args("-nostdin", "-loglevel", "warning", "-filter_threads", "1")
    return OpusSourceSpec(
        source=source,
        argv=tuple(output.compile(cmd=executable)),
        start=start,
        speed=speed,
        remote=remote,
    )


def data_limit() -> int:
    """RLIMIT_DATA for one ffmpeg: `MEMORY_LIMIT`, plus `THREAD_STACKS` stacks of the size the
    inherited stack limit gives each thread."""
    stack = _GLIBC_DEFAULT_STACK
    if resource is not None:
        soft = resource.getrlimit(resource.RLIMIT_STACK)[0]
        if soft != resource.RLIM_INFINITY:
            stack = soft
    return MEMORY_LIMIT + THREAD_STACKS * stack


def limit_memory(pid: int) -> None:
    """Cap the data memory of the ffmpeg just started as `pid` at `data_limit()` (Linux; a
    no-op where `prlimit` is missing). Set from outside right after the start, so no Python runs
    in the forked child; ffmpeg reads nothing of the file within that moment."""
    if resource is None or not hasattr(resource, "prlimit"):
        return
    limit = data_limit()
    with contextlib.suppress(OSError, ValueError):  # it may already have exited
        resource.prlimit(pid, resource.RLIMIT_DATA, (limit, limit))
