"""The bot as a process against the emulator: start, commands, resilience, shutdown, bad config."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot import __version__
from tests.conftest import World
from tests.harness import ROOT, BotProcess, write_config


def about_embed(response: dict) -> dict:
    data = response["data"]
    assert data["flags"] & 64, "/about answers ephemerally"
    (embed,) = data["embeds"]
    return {field["name"]: field["value"] for field in embed["fields"]}


async def test_bot_starts_registers_commands_and_answers_about(
    emu, world: World, start_bot
) -> None:
    bot = await start_bot()
    await bot.wait_for(lambda: emu.command_put_count == 1, "command registration")
    assert "about" in {c["name"] for c in emu.commands}

    interaction = await emu.slash(world.guild_id, world.text_id, world.member_id, "about")
    response = await interaction.wait_response(timeout=10)
    fields = about_embed(response)
    assert fields["Version"] == __version__
    assert fields["Feeds watched"] == "0"
    assert fields["Servers"] == "1"
    assert fields["Gateway latency"].endswith("ms")
    assert "Uptime" in fields and "Project" in fields


async def test_second_start_with_same_commands_does_not_register_again(
    emu, world: World, start_bot
) -> None:
    first = await start_bot()
    await first.wait_for(lambda: emu.command_put_count == 1, "first registration")
    assert await first.stop() == 0

    second = await start_bot()
    await second.wait_for_log("Slash commands unchanged")
    assert emu.command_put_count == 1
    assert await second.stop() == 0


async def test_sync_subcommand_registers_and_exits(emu, world: World, start_bot) -> None:
    bot = await start_bot()
    await bot.wait_for(lambda: emu.command_put_count == 1, "first registration")
    await bot.stop()
    sync = await start_bot(args=("sync",), wait_ready=False)
    assert await sync.wait_exit() == 0
    assert emu.command_put_count == 2


async def test_gateway_drop_is_resumed_and_commands_keep_working(
    emu, world: World, start_bot
) -> None:
    bot = await start_bot()
    await emu.close_gateway(code=4000)
    await bot.wait_for(lambda: emu.resume_count == 1, "the bot to resume")
    await bot.wait_for_log("Gateway session resumed")
    assert emu.identify_count == 1, "a resumable close must not start a new session"
    interaction = await emu.slash(world.guild_id, world.text_id, world.member_id, "about")
    assert about_embed(await interaction.wait_response(timeout=10))["Version"] == __version__


async def test_rate_limited_reply_is_retried_after_retry_after(
    emu, world: World, start_bot
) -> None:
    await start_bot()
    emu.faults.rate_limit(
        "POST", "/interactions/{interaction_id}/{interaction_token}/callback", retry_after=0.3
    )
    interaction = await emu.slash(world.guild_id, world.text_id, world.member_id, "about")
    response = await interaction.wait_response(timeout=10)
    assert about_embed(response)["Version"] == __version__
    callbacks = [r for r in emu.requests if r.path.endswith("/callback")]
    assert [r.status for r in callbacks] == [429, 200]


async def test_sigterm_exits_zero_and_closes_the_database(
    emu, world: World, start_bot, tmp_path: Path
) -> None:
    bot = await start_bot()
    await bot.wait_for(lambda: emu.command_put_count == 1, "registration")
    assert await bot.stop(signal.SIGTERM) == 0
    assert "Shut down cleanly" in bot.log
    assert not (tmp_path / "narrator.sqlite3-wal").exists(), "the WAL is checkpointed on close"


async def test_sigint_also_exits_zero(emu, world: World, start_bot) -> None:
    bot = await start_bot()
    assert await bot.stop(signal.SIGINT) == 0


async def test_token_never_appears_in_the_logs(emu, world: World, start_bot) -> None:
    bot = await start_bot()
    await emu.close_gateway(code=4000)
    await bot.wait_for(lambda: emu.resume_count == 1, "resume")
    await bot.stop()
    assert bot.lines, "the bot logs at DEBUG in tests, so there is plenty to search"
    assert emu.token not in bot.log


async def test_wrong_token_is_one_clear_error(emu, world: World, tmp_path: Path) -> None:
    bot = BotProcess(emu, write_config(tmp_path), env={"DISCORD_TOKEN": "not-the-token"})
    await bot.start(wait_ready=False)
    assert await bot.wait_exit() == 1
    assert "Discord refused the token" in bot.log
    assert "Traceback" not in bot.log
    assert "not-the-token" not in bot.log


async def test_config_typo_is_refused_with_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[announce]\nfirst_pol_backlog = 2\n")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config),
        cwd=ROOT,
        env={**os.environ, "DISCORD_TOKEN": "x"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert lines == [lines[0]] and "announce.first_pol_backlog: unknown key" in lines[0]
    assert out == b""


async def test_without_a_token_it_explains_and_runs_the_demo(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot",
        cwd=ROOT, env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    seen: list[str] = []

    async def read_until_about_answered() -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            seen.append(raw.decode(errors="replace"))
            if "Feeds watched" in seen[-1]:
                return

    try:
        await asyncio.wait_for(read_until_about_answered(), 60)
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(proc.communicate(), 30)
        seen.append(rest.decode(errors="replace"))
    text = "".join(seen)
    assert "DISCORD_TOKEN is not set" in text
    assert "discord.com/oauth2/authorize" in text and "permissions=" in text
    assert "the bot answered" in text
    assert proc.returncode == 0
