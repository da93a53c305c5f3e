"""Voice playback benchmarks: time to first packet, CPU per stream, packet gaps under load.

Run from the project root:

    .venv/bin/python bench/voice_bench.py            # ≈ 3 min: 10 runs; 1, 10 and 50 guilds
    .venv/bin/python bench/voice_bench.py --quick    # ≈ 1.5 min: 4 runs; 1 and 5 guilds

Everything is local and self-contained: the Discord emulator with its voice side (TLS voice
gateway + UDP receiver that decrypts what the bot sends), an episode host, a feed server, and
`python -m bot` as a child process. Each figure is printed beside its physical floor, plain
ffmpeg running the exact command line the bot runs (`opus_source_spec(...).argv`):

1. Time to first packet: `/play` injected → first RTP *audio* packet at the emulator, "cold"
   (the bot first joins the voice channel) and "warm" (already in the channel, after /stop),
   against ffmpeg spawned → first Ogg page holding audio on its stdout.
2. CPU per stream with N guilds playing at once: utime+stime (/proc/<pid>/stat) of the bot
   process, and of its ffmpeg children, over a fixed window, against N plain ffmpeg transcodes of
   the same episode at default libopus settings (`plain_argv`: same bitrate, 48 kHz stereo Ogg
   Opus, no other encoder option) whose output is drained at real time (as the bot's player
   does, so they transcode at the same rate and are throttled by the same pipe back-pressure).
   The goal figure is (bot process + its ffmpeg) ÷ plain.
3. Packet gaps under that load: inter-arrival of the RTP packets of each stream at the receiver.

See bench/README.md, "Voice playback", for what the figures mean and their caveats.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import platform
import signal
import statistics
import struct
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from voice_proc import (  # noqa: E402
    ChildrenCpuWindow,
    CpuWindow,
    children,
    loadavg,
    status_value,
    thread_cpu,
)

from bot.player.ffmpeg import find_ffmpeg, opus_source_spec  # noqa: E402
from driver.audioserver import AudioServer  # noqa: E402
from driver.feedserver import FeedServer, rss  # noqa: E402
from driver.harness import BotProcess  # noqa: E402
from emulator.voice.receiver import RtpPacket, VoiceReceiver  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
FRAME = 0.020
OPUS_RATE = 48000
BITRATE = 64  # kbps: the bot's default ([voice] bitrate)
PLAY_BATCH = 10  # /stop this many guilds at once after a load run
RAMP = 8.0
"""Seconds over which the N streams of a load run are started, evenly. ffmpeg does its work in
bursts (one every ~8 s at 64 kbps: it refills the 64 KB pipe once the reader has drained it), so
streams started together burst together, and a window's CPU would depend on how many bursts it
happened to catch. Spreading the starts over one burst period smooths the sum."""


# -- helpers ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0–100); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def make_source(path: Path, seconds: int, kind: str) -> Path:
    """The episode: a podcast-like MP3 (44.1 kHz stereo 128 kbps, tone + pink noise, so ffmpeg
    resamples as it does for most real feeds) or the tests' tone (48 kHz stereo 64 kbps)."""
    import subprocess

    if kind == "tone":
        from emulator.voice.tones import make_tone

        return make_tone(path, 440, seconds)
    args = [
        find_ffmpeg(),
        *("-hide_banner", "-loglevel", "error", "-nostdin", "-y"),
        *("-f", "lavfi", "-i", f"sine=f=220:r=44100:d={seconds}"),
        *("-f", "lavfi", "-i", f"anoisesrc=c=pink:r=44100:a=0.08:d={seconds}"),
        *("-filter_complex", "[0:a][1:a]amix=inputs=2,aformat=channel_layouts=stereo"),
        *("-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k", str(path)),
    ]
    subprocess.run(args, check=True, capture_output=True)
    return path


async def read_page(reader: asyncio.StreamReader) -> tuple[int, int]:
    """One Ogg page from `reader`: (granule position, bytes)."""
    header = await reader.readexactly(27)
    if header[:4] != b"OggS":
        raise RuntimeError(f"not an Ogg page: {header[:4]!r}")
    lacing = await reader.readexactly(header[26])
    await reader.readexactly(sum(lacing))
    return struct.unpack_from("<q", header, 6)[0], 27 + len(lacing) + sum(lacing)


async def spawn_ffmpeg(argv: Sequence[str]) -> asyncio.subprocess.Process:
    # limit=4096: the StreamReader pauses the pipe at 8 KB buffered, so ffmpeg runs ahead of the
    # drain by about the same 64 KB pipe + 8 KB buffer as it does ahead of discord.py's reader.
    return await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        limit=4096,
    )


async def end_process(proc: asyncio.subprocess.Process) -> None:
    """Kill, then read stdout to its end so the pipe transport closes with the loop still open."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(proc.communicate(), 5)


async def ffmpeg_first_audio(argv: Sequence[str]) -> float:
    """Seconds from spawning ffmpeg to the first Ogg page holding audio (granule > 0)."""
    t0 = time.monotonic()
    proc = await spawn_ffmpeg(argv)
    try:
        assert proc.stdout is not None
        while True:
            granule, _ = await asyncio.wait_for(read_page(proc.stdout), 20)
            if granule > 0:
                return time.monotonic() - t0
    finally:
        await end_process(proc)


async def drain_realtime(proc: asyncio.subprocess.Process) -> None:
    """Read Ogg pages no faster than the audio they hold plays (what a voice client does)."""
    assert proc.stdout is not None
    start = time.monotonic()
    played = 0  # samples handed out so far; the next page is read when they have played
    with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
        while True:
            await asyncio.sleep(max(0.0, start + played / OPUS_RATE - time.monotonic()))
            granule, _ = await read_page(proc.stdout)
            played = max(played, granule)


def window_packets(receiver: VoiceReceiver, start: int, end: int) -> list[RtpPacket]:
    return [p for p in receiver.packets[start:end] if p.kind != "silence"]


# -- the world -------------------------------------------------------------------------------


@dataclass
class Guild:
    guild_id: int
    text_id: int
    voice_id: int
    member_id: int = 0
    listeners: int = 0


@dataclass
class Stack:
    """Emulator, voice, servers and the bot process; `close()` stops them all."""

    emu: Any
    voice: Any
    audio: AudioServer
    feeds: FeedServer
    bot: BotProcess | None
    guilds: list[Guild]
    episode_url: str
    tmp: Path
    seen_ffmpeg: set[int] = field(default_factory=set)

    @property
    def bot_pid(self) -> int:
        assert self.bot is not None and self.bot.proc is not None
        return self.bot.proc.pid

    def bot_ffmpeg(self) -> list[int]:
        found = children(self.bot_pid)
        self.seen_ffmpeg.update(found)
        return found

    def listen(self, guild: Guild) -> None:
        """A new member (no saved positions, so no resume offer) takes the old one's place."""
        guild.listeners += 1
        user = self.emu.add_user(f"listener-{guild.guild_id}-{guild.listeners}")
        self.emu.add_member(guild.guild_id, user.id)
        self.emu.set_voice_state(guild.guild_id, user.id, guild.voice_id)
        if guild.member_id:
            self.emu.set_voice_state(guild.guild_id, guild.member_id, None)
        guild.member_id = user.id

    async def slash(self, guild: Guild, name: str, **options: Any) -> Any:
        return await self.emu.slash(
            guild.guild_id, guild.text_id, guild.member_id, name, options=options or None
        )

    async def command(self, guild: Guild, name: str, **options: Any) -> str:
        ix = await self.slash(guild, name, **options)
        # Discord (and the emulator) forget an interaction not acknowledged within 3 s.
        first = await ix.wait_response(timeout=5)
        if first["type"] == 5:
            return (await ix.wait_followup(timeout=30)).get("content") or ""
        return (first.get("data") or {}).get("content") or ""

    async def close(self) -> None:
        if self.bot is not None and self.bot.proc is not None:
            with contextlib.suppress(Exception):
                self.bot_ffmpeg()
            if self.bot.proc.returncode is None:
                try:
                    await self.bot.stop(signal.SIGTERM, timeout=10)
                except (AssertionError, Exception):
                    with contextlib.suppress(Exception):
                        await self.bot.kill()
        for pid in self.seen_ffmpeg:  # orphans of a killed bot: only the pids it started
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for stop in (self.feeds.stop, self.audio.stop, self.emu.stop):
            with contextlib.suppress(Exception):
                await stop()


async def start_stack(
    n_guilds: int, source: Path, tmp: Path, bot_root: Path | None, dave: int = 1
) -> Stack:
    from emulator import ChannelType, DiscordEmulator

    emu = DiscordEmulator(token=TOKEN)
    await emu.start(host="127.0.0.1", port=0)
    audio = AudioServer()
    feeds = FeedServer()
    stack = Stack(emu, None, audio, feeds, None, [], "", tmp)
    try:
        stack.voice = await emu.enable_voice(tmp / "certs")
        stack.voice.dave_protocol_version = dave
        await audio.start()
        await feeds.start()
        for n in range(n_guilds):
            guild = emu.add_guild(f"Bench {n}")
            text = emu.add_channel(guild.id, "episodes", ChannelType.TEXT)
            voice = emu.add_channel(guild.id, "Listening room", ChannelType.VOICE)
            stack.guilds.append(Guild(guild.id, text.id, voice.id))
        stack.episode_url = audio.add("episode.mp3", source)
        item = {
            "guid": "bench-1",
            "title": "Bench episode",
            "pubDate": "Wed, 01 Jan 2025 00:00:00 GMT",
            "enclosure": {"url": stack.episode_url, "length": "1000", "type": "audio/mpeg"},
            "duration": "600",
            "description": "<p>Benchmark audio.</p>",
        }
        feeds.set_feed("/bench.rss", rss("Bench", [item]))
        config = tmp / "config.toml"
        config.write_text(
            textwrap.dedent(
                f"""
                [discord]
                guild_ready_timeout = 0.1
                [database]
                path = "{tmp / "narrator.sqlite3"}"
                [logging]
                level = "INFO"
                [announce]
                allow_private_addresses = true
                first_poll_backlog = 1
                [voice]
                idle_seconds = 3600
                alone_seconds = 3600
                [[feeds]]
                url = "{feeds.url("/bench.rss")}"
                channel_ids = [{", ".join(str(g.text_id) for g in stack.guilds)}]
                poll_seconds = 3600
                """
            )
        )
        # another tree's bot (a baseline): its package first on the path, not the working dir's
        env = {"PYTHONSAFEPATH": "1", "PYTHONPATH": str(bot_root)} if bot_root else None
        stack.bot = BotProcess(emu, config, env=env)
        await stack.bot.start()
        # every guild subscribes: /play only finds episodes of the feeds its server follows
        await emu.wait_until(lambda: all(emu.messages(g.text_id) for g in stack.guilds), timeout=60)
    except BaseException:
        await stack.close()
        raise
    return stack


# -- 1. time to first packet -----------------------------------------------------------------


@dataclass
class FirstPacket:
    response: float  # /play injected → the bot's first interaction callback (defer)
    first_rtp: float  # → first RTP packet of any kind (discord.py sends OpusHead/OpusTags first)
    first_audio: float  # → first RTP packet carrying audio


async def timed_play(stack: Stack, guild: Guild, timeout: float = 30) -> FirstPacket:
    receiver = stack.voice.receiver(guild.guild_id)
    mark = len(receiver.packets)
    t0 = time.monotonic()
    ix = await stack.slash(guild, "play", episode="latest")
    responded: list[float] = []

    async def stamp() -> None:
        await ix.wait_response(timeout=timeout)
        responded.append(time.monotonic())

    stamper = asyncio.create_task(stamp())
    first_rtp: float | None = None
    scan = mark
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        packets = receiver.packets
        for packet in packets[scan:]:
            first_rtp = packet.arrival if first_rtp is None else first_rtp
            if packet.kind == "audio":
                await stamper
                rtp = packet.arrival if first_rtp is None else first_rtp
                return FirstPacket(responded[0] - t0, rtp - t0, packet.arrival - t0)
        scan = len(packets)
        await asyncio.sleep(0.002)
    stamper.cancel()
    raise RuntimeError(f"no audio within {timeout} s of /play in guild {guild.guild_id}")


async def stop_playing(stack: Stack, guild: Guild) -> None:
    answer = await stack.command(guild, "stop")
    if "Stopped" not in answer:
        raise RuntimeError(f"/stop answered {answer!r}")


async def first_packet_bench(stack: Stack, runs: int) -> dict[str, list[float]]:
    argv = opus_source_spec(stack.episode_url, executable=find_ffmpeg(), bitrate=BITRATE).argv
    results: dict[str, list[float]] = {
        k: [] for k in ("floor", "cold", "cold_rtp", "cold_resp", "warm", "warm_rtp", "warm_resp")
    }
    await ffmpeg_first_audio(argv)  # warm the page cache and the server
    # Cold: a guild the bot has not joined yet; warm: the first guild, already in the channel.
    # Interleaved with the floor so that background load hits both alike.
    for n in range(runs):
        guild = stack.guilds[n]
        stack.listen(guild)
        await asyncio.sleep(0.3)
        results["floor"].append(await ffmpeg_first_audio(argv))
        cold = await timed_play(stack, guild)
        results["cold"].append(cold.first_audio)
        results["cold_rtp"].append(cold.first_rtp)
        results["cold_resp"].append(cold.response)
        await asyncio.sleep(0.3)
        await stop_playing(stack, guild)
        await asyncio.sleep(0.3)
    warm_guild = stack.guilds[0]
    for _ in range(runs):
        await asyncio.sleep(0.3)
        results["floor"].append(await ffmpeg_first_audio(argv))
        warm = await timed_play(stack, warm_guild)
        results["warm"].append(warm.first_audio)
        results["warm_rtp"].append(warm.first_rtp)
        results["warm_resp"].append(warm.response)
        await asyncio.sleep(0.3)
        await stop_playing(stack, warm_guild)
    return results


# -- 2 and 3. load ---------------------------------------------------------------------------


@dataclass
class LoadResult:
    streams: int
    window: float
    bot_cpu: float  # CPU seconds of the bot process in the window
    bot_main_cpu: float  # of which its main thread (the asyncio loop: gateway, voice websockets)
    bot_ffmpeg_cpu: float  # of its ffmpeg children
    base_cpu: float  # of N plain ffmpeg processes, drained at real time
    bench_cpu_bot: float  # this process (emulator + receivers) during the bot window
    bench_cpu_base: float
    audio_seconds: float  # audio received in the bot window, all streams
    rss_kb: int
    threads: int
    gaps: list[dict[str, float]]
    load: str
    gone: int  # plain ffmpeg processes that exited inside the window (their last ticks are lost)
    restarted: int  # the bot's ffmpeg processes started inside the window (counted exactly)
    play_failures: int  # /play that got no answer (retried once)


def stream_gaps(receiver: VoiceReceiver, start: int, end: int) -> dict[str, float]:
    packets = window_packets(receiver, start, end)
    gaps = [b.arrival - a.arrival for a, b in itertools.pairwise(packets)]
    return {
        "n": len(gaps),
        "p50": percentile(gaps, 50),
        "p99": percentile(gaps, 99),
        "max": max(gaps, default=float("nan")),
        "late": sum(1 for g in gaps if g > 2 * FRAME),  # arrived ≥ 1 frame late
        "audio": sum(1 for p in packets if p.kind == "audio") * FRAME,
        "e2ee": sum(1 for p in packets if p.kind == "audio" and p.e2ee),
    }


async def idle_cpu(stack: Stack, window: float) -> float:
    """CPU share of one core the bot uses with nothing playing (gateway, voice heartbeats)."""
    cpu = CpuWindow([stack.bot_pid])
    cpu.start()
    await asyncio.sleep(window)
    return cpu.stop() / window


async def bot_load(stack: Stack, streams: int, warmup: float, window: float) -> dict[str, Any]:
    guilds = stack.guilds[:streams]
    for guild in guilds:
        stack.listen(guild)
    await asyncio.sleep(0.5)
    spacing = RAMP / streams if streams > 1 else 0.0
    answers: list[asyncio.Task[str]] = []
    for guild in guilds:
        answers.append(asyncio.create_task(stack.command(guild, "play", episode="latest")))
        await asyncio.sleep(spacing)
    outcomes = await asyncio.gather(*answers, return_exceptions=True)
    failed = [g for g, a in zip(guilds, outcomes, strict=True) if "Playing" not in str(a)]
    for guild in failed:  # e.g. the voice join outlasted the 3 s interaction deadline: again
        answer = ""
        for _ in range(5):  # a join still in progress answers "Already connected": wait
            await asyncio.sleep(2.0)
            with contextlib.suppress(TimeoutError):
                answer = await stack.command(guild, "play", episode="latest")
            if "Playing" in answer:
                break
        else:
            raise RuntimeError(f"/play answered {answer!r} in guild {guild.guild_id}")
    receivers = [stack.voice.receiver(g.guild_id) for g in guilds]
    await asyncio.sleep(warmup)
    kids = stack.bot_ffmpeg()
    if len(kids) != streams:
        raise RuntimeError(f"{len(kids)} ffmpeg children for {streams} streams")
    marks = [len(r.packets) for r in receivers]
    bot, bench = CpuWindow([stack.bot_pid]), CpuWindow([os.getpid()])
    ffmpeg = ChildrenCpuWindow(stack.bot_pid)  # exact even if a stream's ffmpeg is replaced
    t0 = time.monotonic()
    threads_before = thread_cpu(stack.bot_pid)
    for w in (bot, ffmpeg, bench):
        w.start()
    await asyncio.sleep(window)
    for w in (bot, ffmpeg, bench):
        w.stop()
    threads_after = thread_cpu(stack.bot_pid)
    elapsed = time.monotonic() - t0
    main = threads_after.get(stack.bot_pid, 0.0) - threads_before.get(stack.bot_pid, 0.0)
    ends = [len(r.packets) for r in receivers]
    gaps = [stream_gaps(r, a, b) for r, a, b in zip(receivers, marks, ends, strict=True)]
    result = {
        "window": elapsed,
        "bot_cpu": bot.total,
        "bot_main_cpu": main,
        "bot_ffmpeg_cpu": ffmpeg.total,
        "bench_cpu": bench.total,
        "audio_seconds": sum(g["audio"] for g in gaps),
        "rss_kb": status_value(stack.bot_pid, "VmRSS"),
        "threads": status_value(stack.bot_pid, "Threads"),
        "gaps": gaps,
        "load": loadavg(),
        "restarted": ffmpeg.new,
        "play_failures": len(failed),
    }
    for at in range(0, streams, PLAY_BATCH):
        await asyncio.gather(*(stop_playing(stack, g) for g in guilds[at : at + PLAY_BATCH]))
    await asyncio.sleep(1.0)
    return result


def plain_argv(source: str, bitrate: int = BITRATE) -> list[str]:
    """A plain ffmpeg transcode of `source` at default libopus settings: the goal's yardstick.

    Only what any Ogg Opus transcode for Discord needs (one audio stream, 48 kHz stereo, the
    bitrate); libopus keeps its defaults (complexity 10, `audio`, 20 ms frames, VBR, no FEC)."""
    return [
        find_ffmpeg(),
        *("-nostdin", "-loglevel", "warning", "-i", source, "-map", "0:a:0", "-map_metadata", "-1"),
        *("-c:a", "libopus", "-b:a", f"{bitrate}k", "-ar", "48000", "-ac", "2", "-f", "opus"),
        "pipe:1",
    ]


async def ffmpeg_load(url: str, streams: int, warmup: float, window: float) -> dict[str, float]:
    argv = plain_argv(url)
    procs: list[asyncio.subprocess.Process] = []
    drains: list[asyncio.Task[None]] = []
    spacing = RAMP / streams if streams > 1 else 0.0
    try:
        for _ in range(streams):
            proc = await spawn_ffmpeg(argv)
            procs.append(proc)
            drains.append(asyncio.create_task(drain_realtime(proc)))
            await asyncio.sleep(spacing)
        await asyncio.sleep(warmup)
        ffmpeg, bench = CpuWindow([p.pid for p in procs]), CpuWindow([os.getpid()])
        t0 = time.monotonic()
        ffmpeg.start()
        bench.start()
        await asyncio.sleep(window)
        ffmpeg.stop()
        bench.stop()
        return {
            "window": time.monotonic() - t0,
            "cpu": ffmpeg.total,
            "bench_cpu": bench.total,
            "gone": ffmpeg.gone,
        }
    finally:
        for task in drains:
            task.cancel()
        await asyncio.gather(*drains, return_exceptions=True)
        await asyncio.gather(*(end_process(p) for p in procs))


def unthrottled_ffmpeg(argv: Sequence[str], seconds: int, repeat: int = 3) -> float:
    """CPU seconds per second of audio when ffmpeg runs `argv` (reading a local file) flat out
    (median of `repeat`), its output to /dev/null; exact (wait4)."""
    import subprocess

    costs = []
    for _ in range(repeat):
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
        costs.append((usage.ru_utime + usage.ru_stime) / seconds)
    return statistics.median(costs)


# -- report ----------------------------------------------------------------------------------


def first_packet_table(r: dict[str, list[float]]) -> str:
    floor_med, floor_p90 = statistics.median(r["floor"]), percentile(r["floor"], 90)
    rows = [
        "| path | n | median ms | p90 ms | min ms | added vs floor (median) ms | ÷ floor |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| ffmpeg alone: spawn → first audio page (floor) | {len(r['floor'])} | "
        f"{ms(floor_med)} | {ms(floor_p90)} | {ms(min(r['floor']))} | – | 1.00 |",
    ]
    for key, label in (
        ("warm_resp", "warm /play → defer callback"),
        ("warm_rtp", "warm /play → first RTP packet (OpusHead)"),
        ("warm", "**warm /play → first audio packet**"),
        ("cold_resp", "cold /play → defer callback"),
        ("cold_rtp", "cold /play → first RTP packet (OpusHead)"),
        ("cold", "**cold /play → first audio packet** (incl. voice join)"),
    ):
        values = r[key]
        med = statistics.median(values)
        added = f"{ms(med - floor_med)}" if key in ("warm", "cold") else "–"
        ratio = f"{med / floor_med:.2f}" if key in ("warm", "cold") else "–"
        rows.append(
            f"| {label} | {len(values)} | {ms(med)} | {ms(percentile(values, 90))} | "
            f"{ms(min(values))} | {added} | {ratio} |"
        )
    return "\n".join(rows)


def load_table(results: list[LoadResult], idle: float, flat: float) -> str:
    rows = [
        "| streams | window s | bot CPU %/stream | (main thread) | bot's ffmpeg %/stream "
        "| plain ffmpeg %/stream | **(bot + its ffmpeg) ÷ plain** "
        "| bot ÷ plain ffmpeg | (bot − idle) ÷ plain | bot ÷ flat-out ffmpeg "
        "| bot's ffmpeg ÷ plain | bench CPU % (bot / base) | bot RSS MB | threads | load avg |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        n, w = r.streams, r.window
        bot = 100 * r.bot_cpu / w / n
        bot_ff = 100 * r.bot_ffmpeg_cpu / w / n
        base = 100 * r.base_cpu / w / n or float("nan")
        net = 100 * max(0.0, r.bot_cpu / w - idle) / n
        rows.append(
            f"| {n} | {w:.1f} | {bot:.2f} | {100 * r.bot_main_cpu / w / n:.2f} | {bot_ff:.2f} | "
            f"{base:.2f} | **{(bot + bot_ff) / base:.2f}** | {bot / base:.2f} | "
            f"{net / base:.2f} | {bot / (100 * flat):.2f} | {bot_ff / base:.2f} | "
            f"{100 * r.bench_cpu_bot / w:.0f} / "
            f"{100 * r.bench_cpu_base / w:.0f} | {r.rss_kb / 1024:.0f} | {r.threads} | {r.load} |"
        )
    return "\n".join(rows)


def gaps_table(results: list[LoadResult]) -> str:
    rows = [
        "| streams | packets | audio received ÷ window | p50 ms (median stream) | "
        "p99 ms (median stream) | p99 ms (worst stream) | max gap ms | gaps > 40 ms "
        "| end-to-end encrypted (DAVE) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        g = r.gaps
        n = sum(int(s["n"]) for s in g)
        rows.append(
            f"| {r.streams} | {n} | {r.audio_seconds / (r.window * r.streams):.3f} | "
            f"{ms(statistics.median(s['p50'] for s in g))} | "
            f"{ms(statistics.median(s['p99'] for s in g))} | {ms(max(s['p99'] for s in g))} | "
            f"{ms(max(s['max'] for s in g))} | {sum(int(s['late']) for s in g)} | "
            f"{sum(s['e2ee'] for s in g) * FRAME / max(r.audio_seconds, 1e-9):.0%} |"
        )
    return "\n".join(rows)


def machine_notes() -> str:
    import discord

    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}, Python "
        f"{platform.python_version()}, discord.py {discord.__version__}, "
        f"ffmpeg {Path(find_ffmpeg()).name}, load avg {loadavg()}"
    )


# -- main ------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    levels = [int(x) for x in args.streams.split(",") if x.strip()]
    guilds_needed = max([*levels, args.runs])
    episode_seconds = int(RAMP + args.warmup + args.window + 30)
    print(f"# voice bench — {time.strftime('%Y-%m-%d %H:%M')} — {machine_notes()}")
    print(
        f"# runs={args.runs} streams={levels} warmup={args.warmup}s window={args.window}s "
        f"source={args.source} dave={args.dave} bot={args.bot_root or ROOT}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="voice-bench-") as tmpdir:
        tmp = Path(tmpdir)
        source = make_source(tmp / "episode.mp3", episode_seconds, args.source)
        flat = unthrottled_ffmpeg(plain_argv(str(source)), episode_seconds)
        spec = opus_source_spec(str(source), executable=find_ffmpeg(), allow_files=True)
        flat_bot = unthrottled_ffmpeg(spec.argv, episode_seconds)
        print(
            f"# ffmpeg flat out on the file: {100 * flat:.2f}% of a core per real-time stream "
            f"at default libopus settings, {100 * flat_bot:.2f}% with this tree's arguments"
        )
        began = time.monotonic()
        stack = await start_stack(guilds_needed, source, tmp, args.bot_root, args.dave)
        try:
            print(f"# bot up with {guilds_needed} guilds in {time.monotonic() - began:.1f} s")
            if args.runs:
                print("\n## Time to first packet\n", flush=True)
                fp = await first_packet_bench(stack, args.runs)
                print(first_packet_table(fp), flush=True)
            if levels:
                print("\n## Load\n", flush=True)
                idle = await idle_cpu(stack, min(args.window, 5.0))
                print(f"# bot idle (in {args.runs} voice channels): {100 * idle:.2f}% of a core")
                results = []
                for n in levels:
                    b = await bot_load(stack, n, args.warmup, args.window)
                    f = await ffmpeg_load(stack.episode_url, n, args.warmup, args.window)
                    # Each side is scaled to the same window length.
                    scale = b["window"] / f["window"]
                    results.append(
                        LoadResult(
                            streams=n,
                            window=b["window"],
                            bot_cpu=b["bot_cpu"],
                            bot_main_cpu=b["bot_main_cpu"],
                            bot_ffmpeg_cpu=b["bot_ffmpeg_cpu"],
                            base_cpu=f["cpu"] * scale,
                            bench_cpu_bot=b["bench_cpu"],
                            bench_cpu_base=f["bench_cpu"] * scale,
                            audio_seconds=b["audio_seconds"],
                            rss_kb=b["rss_kb"],
                            threads=b["threads"],
                            gaps=b["gaps"],
                            load=b["load"],
                            gone=int(f["gone"]),
                            restarted=b["restarted"],
                            play_failures=b["play_failures"],
                        )
                    )
                    print(
                        f"# {n} streams done ({time.monotonic() - began:.0f} s elapsed)",
                        flush=True,
                    )
                print("\nCPU (% of one core, per stream):\n")
                print(load_table(results, idle, flat))
                print("\nPacket inter-arrival at the receiver, over the same window:\n")
                print(gaps_table(results))
                for r in results:
                    if r.play_failures:
                        print(
                            f"\n! {r.play_failures} of {r.streams} /play got no answer (the bot "
                            "joins voice before it defers; a join over 3 s loses the interaction); "
                            "retried"
                        )
                for r in results:
                    if r.restarted:
                        print(
                            f"\n! {r.restarted} of the bot's ffmpeg processes started inside the "
                            f"{r.streams}-stream window (a stream restarted; CPU still exact)"
                        )
                if any(r.gone for r in results):
                    print("\n! plain ffmpeg processes exited inside a window; CPU is undercounted")
        except BaseException:
            if stack.bot is not None:
                tail = "\n".join(stack.bot.lines[-60:])
                print(f"\n# the bot's last log lines:\n{tail}", file=sys.stderr)
            raise
        finally:
            await stack.close()
        print(f"\n# total {time.monotonic() - began:.0f} s", flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=10, help="first-packet runs (cold and warm)")
    parser.add_argument("--streams", default="1,10,50", help="comma-separated guild counts")
    parser.add_argument("--window", type=float, default=16.0, help="CPU window, seconds")
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds before the window")
    parser.add_argument("--source", choices=("podcast", "tone"), default="podcast")
    parser.add_argument("--quick", action="store_true", help="4 runs; 1 and 5 streams; 8 s")
    parser.add_argument(
        "--dave",
        type=int,
        choices=(0, 1),
        default=1,
        help="the emulator's DAVE protocol version: 1 (end-to-end encryption, as on Discord) or 0",
    )
    parser.add_argument(
        "--bot-root",
        type=Path,
        default=None,
        help="run `python -m bot` from this tree (e.g. `git archive` of a baseline commit)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.streams, args.window, args.warmup = 4, "1,5", 8.0, 3.0
    return args


if __name__ == "__main__":
    try:
        asyncio.run(main(parse_args()))
    except KeyboardInterrupt:
        print("\ninterrupted; all processes stopped", file=sys.stderr)
        sys.exit(130)
