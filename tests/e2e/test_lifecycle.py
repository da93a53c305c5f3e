"""The bot as a process against the emulator: start, commands, resilience, shutdown, bad config."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot import __version__
from driver.harness import ROOT, BotProcess, free_port, write_config
from driver.world import World


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
    # The latency is known once a heartbeat is acknowledged; the ACK reaches the bot first.
    await bot.wait_for(lambda: emu.gateway.acks_sent >= 1, "a heartbeat ACK")

    interaction = await emu.slash(world.guild_id, world.text_id, world.member_id, "about")
    response = await interaction.wait_response(timeout=10)
    fields = about_embed(response)
    assert fields["Version"] == __version__
    assert fields["Feeds watched"] == "0"
    assert fields["Servers"] == "1"
    assert fields["Gateway latency"].endswith("ms")
    assert "Uptime" in fields
    assert "Project" not in fields, "no project link unless [about] project_url is set"
    assert response["data"]["embeds"][0]["title"] == f"Narrator {__version__}"
    assert "url" not in response["data"]["embeds"][0]


async def test_about_links_to_the_configured_project_url(emu, world: World, start_bot) -> None:
    await start_bot('[about]\nproject_url = "https://example.org/our-narrator"\n')
    interaction = await emu.slash(world.guild_id, world.text_id, world.member_id, "about")
    response = await interaction.wait_response(timeout=10)
    assert about_embed(response)["Project"] == "[Source and docs](https://example.org/our-narrator)"
    assert response["data"]["embeds"][0]["url"] == "https://example.org/our-narrator"


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


async def test_without_a_token_the_bot_refuses_in_one_line_and_serves_no_health(
    tmp_path: Path,
) -> None:
    # The Procfile's `python -m bot` with a forgotten token must fail loudly, not run a demo that
    # looks healthy: exit 2, one line saying what to set, and no /healthz answering at all.
    port = free_port()
    config = write_config(tmp_path, f"[health]\nport = {port}\n")
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    for args in ((), ("run",)):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(config), *args,
            cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 2
        (line,) = err.decode().splitlines()
        assert line.startswith("error: DISCORD_TOKEN is not set") and "python -m bot demo" in line
        assert out == b""
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_the_demo_explains_runs_and_stops_cleanly_leaving_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo",
        cwd=ROOT, env={**env, "PYTHONUNBUFFERED": "1", "TMPDIR": str(scratch)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # its own process group, like a terminal's
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
        assert any(scratch.iterdir()), "the demo keeps its database in a temporary folder"
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the demo and the bot both get SIGINT
        rest, _ = await asyncio.wait_for(proc.communicate(), 30)
        seen.append(rest.decode(errors="replace"))
    text = "".join(seen)
    assert "DISCORD_TOKEN is not set" in text
    assert "discord.com/oauth2/authorize" in text and "permissions=" in text
    assert "the bot answered" in text
    assert proc.returncode == 0
    assert text.count("shutting down") == 1, text
    assert "Shut down cleanly" in text and "Traceback" not in text
    assert list(scratch.iterdir()) == [], "the temporary folder is removed"
