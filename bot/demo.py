"""`python -m bot demo` (and `./scripts/run.sh` without a token): the real bot against the emulator.

It starts the Discord emulator and a local feed server with the bundled sample feed, runs the
unmodified bot as a child process pointed at them, acts out what a member would do, and prints in
the terminal what the bot posts and does. The bot itself never imports the emulator; only this
launcher does. Everything it writes lives in a temporary folder that is removed when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import signal
import sys
import tempfile
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

CHANNEL_NAMES: dict[int, str] = {}
NEW_EPISODE_AFTER = 20.0  # seconds into the demo when the sample feed gains an episode

# SYNTHETIC sample episodes, shaped like TYPE III AUDIO's LessWrong narrations (not real posts).
SAMPLE_EPISODES = [
    (
        "“A worked example of corrigibility” by Demo Author",
        "Mon, 03 Nov 2025 09:00:00 GMT",
        "1512",
        "https://www.lesswrong.com/posts/AAAAAAAAAAAAAAAAA/a-worked-example",
    ),
    (
        "“Notes on reading alignment papers” by Demo Author",
        "Mon, 10 Nov 2025 09:00:00 GMT",
        "00:41:07",
        "https://www.lesswrong.com/posts/BBBBBBBBBBBBBBBBB/notes-on-reading",
    ),
    (
        "“Why interpretability is hard” by Demo Author",
        "Mon, 17 Nov 2025 09:00:00 GMT",
        "1:02:05",
        "https://www.lesswrong.com/posts/CCCCCCCCCCCCCCCCC/why-interpretability",
    ),
    (
        "“A new episode, just published” by Demo Author",
        "Wed, 26 Nov 2025 09:00:00 GMT",
        "12:30",
        "https://forum.effectivealtruism.org/posts/DDDDDDDDDDDDDDDDD/just-published",
    ),
]


def sample_feed(count: int, base_url: str) -> bytes:
    """The demo's RSS document with the first `count` sample episodes (newest first)."""
    items = []
    for n, (title, date, duration, source) in enumerate(SAMPLE_EPISODES[:count]):
        description = (
            "<p>June 2023: Welcome to the alpha release of TYPE III AUDIO. Expect very rough "
            "edges and very broken stuff—and daily improvements. Please share your thoughts.</p>"
            f"<p>This is sample episode {n + 1} of the Narrator demo. Its summary is shown in "
            "the announcement; the banner and credit lines around it are stripped.</p>"
            f'<p>Source:<br/><a href="{source}">{source}</a></p>'
            "<p>Narrated by TYPE III AUDIO.</p>"
        )
        items.append(
            f'<item><title>{escape(title)}</title><guid isPermaLink="false">demo-{n}</guid>'
            f"<pubDate>{date}</pubDate><link>{source}</link>"
            f"<description>{escape(description)}</description>"
            f'<enclosure url="{base_url}/audio/{n}.mp3" length="1000" type="audio/mpeg"/>'
            f"<itunes:duration>{duration}</itunes:duration></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- SYNTHETIC demo feed -->\n'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
        "<channel><title>Narrator demo feed (synthetic)</title><link>https://example.org/</link>"
        + "".join(reversed(items))
        + "</channel></rss>"
    ).encode()


def run_demo() -> int:
    """Runs until Ctrl-C (or SIGTERM); the user's settings file and database are never used."""
    try:
        with tempfile.TemporaryDirectory(prefix="narrator-demo-") as workdir:
            return asyncio.run(_demo(Path(workdir)))
    except KeyboardInterrupt:
        return 0


async def _demo(workdir: Path) -> int:
    try:
        from emulator import ChannelType, DiscordEmulator
    except ImportError:
        print("The demo needs the emulator package from the project checkout.", file=sys.stderr)
        return 1

    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    emu = DiscordEmulator(token=secrets.token_urlsafe(32))
    await emu.start(host="127.0.0.1", port=0)
    guild = emu.add_guild("Narrator demo server")
    episodes = emu.add_channel(guild.id, "new-episodes", ChannelType.TEXT)
    emu.add_channel(guild.id, "Listening room", ChannelType.VOICE)
    CHANNEL_NAMES[episodes.id] = "#new-episodes"
    listener = emu.add_user("ada")
    emu.add_member(guild.id, listener.id)
    emu.on_event(_show_event)

    feed_runner, feed_url = await _serve_sample_feed()
    config = workdir / "config.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [discord]
            guild_ready_timeout = 0.2
            [database]
            path = "{workdir / "demo.sqlite3"}"
            [announce]
            allow_private_addresses = true  # the sample feed is served on 127.0.0.1
            [[feeds]]
            url = "{feed_url}"
            channel_ids = [{episodes.id}]
            poll_seconds = 5
            """
        )
    )
    env = {
        # The demo keeps its own throw-away SQLite file, never the real database.
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DISCORD_TOKEN": emu.token,
        "DISCORD_API_BASE": emu.api_base,
        "DISCORD_GATEWAY_URL": emu.gateway_url,
        "PYTHONUNBUFFERED": "1",
    }
    _say(f"Emulated Discord at {emu.api_base}; sample feed at {feed_url}.")
    _say("Starting the bot. Press Ctrl-C to stop.")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--config",
        str(config),
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    relay = asyncio.create_task(_relay_logs(proc))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await emu.wait_until_ready(timeout=30)
        await asyncio.sleep(0.5)
        _say(
            f"The feed has 3 episodes; the newest is posted. A 4th appears in {NEW_EPISODE_AFTER:.0f} s."
        )
        await asyncio.sleep(2)
        _say("ada runs /about")
        interaction = await emu.slash(guild.id, episodes.id, listener.id, "about")
        await interaction.wait_response(timeout=10)
        waiter = asyncio.create_task(proc.wait())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
    finally:
        # Ctrl-C in a terminal reaches the bot too (one process group); SIGTERM covers the rest,
        # and the bot logs only the first of the two. It exits within its 9 s deadline.
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
        await asyncio.wait({relay}, timeout=1)
        relay.cancel()
        await emu.stop()
        await feed_runner.cleanup()
    if proc.returncode != 0:
        _say(f"The bot exited with status {proc.returncode}; its log above says why.")
        return 1
    return 0


async def _serve_sample_feed() -> tuple[web.AppRunner, str]:
    started = asyncio.get_running_loop().time()

    async def feed(request: web.Request) -> web.Response:
        grown = asyncio.get_running_loop().time() - started > NEW_EPISODE_AFTER
        base = f"{request.scheme}://{request.host}"
        body = sample_feed(len(SAMPLE_EPISODES) if grown else len(SAMPLE_EPISODES) - 1, base)
        return web.Response(body=body, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/feed.rss", feed)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/feed.rss"


async def _relay_logs(proc: asyncio.subprocess.Process) -> None:
    assert proc.stderr is not None
    async for line in proc.stderr:
        print(f"  bot │ {line.decode(errors='replace').rstrip()}", flush=True)


def _say(text: str) -> None:
    print(f"\n» {text}", flush=True)


def _show_event(kind: str, payload: dict[str, Any]) -> None:
    text = describe_event(kind, payload)
    if text:
        print(text, flush=True)


QUIET_EVENTS = {"gateway_connect", "presence_update", "fault", "interaction_create"}
_TIMESTAMP = re.compile(r"<t:(\d+):[a-zA-Z]>")


def describe_event(kind: str, payload: dict[str, Any]) -> str | None:
    """One readable block for what the bot did, as a member would see it; None to stay quiet."""
    if kind in QUIET_EVENTS:
        return None
    if kind == "commands_registered":
        return "  discord │ the bot registered its slash commands: /" + ", /".join(
            payload.get("names", [])
        )
    if kind == "gateway_resume":
        return "  discord │ the bot resumed its gateway session"
    message = payload.get("data") if kind == "interaction_response" else payload
    message = message if isinstance(message, dict) else {}
    where = CHANNEL_NAMES.get(int(message.get("channel_id", 0) or 0), "a channel")
    ephemeral = " (only the member sees this)" if int(message.get("flags", 0) or 0) & 64 else ""
    head = {
        "message_create": f"posted in {where}",
        "interaction_response": f"answered{ephemeral}",
        "followup": f"followed up{ephemeral}",
        "message_update": f"edited a message in {where}",
        "thread_create": "opened a forum post",
        "dm": "sent a direct message",
    }.get(kind, kind.replace("_", " "))
    lines = [f"  discord │ the bot {head}"]
    if message.get("content"):
        lines.append(f"  discord │   {message['content']}")
    for embed in message.get("embeds") or []:
        if embed.get("title"):
            lines.append(f"  discord │   ┃ {embed['title']}")
        for part in textwrap.wrap(embed.get("description", ""), 90)[:6]:
            lines.append(f"  discord │   ┃ {part}")
        for field in embed.get("fields", []):
            lines.append(f"  discord │   ┃ {field.get('name')}: {field.get('value')}")
    for row in message.get("components") or []:
        labels = [c.get("label") or c.get("placeholder") or "…" for c in row.get("components", [])]
        lines.append("  discord │   " + "  ".join(f"[{label}]" for label in labels))
    return _TIMESTAMP.sub(_date, "\n".join(lines))


def _date(match: re.Match[str]) -> str:
    return datetime.fromtimestamp(int(match[1]), UTC).strftime("%d %b %Y")
