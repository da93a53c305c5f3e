"""Runs the unmodified bot as a child process against the emulator, as the README's command would."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

if TYPE_CHECKING:
    from emulator import DiscordEmulator

ROOT = Path(__file__).resolve().parents[1]
LOG_LINE_LIMIT = 16 * 1024 * 1024


def write_config(directory: Path, extra: str = "", *, db_name: str = "narrator.sqlite3") -> Path:
    path = directory / "config.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [discord]
            guild_ready_timeout = 0.1
            [database]
            path = "{directory / db_name}"
            [logging]
            level = "DEBUG"
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
        if self._reader is not None:
            await self._reader
        return code

    async def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await self.wait_exit(timeout)

    async def kill(self) -> int:
        return await self.stop(signal.SIGKILL)


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
