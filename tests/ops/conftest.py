"""Fixtures for the operations tests: a free port and the health endpoint."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from driver.harness import BotProcess, free_port, write_config


@pytest.fixture(name="free_port")
def free_port_fixture() -> int:
    return free_port()


def config_file(directory: Path, extra: str = "", **keys: dict[str, object]) -> Path:
    """The harness's test config, with `keys` set in its existing tables (e.g. discord=...)."""
    path = write_config(directory, extra)
    text = path.read_text()
    for table, values in keys.items():
        lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
        assert f"[{table}]\n" in text, f"the harness config has no [{table}] table"
        text = text.replace(f"[{table}]\n", f"[{table}]\n{lines}", 1)
    path.write_text(text)
    return path


@pytest.fixture
async def run_bot(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[BotProcess]]]:
    """Like `start_bot`, for configs that change the harness's own tables; any emulator."""
    started: list[BotProcess] = []

    async def run(
        emu, extra: str = "", *, wait_ready: bool = False, **keys: dict[str, object]
    ) -> BotProcess:
        bot = BotProcess(emu, config_file(tmp_path, extra, **keys))
        started.append(bot)
        return await bot.start(wait_ready=wait_ready)

    yield run
    for n, bot in enumerate(started):
        await bot.reap()
        print(f"----- log of bot process {n + 1} -----\n{bot.log}")
