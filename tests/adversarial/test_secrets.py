"""Secrets that are not in the secret list: a feed URL's `user:password@` and `?token=`, the
request webhook's token, interaction tokens. Used where needed, never shown: not in the feed's
public channel, not in logs, not in /metrics, not by check-config."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.__main__ import describe_settings
from bot.config import load_settings, read_environment
from bot.feeds.fetch import FeedFetchError
from bot.logs import RedactFilter
from bot.redact import redact_url, redact_urls_in
from driver.announce import feed_xml, wait_titles
from driver.feedserver import FeedServer
from driver.harness import free_port, http_get
from driver.world import World

PASSWORD = "hunter2pass"
TOKEN = "s3cr3t-signed-token"

secret = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~", min_size=6, max_size=30)


def secret_feed_url(base: str, path: str = "/private.rss") -> str:
    """`base` is http://127.0.0.1:PORT; the result carries a password and a signed query."""
    return base.replace("://", f"://listener:{PASSWORD}@") + f"{path}?token={TOKEN}&sig=abc"


def test_redact_url_keeps_the_place_and_drops_the_secrets() -> None:
    shown = redact_url(f"https://bob:{PASSWORD}@feeds.example:8443/p/feed.rss?token={TOKEN}#x")
    assert shown == "https://[redacted]@feeds.example:8443/p/feed.rss?[redacted]#x"
    assert redact_url("https://feeds.example/feed.rss") == "https://feeds.example/feed.rss"
    assert PASSWORD not in redact_url(f"http://[::1:{PASSWORD}@x/?token={TOKEN}")  # malformed


@settings(deadline=None)
@given(user=secret, password=secret, token=secret)
def test_no_credential_or_query_survives_in_text(user: str, password: str, token: str) -> None:
    text = f"The feed at https://{user}:{password}@h.example/f?token={token} answered 503."
    shown = redact_urls_in(text)
    assert f"{user}:{password}" not in shown and f"token={token}" not in shown
    assert "h.example/f" in shown


def test_a_fetch_error_names_the_feed_without_its_secrets() -> None:
    url = f"https://bob:{PASSWORD}@feeds.example/feed.rss?token={TOKEN}"
    error = FeedFetchError(
        f"The feed at {url} answered 503 Service Unavailable.", url=url, retryable=True
    )
    assert PASSWORD not in str(error) and TOKEN not in str(error)
    assert "feeds.example/feed.rss" in str(error)
    assert error.url == url  # the retry still uses the real address


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("x", logging.DEBUG, __file__, 1, message, args, None)


def test_log_lines_lose_url_secrets_and_interaction_and_webhook_tokens() -> None:
    redact = RedactFilter(["bot-token-value"])
    lines = [
        record("Feed %s failed", f"https://u:{PASSWORD}@h/f.rss?token={TOKEN}"),
        record(
            "POST https://discord.com/api/v10/interactions/1234/%s/callback has returned 204",
            "aW50ZXJhY3Rpb246MTIzNDp" + TOKEN,
        ),
        record("PATCH https://discord.com/api/v10/webhooks/99/%s/messages/@original", TOKEN),
        record('INTERACTION_CREATE {"id": "1", "token": "%s", "type": 2}', TOKEN),
        record("Authorization: Bot bot-token-value"),
    ]
    for line in lines:
        redact.filter(line)
        assert TOKEN not in line.getMessage() and PASSWORD not in line.getMessage()
        assert "bot-token-value" not in line.getMessage()


def test_a_traceback_in_the_log_is_redacted_too() -> None:
    try:
        raise RuntimeError(f"could not fetch https://u:{PASSWORD}@h/f?token={TOKEN}")
    except RuntimeError:
        import sys

        line = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    RedactFilter([]).filter(line)
    formatted = logging.Formatter().format(line)
    assert "RuntimeError" in formatted and PASSWORD not in formatted and TOKEN not in formatted


def test_check_config_shows_feed_urls_without_their_secrets(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
        [requests]
        webhook_url = "https://discord.com/api/webhooks/1/{TOKEN}"
        [[feeds]]
        url = "https://bob:{PASSWORD}@feeds.example/feed.rss?token={TOKEN}"
        channel_ids = [123456789012345678]
        """
    )
    shown = describe_settings(load_settings(config), read_environment({}))
    assert PASSWORD not in shown and TOKEN not in shown
    assert 'url = "https://[redacted]@feeds.example/feed.rss?[redacted]"' in shown


# -- end to end ---------------------------------------------------------------------------------


async def test_a_failing_secret_feed_is_reported_without_its_secrets(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    """The failure notice lands in the feed's public channel; logs and /metrics are read by
    whoever operates the host. None of them may learn the feed's password or token."""
    feeds.set_feed("/private.rss", feed_xml(1))
    port = free_port()
    url = secret_feed_url(feeds.url("").rstrip("/"))
    bot = await start_bot(
        f"""
        [health]
        port = {port}
        [announce]
        allow_private_addresses = true
        notify_after_failures = 1
        fetch_timeout = 2.0
        [[feeds]]
        url = "{url}"
        channel_ids = [{world.text_id}]
        poll_seconds = 1
        """
    )
    await wait_titles(emu, world.text_id, ["Episode 1"])
    # used as given: the password goes out as HTTP basic auth
    assert feeds.requests("/private.rss")[0].headers["Authorization"].startswith("Basic ")

    feeds.set_status("/private.rss", 503)
    await emu.wait_until(lambda: len(emu.messages(world.text_id)) == 2, timeout=15)
    notice = emu.messages(world.text_id)[1]["content"]
    assert "is failing" in notice and "503" in notice
    assert PASSWORD not in notice and TOKEN not in notice

    status, metrics = await http_get(port, "/metrics")
    assert status == 200 and "narrator_feed_failures_total" in metrics
    assert PASSWORD not in metrics and TOKEN not in metrics

    ix = await emu.slash(world.guild_id, world.text_id, world.admin_id, "feed status")
    health = str(await ix.wait_response())
    assert "503" in health and PASSWORD not in health and TOKEN not in health
    ix = await emu.slash(world.guild_id, world.text_id, world.admin_id, "feed list")
    listing = str(await ix.wait_response())
    assert "/private.rss" in listing and PASSWORD not in listing and TOKEN not in listing

    await bot.stop()
    assert "Feed http://[redacted]@127.0.0.1" in bot.log  # the log still says which feed
    assert PASSWORD not in bot.log and TOKEN not in bot.log
    # the bot logs at DEBUG in tests, interaction tokens included, were they not masked
    for interaction in emu.interactions.values():
        assert interaction.token not in bot.log


async def test_a_failing_request_webhook_is_logged_by_its_status_not_its_url(
    emu, world: World, start_bot, feeds: FeedServer
) -> None:
    hook = f"/hooks/{TOKEN}"
    feeds.set_status(hook, 500)
    bot = await start_bot(
        f"""
        [requests]
        type3_lookup = false
        fetch_titles = false
        lesswrong_graphql = ""
        eaforum_graphql = ""
        webhook_url = "{feeds.url(hook)}?key={PASSWORD}"
        """
    )
    ix = await emu.slash(
        world.guild_id, world.text_id, world.member_id, "request", {"url": "https://blog.example/a"}
    )
    await ix.wait_answer(timeout=15)
    line = await bot.wait_for_log("to the webhook failed")
    assert line.endswith("Forwarding request #1 to the webhook failed: HTTP 500")
    assert feeds.hits(hook) == 1
    await bot.stop()
    assert TOKEN not in bot.log and PASSWORD not in bot.log


def test_a_config_error_does_not_echo_a_feed_urls_secrets(tmp_path: Path) -> None:
    from bot.config import ConfigError

    config = tmp_path / "config.toml"
    config.write_text(
        f'[[feeds]]\nurl = "ftp://u:{PASSWORD}@h.example/f?token={TOKEN}"\n'
        "channel_ids = [123456789012345678]\n"
    )
    with pytest.raises(ConfigError, match=r"feeds\[0\]\.url") as refused:
        load_settings(config)
    assert PASSWORD not in str(refused.value) and TOKEN not in str(refused.value)


def test_every_formatted_line_is_redacted_whatever_formatter_made_it() -> None:
    """discord.py's coloured terminal formatter formats tracebacks itself, after any filter."""
    from bot.logs import RedactingHandler

    handler = RedactingHandler(["bot-token-value"])
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        raise RuntimeError(f"https://u:{PASSWORD}@h/f?token={TOKEN} bot-token-value")
    except RuntimeError:
        import sys

        line = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    shown = handler.format(line)
    assert "RuntimeError" in shown
    assert PASSWORD not in shown and TOKEN not in shown and "bot-token-value" not in shown


async def test_healthz_names_an_overdue_feed_without_its_secrets(tmp_path: Path) -> None:
    import time

    from bot.announce.store import AnnounceStore
    from bot.config import FeedSettings
    from bot.db import Database
    from bot.health import check_feeds

    url = f"https://bob:{PASSWORD}@feeds.example/a.rss?token={TOKEN}"
    async with Database(tmp_path / "n.sqlite3") as db:
        await AnnounceStore(db).sync_config((FeedSettings(url=url, channel_ids=(123,)),))
        async with db.transaction() as conn:
            await conn.execute("UPDATE feeds SET next_poll_at = ?", time.time() - 3600)
        check = await check_feeds(db)
    assert not check.ok and "feeds.example/a.rss" in check.detail
    assert PASSWORD not in check.detail and TOKEN not in check.detail
