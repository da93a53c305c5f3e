"""Runs the unmodified bot as a child process against the emulator, as the README's command would."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

if TYPE_CHECKING:
    from emulator import DiscordEmulator

ROOT = Path(__file__).resolve().parents[1]
LOG_LINE_LIMIT = 16 * 1024 * 1024
READER_GRACE = 5.0
"""Seconds the log reader may run on after the bot exits: a child the bot left behind (ffmpeg)
holds its end of the pipe, and must not hold a test's teardown with it."""


def write_config(
    directory: Path, extra: str = "", *, db_name: str = "narrator.sqlite3", level: str = "DEBUG"
) -> Path:
    path = directory / "config.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [discord]
            guild_ready_timeout = 0.1
            [database]
            path = "{directory / db_name}"
            [logging]
            level = "{level}"
            """
        )
        + textwrap.dedent(extra)
    )
    return path


class BotProcess:
    """One run of `python -m bot`; its stderr is kept so tests can read the logs."""

    def __init__(
        self,
        emu: DiscordEmulator,
        config: Path,
        *,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.emu = emu
        self.config = config
        self.args = args
        self.extra_env = env or {}
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._reader: asyncio.Task[None] | None = None
        self._line_added = asyncio.Condition()

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def environment(self) -> dict[str, str]:
        # The runner's own DATABASE_URL must not move a test's bot off its SQLite file.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("DISCORD_") and k != "DATABASE_URL"
        }
        env.update(
            DISCORD_TOKEN=self.emu.token,
            DISCORD_API_BASE=self.emu.api_base,
            DISCORD_GATEWAY_URL=self.emu.gateway_url,
            PYTHONUNBUFFERED="1",
        )
        ca_file = getattr(self.emu, "voice_ca_file", None)
        if ca_file is not None:  # trust the emulator's voice gateway certificate
            env["SSL_CERT_FILE"] = str(ca_file)
        env.update(self.extra_env)
        return env

    async def start(self, *, wait_ready: bool = True) -> BotProcess:
        identifies = self.emu.identify_count
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(self.config),
            *self.args,
            cwd=ROOT,
            env=self.environment(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            # DEBUG lines carry whole REST bodies; past the default 64 KiB a line would end the
            # reader, and the bot would then block writing its log
            limit=LOG_LINE_LIMIT,
            # its own process group, as a supervisor's cgroup: whatever the bot starts (ffmpeg,
            # narration workers) can be found, and ended, once the bot is gone (`reap`)
            start_new_session=True,
        )
        self._reader = asyncio.create_task(self._read())
        if wait_ready:
            await self.wait_for(lambda: self.emu.identify_count > identifies, "the bot to connect")
            await self.emu.wait_until_ready(timeout=30)
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            async with self._line_added:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._line_added.notify_all()

    async def wait_for_log(self, text: str, timeout: float = 20) -> str:
        async def found() -> str:
            async with self._line_added:
                while True:
                    for line in self.lines:
                        if text in line:
                            return line
                    await self._line_added.wait()

        try:
            return await asyncio.wait_for(found(), timeout)
        except TimeoutError:
            raise AssertionError(f"log never said {text!r}; log was:\n{self.log}") from None

    async def wait_for(self, condition, what: str, timeout: float = 30) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if self.proc is not None and self.proc.returncode is not None:
                raise AssertionError(
                    f"bot exited ({self.proc.returncode}) waiting for {what}:\n{self.log}"
                )
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; log:\n{self.log}")
            await asyncio.sleep(0.05)

    async def wait_exit(self, timeout: float = 30) -> int:
        assert self.proc is not None
        try:
            code = await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"bot did not exit within {timeout} s; log:\n{self.log}") from None
        if self._reader is not None:  # the rest of the log, unless a left-behind child holds it
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._reader), READER_GRACE)
        return code

    async def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await self.wait_exit(timeout)

    async def kill(self) -> int:
        return await self.stop(signal.SIGKILL)

    def children_alive(self) -> list[int]:
        """Processes the bot started that are still running (its process group but itself)."""
        assert self.proc is not None
        return [pid for pid in group_members(self.proc.pid) if pid != self.proc.pid]

    async def reap(self) -> None:
        """End of a test: SIGKILL the bot if it still runs, then anything it left behind."""
        if self.proc is None:
            return
        if self.proc.returncode is None:
            await self.kill()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self._reader is not None and not self._reader.done():
            try:
                await asyncio.wait_for(self._reader, READER_GRACE)
            except TimeoutError:
                self.lines.append("(harness: the log pipe stayed open after the bot was reaped)")


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group `pgid`."""
    return [pid for pid, state, _ppid, pgrp in process_table() if pgrp == pgid and state != "Z"]


def process_table() -> Iterator[tuple[int, str, int, int]]:
    """(pid, state, parent pid, process group) of every process, read from /proc (Linux)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # it exited meanwhile
            continue
        state, ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        yield int(entry), state, int(ppid), int(pgrp)


def shard_spec(index: int, processes: int, shards_each: int) -> str:
    """NARRATOR_SHARDS for process `index` of a cluster: its own run of `shards_each` shards."""
    first = index * shards_each
    return f"{first}-{first + shards_each - 1}/{processes * shards_each}"


class Cluster:
    """N bot processes on one database, each running `shards_each` of the bot's shards (as a
    host runs `NARRATOR_SHARDS=0-1/6 python -m bot`, `NARRATOR_SHARDS=2-3/6 ...`)."""

    def __init__(
        self,
        emu: DiscordEmulator,
        config: Path,
        *,
        processes: int,
        shards_each: int,
        env: dict[str, str] | None = None,
    ) -> None:
        self.emu = emu
        self.processes = [
            BotProcess(
                emu,
                config,
                env={**(env or {}), "NARRATOR_SHARDS": shard_spec(i, processes, shards_each)},
            )
            for i in range(processes)
        ]
        self.shards_each = shards_each
        self.starts = 0  # every start, restarts included (a restart is a new BotProcess)
        self.past_logs: list[str] = []  # logs of processes replaced by restart()

    @property
    def shard_count(self) -> int:
        return len(self.processes) * self.shards_each

    def shards_of(self, index: int) -> list[int]:
        first = index * self.shards_each
        return list(range(first, first + self.shards_each))

    def index_of_guild(self, guild_id: int) -> int:
        """Which process owns a guild: the one running the guild's shard."""
        return ((guild_id >> 22) % self.shard_count) // self.shards_each

    async def start(self) -> Cluster:
        for index in range(len(self.processes)):
            await self._launch(index)
        for index in range(len(self.processes)):
            await self.wait_connected(index)
        return self

    async def start_one(self, index: int) -> BotProcess:
        """Only process `index` (the others may be started later, or never)."""
        await self._launch(index)
        await self.wait_connected(index)
        return self.processes[index]

    async def _launch(self, index: int) -> None:
        self.starts += 1
        await self.processes[index].start(wait_ready=False)

    async def wait_connected(self, index: int, timeout: float = 60) -> None:
        bot = self.processes[index]
        wanted = self.shards_of(index)
        await bot.wait_for(
            lambda: all(s in self.emu.live_shards() for s in wanted),
            f"process {index} to connect shards {wanted}",
            timeout=timeout,
        )
        await bot.wait_for_log("Logged in as", timeout=timeout)

    async def restart(self, index: int, *, kill: bool = True) -> BotProcess:
        """SIGKILL (or SIGTERM) process `index` and start a new one on the same shards."""
        old = self.processes[index]
        if kill:
            await old.kill()
        else:
            await old.stop()
        new = BotProcess(old.emu, old.config, args=old.args, env=old.extra_env)
        self.past_logs.append(f"----- process {index} before its restart -----\n{old.log}")
        self.processes[index] = new
        await self._launch(index)
        await self.wait_connected(index)
        return new

    async def stop(self) -> list[int]:
        codes = []
        for bot in self.processes:
            if bot.proc is not None and bot.proc.returncode is None:
                codes.append(await bot.stop())
        return codes

    @property
    def logs(self) -> str:
        now = [f"----- process {i} -----\n{bot.log}" for i, bot in enumerate(self.processes)]
        return "\n".join([*self.past_logs, *now])

    async def reap(self) -> None:
        """End of a test: every process SIGKILLed, with anything it left behind."""
        for bot in self.processes:
            await bot.reap()


async def http_get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page, keyed by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
