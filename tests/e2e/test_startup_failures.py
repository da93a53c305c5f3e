"""Discord unreachable, silent or failing at start-up, and SIGTERM at any moment.

Every failure is one clear line, retried with backoff and logged once per change of reason; a
signal while connecting, resuming, polling or playing ends the process with status 0 within
its deadline.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.startup import SHUTDOWN_DEADLINE
from driver.feedserver import FeedServer, rss
from driver.harness import BotProcess, free_port, write_config
from driver.voice import play_long_tone
from driver.world import World
from emulator import DiscordEmulator

TOKEN = "startup-test-token-0123456789abcdef"


def pointed_at(port: int) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_BASE": f"http://127.0.0.1:{port}/api/v10",
        "DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{port}/",
    }


@pytest.fixture
async def bots() -> AsyncIterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for n, bot in enumerate(started):
        await bot.reap()
        print(f"----- log of bot process {n + 1} -----\n{bot.log}")


async def start_pointed_at(
    port: int, tmp_path: Path, bots: list[BotProcess], *, connect_timeout: float = 10
) -> BotProcess:
    emu = DiscordEmulator(token=TOKEN)  # only for the harness; the bot is sent to `port`
    config = write_config(tmp_path)
    config.write_text(
        config.read_text().replace(
            "[discord]\n", f"[discord]\nconnect_timeout = {connect_timeout}\n"
        )
    )
    bot = BotProcess(emu, config, env=pointed_at(port))
    bots.append(bot)
    return await bot.start(wait_ready=False)


def count(bot: BotProcess, text: str) -> int:
    return sum(text in line for line in bot.lines)


async def stop_timed(bot: BotProcess, sig: signal.Signals = signal.SIGTERM) -> tuple[int, float]:
    started = time.monotonic()
    code = await bot.stop(sig, timeout=SHUTDOWN_DEADLINE + 5)
    return code, time.monotonic() - started


async def test_a_refused_port_is_one_line_retried_until_discord_is_up(
    tmp_path: Path, bots: list[BotProcess]
) -> None:
    port = free_port()
    bot = await start_pointed_at(port, tmp_path, bots)
    await bot.wait_for_log(f"127.0.0.1:{port} refused the connection")
    await bot.wait_for_log("Still cannot reach Discord")  # a retry, at DEBUG only
    emu = DiscordEmulator(token=TOKEN)
    emu.add_guild("Listeners")
    await emu.start(host="127.0.0.1", port=port)
    try:
        await bot.wait_for(lambda: emu.identify_count == 1, "the bot to connect once Discord is up")
        await bot.wait_for_log("Logged in as")
        assert count(bot, "Cannot reach Discord") == 1, "logged once, not once per retry"
        assert count(bot, "Discord answers again") == 1
        assert "Traceback" not in bot.log
        code, took = await stop_timed(bot)
        assert code == 0 and took < SHUTDOWN_DEADLINE
    finally:
        await emu.stop()


async def test_a_black_holed_discord_is_reported_and_sigterm_exits_zero(
    tmp_path: Path, bots: list[BotProcess]
) -> None:
    held: list[asyncio.StreamWriter] = []

    async def accept_and_never_answer(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        held.append(w)

    server = await asyncio.start_server(accept_and_never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        bot = await start_pointed_at(port, tmp_path, bots, connect_timeout=1)
        await bot.wait_for_log("accepted the connection but did not answer within 1 s")
        await bot.wait_for_log("Still cannot reach Discord")
        assert held, "the bot did connect: the silence is what it reports"
        assert count(bot, "Cannot reach Discord") == 1
        code, took = await stop_timed(bot)
        assert code == 0 and took < SHUTDOWN_DEADLINE
        assert "Traceback" not in bot.log
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_sigint_while_connecting_also_exits_zero(
    tmp_path: Path, bots: list[BotProcess]
) -> None:
    bot = await start_pointed_at(free_port(), tmp_path, bots)
    await bot.wait_for_log("refused the connection")
    code, took = await stop_timed(bot, signal.SIGINT)
    assert code == 0 and took < SHUTDOWN_DEADLINE
    assert count(bot, "shutting down") == 1 and "Shut down cleanly" in bot.log


async def test_5xx_on_gateway_bot_is_retried_then_the_bot_connects(
    emu, world: World, start_bot
) -> None:
    emu.faults.server_error("GET", "/gateway/bot", status=503, count=2)
    bot = await start_bot(wait_ready=False)
    await bot.wait_for(lambda: emu.identify_count == 1, "the bot to connect after the 503s")
    assert [r.status for r in emu.requests_to("GET", "/gateway/bot")][:3] == [503, 503, 200]
    assert count(bot, "Cannot reach Discord") == 1
    assert "Discord answered 503" in bot.log
    assert count(bot, "Discord answers again") == 1
    assert "Traceback" not in bot.log
    assert await bot.stop() == 0


async def test_a_429_on_gateway_bot_waits_the_retry_after(emu, world: World, start_bot) -> None:
    emu.faults.rate_limit("GET", "/gateway/bot", retry_after=0.5)
    bot = await start_bot(wait_ready=False)
    await bot.wait_for(lambda: emu.identify_count == 1, "the bot to connect after the 429")
    assert [r.status for r in emu.requests_to("GET", "/gateway/bot")][:2] == [429, 200]
    assert count(bot, "Discord is rate limiting this bot (429)") == 1
    assert await bot.stop() == 0


async def test_a_wrong_api_address_is_one_line_and_exit_1(
    emu, world: World, tmp_path: Path, bots: list[BotProcess]
) -> None:
    bot = BotProcess(
        emu, write_config(tmp_path), env={"DISCORD_API_BASE": f"{emu.api_base}/not-the-api"}
    )
    bots.append(bot)
    await bot.start(wait_ready=False)
    assert await bot.wait_exit() == 1
    (line,) = [line for line in bot.lines if "is DISCORD_API_BASE right?" in line]
    assert "404" in line and "Traceback" not in bot.log


async def test_sigterm_while_resuming_on_a_silent_gateway_exits_zero(
    emu, world: World, start_bot
) -> None:
    bot = await start_bot()
    accepted = emu.gateway.accepted
    emu.faults.silent_gateway = True
    await emu.close_gateway(code=4000)
    await bot.wait_for(lambda: emu.gateway.accepted > accepted, "the bot to try to resume")
    code, took = await stop_timed(bot)
    assert code == 0 and took < SHUTDOWN_DEADLINE
    assert "Traceback" not in bot.log


async def test_sigterm_mid_poll_exits_zero_within_the_grace(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    feeds.set_feed("/slow.rss", rss("Slow", []))
    feeds.set_slow("/slow.rss", 30)  # the fetch is in flight when the signal comes
    bot = await start_bot(
        f"""
        [announce]
        allow_private_addresses = true
        fetch_timeout = 60
        [[feeds]]
        url = "{feeds.url("/slow.rss")}"
        channel_ids = [{world.text_id}]
        poll_seconds = 1
        """
    )
    await bot.wait_for(lambda: feeds.hits("/slow.rss") >= 1, "the poll to start")
    code, took = await stop_timed(bot)
    assert code == 0 and took < SHUTDOWN_DEADLINE
    assert "Shut down cleanly" in bot.log


async def test_sigterm_mid_play_exits_zero(
    emu, world: World, start_bot, feeds: FeedServer, audio, voice, tones
) -> None:
    bot, _receiver = await play_long_tone(emu, world, start_bot, feeds, audio, voice, tones)
    code, took = await stop_timed(bot)
    assert code == 0 and took < SHUTDOWN_DEADLINE
    assert "Shut down cleanly" in bot.log


async def test_a_silent_gateway_at_start_up_is_reported_and_retried(
    emu, world: World, tmp_path: Path, bots: list[BotProcess]
) -> None:
    emu.faults.silent_gateway = True  # REST answers; the websocket opens and stays silent
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace("[discord]\n", "[discord]\nconnect_timeout = 1\n"))
    bot = BotProcess(emu, config)
    bots.append(bot)
    await bot.start(wait_ready=False)
    await bot.wait_for_log("could not be opened; retrying every 5 s: the server accepted")
    assert "Traceback" not in bot.log
    code, took = await stop_timed(bot)
    assert code == 0 and took < SHUTDOWN_DEADLINE


async def test_a_gateway_outage_while_running_is_one_line_not_a_traceback_per_attempt(
    emu, world: World, start_bot
) -> None:
    bot = await start_bot()
    await bot.wait_for_log("Logged in as")
    port = int(emu.api_base.split(":")[2].split("/")[0])
    await emu.stop()  # Discord goes away; every reconnect attempt is refused
    await bot.wait_for(
        lambda: count(bot, "Dispatching event shard_disconnect") >= 3, "failed reconnects"
    )
    assert count(bot, "was lost; reconnecting with backoff") == 1
    assert f"127.0.0.1:{port} refused the connection" in bot.log
    back = DiscordEmulator(token=emu.token)
    back.add_guild("Listeners")
    await back.start(host="127.0.0.1", port=port)
    try:
        await bot.wait_for(lambda: back.identify_count == 1, "the bot to come back", timeout=40)
        assert "Traceback" not in bot.log
        assert await bot.stop() == 0
    finally:
        await back.stop()
