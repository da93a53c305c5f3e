"""JSON logs: every line the bot writes is one JSON object, and the token never appears."""

from __future__ import annotations

import json

from driver.world import World


async def test_json_log_lines_parse_and_never_contain_the_token(emu, world: World, run_bot) -> None:
    bot = await run_bot(emu, logging={"format": "json"}, wait_ready=True)
    await bot.wait_for_log("Logged in as")
    interaction = await emu.slash(world.guild_id, world.text_id, world.member_id, "about")
    await interaction.wait_response(timeout=10)
    assert await bot.stop() == 0

    lines = [line for line in bot.lines if line.strip()]
    assert len(lines) > 10
    entries = [json.loads(line) for line in lines]  # fails on any non-JSON line
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    assert any(e["message"].startswith("Logged in as") for e in entries)
    assert emu.token not in bot.log
