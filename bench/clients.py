"""What the scale and memory benchmarks share: the bare-client process and /proc readings."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from emulator import DiscordEmulator

BENCH = Path(__file__).resolve().parent
TICKS = os.sysconf("SC_CLK_TCK")


def compile_bot() -> None:
    """Compile the bot's modules into the tree's __pycache__ (ignored by git) before measuring, so
    the bot runs from bytecode as an installed bot does (pip compiles at install; the Dockerfile's
    image too). Without it, with PYTHONDONTWRITEBYTECODE set (this machine), `python -m bot` would
    compile its ~120 modules at every start: ≈2 MB more RSS and ≈0.1 s more CPU, a cost no
    deployment pays. scripts/test.sh does the same for the tests."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "bot", "cogs"],
        cwd=BENCH.parent,
        stdout=subprocess.DEVNULL,
        check=True,
    )


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (peak resident) of a process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


class BareClient:
    """bench/bare_client.py as a child process: a discord.py client that does nothing."""

    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.proc: asyncio.subprocess.Process | None = None
        self.spawned_at = 0.0

    async def start(self) -> float:
        """Spawn it and wait until it is ready; returns the seconds that took."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DISCORD_")}
        env.update(
            DISCORD_TOKEN=self.emu.token,
            DISCORD_API_BASE=self.emu.api_base,
            DISCORD_GATEWAY_URL=self.emu.gateway_url,
            PYTHONUNBUFFERED="1",
        )
        self.spawned_at = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(BENCH / "bare_client.py"),
            cwd=BENCH.parent,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 120)
        if b"ready" not in line:
            raise RuntimeError(f"the bare client did not get ready: {line!r}")
        return time.perf_counter() - self.spawned_at

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
