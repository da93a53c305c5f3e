"""Entry point: `python -m bot [--config PATH] [run|sync|check-config|backup|copy-db|feed-preview|post-key]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import aiohttp
import discord

from bot.backup import backup_database, check_database_file
from bot.bot import Narrator
from bot.config import ConfigError, Environment, Settings, load_settings, read_environment
from bot.db import Database, DatabaseError, database_target, describe, is_postgres_url, mask_url
from bot.endpoints import use_endpoints
from bot.health import HealthServer, HealthServerError
from bot.invite import NO_TOKEN_MESSAGE, invite_url
from bot.logs import setup_logging
from bot.redact import redact_url
from bot.safe_fetch import public_connector
from bot.storage.base import url_secrets

log = logging.getLogger("bot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--config", type=Path, default=Path("config.toml"), help="settings file")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    parser.add_argument("--sync", action="store_true", help="register slash commands, then run")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    sub.add_parser("sync", help="register the slash commands with Discord, then exit")
    sub.add_parser("check-config", help="validate the settings and print them, secrets masked")
    backup = sub.add_parser("backup", help="copy the database to FILE, safely while the bot runs")
    backup.add_argument("file", type=Path, help="where to write the copy")
    backup.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    copy = sub.add_parser(
        "copy-db", help="copy every row from one database to an empty one (bot stopped)"
    )
    copy.add_argument("source", metavar="FROM", help="a SQLite file or a postgresql:// URL")
    copy.add_argument("target", metavar="TO", help="a SQLite file or a postgresql:// URL")
    preview = sub.add_parser("feed-preview", help="parse a feed and print its episodes")
    preview.add_argument("args", nargs=argparse.REMAINDER)
    post_key = sub.add_parser("post-key", help="print the canonical key of a post URL")
    post_key.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    # The pure tools need neither the settings nor Discord.
    if command == "feed-preview":
        from bot.feeds.preview import main as feed_preview

        return feed_preview(args.args)
    if command == "post-key":
        from bot.post_urls import main as post_key

        return post_key(args.args)
    if command == "copy-db":
        return copy_db(args.source, args.target)

    try:
        settings = load_settings(args.config)
        env = read_environment()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if command == "check-config":
        print(describe_settings(settings, env))
        return 0
    if command == "backup":
        if is_postgres_url(database_target(settings, env)):
            print(
                "error: the bot uses PostgreSQL; back it up with pg_dump (or copy it into a "
                "SQLite file with copy-db while the bot is stopped).",
                file=sys.stderr,
            )
            return 2
        try:
            print(backup_database(settings.database_path, args.file, force=args.force))
        except DatabaseError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0

    level = "DEBUG" if args.verbose else settings.logging.level
    hidden = [
        s for url in (env.database_url, settings.database.url) if url for s in url_secrets(url)
    ]
    setup_logging(level, settings.logging.format, secrets=[env.token or "", *hidden])
    if env.token is None:
        if command == "sync":
            print(
                "error: DISCORD_TOKEN is not set; there is nothing to register with.",
                file=sys.stderr,
            )
            return 2
        print(NO_TOKEN_MESSAGE.format(url=invite_url()), file=sys.stderr)
        from bot.demo import run_demo

        return run_demo(args.config)

    use_endpoints(env)
    try:
        return asyncio.run(run(settings, env, sync_only=command == "sync", force_sync=args.sync))
    except KeyboardInterrupt:
        return 0


def copy_db(source: str, target: str) -> int:
    from bot.copy_db import copy_database

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        print(asyncio.run(copy_database(_db_arg(source), _db_arg(target))))
    except DatabaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _db_arg(value: str) -> str | Path:
    return value if is_postgres_url(value) else Path(value)


async def run(settings: Settings, env: Environment, *, sync_only: bool, force_sync: bool) -> int:
    assert env.token is not None
    try:
        target = database_target(settings, env)
        if not is_postgres_url(target):
            await asyncio.to_thread(check_database_file, settings.database_path)
        feeds_connector = public_connector(allow_private=settings.announce.allow_private_addresses)
        async with (
            aiohttp.ClientSession() as session,
            aiohttp.ClientSession(connector=feeds_connector) as feed_session,
            Database(target) as db,
        ):
            log.info("Using the %s database at %s", db.kind, db.label)
            bot = Narrator(
                settings=settings,
                db=db,
                session=session,
                feed_session=feed_session,
                force_sync=force_sync or sync_only,
            )
            async with bot:
                _close_on_signals(bot)
                if sync_only:
                    await bot.login(env.token)
                    return 0
                async with HealthServer(bot, settings.health):
                    await bot.start(env.token)
    except (DatabaseError, HealthServerError) as exc:
        log.error("%s", exc)
        return 1
    except discord.LoginFailure:
        log.error("Discord refused the token in DISCORD_TOKEN; check that it is the bot token.")
        return 1
    except discord.PrivilegedIntentsRequired:
        log.error("Discord says the bot asked for privileged intents; this is a bug.")
        return 1
    except discord.ConnectionClosed as exc:
        log.error("Discord closed the gateway for good (code %s); stopping.", exc.code)
        return 1
    log.info("Shut down cleanly")
    return 0


_closing: set[asyncio.Task[None]] = set()


def _close_on_signals(bot: Narrator) -> None:
    loop = asyncio.get_running_loop()

    def close(signame: str) -> None:
        log.info("Received %s; shutting down", signame)
        task = loop.create_task(bot.close())
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers; Ctrl-C still raises KeyboardInterrupt there.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, close, sig.name)


# Settings whose values are secrets (a webhook URL carries its token): never printed.
SECRET_SETTINGS = frozenset({"requests.webhook_url"})
# Settings shown with only their password masked: where the data is matters when checking.
MASKED_URLS = frozenset({"database.url"})
# Feed URLs may carry credentials or a signed query: shown without them.
REDACTED_URLS = frozenset({"feeds.url"})


def describe_settings(settings: Settings, env: Environment) -> str:
    """The effective settings as TOML (defaults filled in), secrets masked."""
    lines = [f"# effective settings from {settings.source}"]
    tables = [f for f in fields(settings) if not f.metadata.get("internal")]
    for table in tables:
        value = getattr(settings, table.name)
        if is_dataclass(value):
            lines += ["", f"[{table.name}]", *_toml_lines(table.name, value)]
    for feed in settings.feeds:
        lines += ["", "[[feeds]]", *_toml_lines("feeds", feed)]
    lines += [
        "",
        "# from the environment",
        f"DISCORD_TOKEN = {'set' if env.token else 'unset'}",
        f"DISCORD_API_BASE = {_toml_value(env.api_base)}",
        f"DISCORD_GATEWAY_URL = {_toml_value(env.gateway_url)}",
        f"DATABASE_URL = {_toml_value(mask_url(env.database_url) if env.database_url else '')}",
        f"# database: {describe(database_target(settings, env))}",
    ]
    return "\n".join(lines)


def _toml_lines(section: str, table: Any) -> list[str]:
    lines = []
    for f in fields(table):
        value = getattr(table, f.name)
        if f"{section}.{f.name}" in REDACTED_URLS and value:
            lines.append(f"{f.name} = {_toml_value(redact_url(value))}")
        elif f"{section}.{f.name}" in MASKED_URLS and value:
            lines.append(f"{f.name} = {_toml_value(mask_url(value))}")
        elif f"{section}.{f.name}" in SECRET_SETTINGS:
            lines.append(f"{f.name} = {_toml_value('(set, hidden)' if value else '')}")
        else:
            lines.append(f"{f.name} = {_toml_value(value)}")
    return lines


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    return repr(value)


if __name__ == "__main__":
    sys.exit(main())
