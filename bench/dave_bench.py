"""What DAVE (end-to-end encrypted voice) costs the bot: time to first packet and CPU per stream,
with DAVE on and off, side by side.

Run from the project root:

    .venv/bin/python bench/dave_bench.py            # ≈ 4 min: 2 rounds of off/on, 10 streams
    .venv/bin/python bench/dave_bench.py --quick    # ≈ 2 min: 1 round, 5 streams

The stack is voice_bench.py's (emulator + voice side, episode host, feed server, `python -m bot`),
one per configuration; every guild has a member in its voice channel, who is a DAVE listener
(a davey session in the emulator) when DAVE is on. Rounds alternate off and on so that background
load hits both alike (and which goes first alternates). Figures:

1. Time to first packet, cold (the bot joins the channel): `/play` → first audio packet, and with
   DAVE → first *end-to-end encrypted* audio packet (the bot encrypts once it has processed the
   Welcome; until then discord.py sends plain Opus).
2. CPU per stream with N streams playing: the bot process (utime+stime over a window; davey's
   `encrypt_opus` runs there, on the player thread) and its ffmpeg children (unchanged by DAVE).
   The goal: DAVE adds < 10 % CPU per stream.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from voice_bench import (  # noqa: E402
    Guild,
    Stack,
    bot_load,
    make_source,
    start_stack,
    stop_playing,
)


async def first_packets(stack: Stack, guild: Guild, timeout: float = 30) -> tuple[float, float]:
    """(/play → first audio packet, → first end-to-end encrypted audio packet; nan without)."""
    receiver = stack.voice.receiver(guild.guild_id)
    mark = len(receiver.packets)
    t0 = time.monotonic()
    ix = await stack.slash(guild, "play", episode="latest")
    first: float | None = None
    encrypted = float("nan")
    dave = stack.voice.dave_protocol_version > 0
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        audio = receiver.audio_packets(mark)
        if audio and first is None:
            first = audio[0].arrival - t0
        e2ee = next((p for p in audio if p.e2ee), None)
        if e2ee is not None:
            encrypted = e2ee.arrival - t0
        if first is not None and (not dave or e2ee is not None):
            await ix.wait_response(timeout=timeout)
            return first, encrypted
        await asyncio.sleep(0.002)
    raise RuntimeError(f"no {'encrypted ' if dave else ''}audio within {timeout} s of /play")


async def run_config(
    dave: int, source: Path, tmp: Path, runs: int, streams: int, warmup: float, window: float
) -> dict[str, Any]:
    stack = await start_stack(max(runs, streams), source, tmp, None)
    stack.voice.dave_protocol_version = dave
    try:
        first: list[float] = []
        encrypted: list[float] = []
        for guild in stack.guilds[:runs]:
            stack.listen(guild)
            await asyncio.sleep(0.3)
            audio, e2ee = await first_packets(stack, guild)
            first.append(audio)
            encrypted.append(e2ee)
            await asyncio.sleep(0.3)
            await stop_playing(stack, guild)
            await asyncio.sleep(0.3)
        load = await bot_load(stack, streams, warmup, window)
        receivers = [stack.voice.receiver(g.guild_id) for g in stack.guilds[:streams]]
        e2ee_share = statistics.mean(r.e2ee_fraction() for r in receivers)
        if dave and e2ee_share < 0.95:
            raise RuntimeError(f"only {e2ee_share:.0%} of the load run was end-to-end encrypted")
        return {
            "first": first,
            "encrypted": encrypted,
            "bot": load["bot_cpu"] / load["window"] / streams,
            "ffmpeg": load["bot_ffmpeg_cpu"] / load["window"] / streams,
            "e2ee": e2ee_share,
        }
    finally:
        await stack.close()


def median(values: list[float]) -> float:
    real = [v for v in values if v == v]
    return statistics.median(real) if real else float("nan")


def table(results: dict[int, list[dict[str, Any]]], streams: int) -> str:
    def pick(dave: int, key: str) -> list[float]:
        out: list[float] = []
        for r in results[dave]:
            out.extend(r[key] if isinstance(r[key], list) else [r[key]])
        return out

    off_first, on_first = median(pick(0, "first")), median(pick(1, "first"))
    on_enc = median(pick(1, "encrypted"))
    off_bot, on_bot = median(pick(0, "bot")), median(pick(1, "bot"))
    off_ff, on_ff = median(pick(0, "ffmpeg")), median(pick(1, "ffmpeg"))
    off_total, on_total = off_bot + off_ff, on_bot + on_ff
    rows = [
        "| figure | DAVE off | DAVE on | on ÷ off |",
        "|---|---:|---:|---:|",
        f"| cold /play → first audio packet (ms, median of {len(pick(0, 'first'))}) "
        f"| {off_first * 1000:.1f} | {on_first * 1000:.1f} | {on_first / off_first:.2f} |",
        f"| cold /play → first end-to-end encrypted packet (ms) | – | {on_enc * 1000:.1f} "
        f"| {on_enc / off_first:.2f} |",
        f"| bot process CPU per stream, {streams} streams (% of a core) "
        f"| {off_bot * 100:.2f} | {on_bot * 100:.2f} | {on_bot / off_bot:.2f} |",
        f"| its ffmpeg per stream (% of a core) | {off_ff * 100:.2f} | {on_ff * 100:.2f} "
        f"| {on_ff / off_ff:.2f} |",
        f"| **bot + ffmpeg per stream** (% of a core) | {off_total * 100:.2f} "
        f"| {on_total * 100:.2f} | **{on_total / off_total:.2f}** |",
        f"| audio end-to-end encrypted in the load window | {median(pick(0, 'e2ee')):.0%} "
        f"| {median(pick(1, 'e2ee')):.0%} | |",
    ]
    return "\n".join(rows)


async def main(args: argparse.Namespace) -> None:
    rounds, runs, streams, window = (
        (1, 3, 5, 8.0) if args.quick else (args.rounds, args.runs, args.streams, args.window)
    )
    results: dict[int, list[dict[str, Any]]] = {0: [], 1: []}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dave-bench-") as tmpdir:
        tmp = Path(tmpdir)
        source = make_source(tmp / "episode.mp3", 600, "podcast")
        for n in range(rounds):
            for dave in (0, 1) if n % 2 == 0 else (1, 0):  # alternate who goes first
                sub = tmp / f"r{n}-d{dave}"
                sub.mkdir()
                result = await run_config(dave, source, sub, runs, streams, 4.0, window)
                results[dave].append(result)
                print(
                    f"round {n + 1} dave={dave}: first "
                    f"{' '.join(f'{v * 1000:.0f}' for v in result['first'])} ms, "
                    f"encrypted {median(result['encrypted']) * 1000:.0f} ms, bot "
                    f"{result['bot'] * 100:.2f} %/stream, ffmpeg {result['ffmpeg'] * 100:.2f} "
                    f"%/stream, e2ee {result['e2ee']:.0%}",
                    flush=True,
                )
    print()
    print(table(results, streams))
    print(
        f"\n{rounds} rounds, {runs} cold plays and {streams} streams each, "
        f"{window:.0f} s windows; {time.monotonic() - started:.0f} s in all"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=2, help="off/on rounds")
    parser.add_argument("--runs", type=int, default=5, help="cold plays per configuration")
    parser.add_argument("--streams", type=int, default=10, help="streams in the CPU window")
    parser.add_argument("--window", type=float, default=12.0, help="CPU window, seconds")
    parser.add_argument("--quick", action="store_true", help="1 round, 3 plays, 5 streams, 8 s")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
