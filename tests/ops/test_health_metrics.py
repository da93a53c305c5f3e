"""/healthz and /metrics, end to end: the bot process against the emulator and a feed server."""

from __future__ import annotations

import asyncio
import json

from driver.announce import feed_config, feed_xml
from driver.feedserver import FeedServer
from driver.harness import http_get, samples
from driver.world import World


async def poll_health(port: int, status: int, timeout: float = 10) -> dict:
    """The /healthz body once it answers `status` (empty if it never does within the timeout)."""
    for _ in range(int(timeout / 0.1)):
        got, text = await http_get(port, "/healthz")
        if got == status:
            return json.loads(text)
        await asyncio.sleep(0.1)
    return {}


def health_config(port: int) -> str:
    return f"""
    [health]
    port = {port}
    """


async def test_healthz_is_ok_and_metrics_count_the_post(
    emu, world: World, start_bot, feeds: FeedServer, free_port: int
) -> None:
    feeds.set_feed("/feed.rss", feed_xml(1))
    bot = await start_bot(
        health_config(free_port) + feed_config(feeds.url("/feed.rss"), world.text_id)
    )
    await emu.wait_until(lambda: len(emu.messages(world.text_id)) == 1, timeout=15)
    await bot.wait_for_log("Health endpoint on")

    status, text = await http_get(free_port, "/healthz")
    body = json.loads(text)
    assert status == 200, body
    assert body["status"] == "ok" and body["failing"] == []
    assert set(body["checks"]) == {"gateway", "database", "feeds"}

    status, text = await http_get(free_port, "/metrics")
    assert status == 200
    values = samples(text)
    assert values[("narrator_posts_total", (("kind", "sent"),))] >= 1
    assert values[("narrator_polls_total", (("result", "ok"),))] >= 1
    assert values[("narrator_guilds", ())] == 1
    assert values[("narrator_voice_sessions", ())] == 0
    assert ("narrator_gateway_latency_seconds", (("shard", "0"),)) in values


async def test_failing_feed_and_discord_errors_are_counted(
    emu, world: World, start_bot, feeds: FeedServer, free_port: int
) -> None:
    feeds.set_status("/broken.rss", 500)
    emu.faults.server_error("POST", "/channels/{channel_id}/messages", status=502)
    feeds.set_feed("/feed.rss", feed_xml(1))
    url = feeds.url("/broken.rss")
    broken = f"""
    [[feeds]]
    url = "{url}"
    channel_ids = [{world.text_id}]
    poll_seconds = 1
    """
    config = feed_config(feeds.url("/feed.rss"), world.text_id) + broken
    await start_bot(health_config(free_port) + config)
    await emu.wait_until(lambda: len(emu.messages(world.text_id)) >= 1, timeout=15)

    _status, text = await http_get(free_port, "/metrics")
    values = samples(text)
    assert values[("narrator_feed_failures_total", (("feed", url),))] >= 1
    assert values[("narrator_polls_total", (("result", "error"),))] >= 1
    errors = {k: v for k, v in values.items() if k[0] == "narrator_discord_http_errors_total"}
    assert any(dict(labels)["status"] == "502" for _name, labels in errors), errors


async def test_healthz_fails_naming_the_gateway_while_not_connected(
    emu, world: World, start_bot, free_port: int
) -> None:
    bot = await start_bot(health_config(free_port))
    await bot.wait_for_log("Logged in as")
    assert await poll_health(free_port, 200)
    await emu.stop()  # Discord goes away: the bot keeps running and tries to reconnect

    body = await poll_health(free_port, 503)
    assert body["failing"] == ["gateway"], body
    assert body["checks"]["database"]["ok"] is True


async def test_no_endpoint_unless_a_port_is_configured(emu, world: World, start_bot) -> None:
    bot = await start_bot()
    await bot.wait_for_log("Logged in as")
    assert "Health endpoint" not in bot.log
