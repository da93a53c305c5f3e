"""The request notifier's pace: it looks once at start, then only when woken (an episode stored,
another process's word, a decision), a burst of wake-ups being one look, or after QUIET_LOOK.
Idle, a process therefore runs no query for it (it used to look every 2 s in every process)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.config import Settings
from bot.db import Database
from bot.requesting import service as service_module
from bot.requesting.service import RequestService


@pytest.fixture
async def notifier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(service_module, "LOOK_GAP", 0.5)
    async with Database(tmp_path / "n.sqlite3") as db:
        yield RequestService(SimpleNamespace(db=db, settings=Settings()))  # type: ignore[arg-type]


async def test_it_looks_at_start_then_sleeps_until_woken(notifier: RequestService) -> None:
    async with asyncio.timeout(1):
        await notifier.until_woken()  # the look at start
    waiting = asyncio.create_task(notifier.until_woken())
    await asyncio.sleep(0.7)  # past LOOK_GAP: only a wake-up (or QUIET_LOOK) ends the wait
    assert not waiting.done(), "idle, the notifier does not look"
    notifier.wake()
    async with asyncio.timeout(2):
        await waiting


async def test_a_burst_of_wake_ups_is_one_look_after_the_gap(notifier: RequestService) -> None:
    await notifier.until_woken()
    looked = time.monotonic()
    for _ in range(20):
        notifier.wake()  # twenty polls stored episodes at once
    async with asyncio.timeout(2):
        await notifier.until_woken()
    assert time.monotonic() - looked >= 0.45, "not sooner than LOOK_GAP after the last look"
    waiting = asyncio.create_task(notifier.until_woken())
    await asyncio.sleep(0.7)
    assert not waiting.done(), "the twenty wake-ups were one look"
    waiting.cancel()


async def test_a_notice_discord_refused_is_tried_again_without_a_wake_up(
    notifier: RequestService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "NOTICE_RETRY", service_module.Backoff(0.1, 0.2))
    await notifier.until_woken()
    notifier._notice_failures = 1  # what _send_notices leaves after a failed send
    async with asyncio.timeout(2):
        await notifier.until_woken()
