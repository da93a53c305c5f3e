"""Entry point: `python -m bot [--config FILE] [run|demo|sync|check-config|backup|copy-db|feed-preview|post-key]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from contextlib import nullcontext
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import aiohttp
import discord

from bot import __version__
from bot.backup import backup_database, check_database_file
from bot.bot import Narrator
from bot.config import (
    MASKED_URLS,
    REDACTED_URLS,
    SECRET_SETTINGS,
    ConfigError,
    Environment,
    Settings,
    load_settings,
    read_environment,
)
from bot.db import Database, DatabaseError, database_target, describe, is_postgres_url, mask_url
from bot.endpoints import use_endpoints
from bot.health import HealthServer, HealthServerError
from bot.invite import DEMO_WITH_TOKEN_MESSAGE, NO_TOKEN_ERROR, NO_TOKEN_MESSAGE, invite_url
from bot.logs import setup_logging
from bot.redact import redact_url
from bot.safe_fetch import public_connector
from bot.startup import Shutdown, StartupError, shorten_discord_reconnect_logs, start
from bot.startup import describe as describe_failure
from bot.storage.base import url_secrets
from bot.storage.single_process import SingleProcess

log = logging.getLogger("bot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Narrator, a Discord bot for narrated-article podcasts. Without a command it "
        "runs the bot (DISCORD_TOKEN must be set); `demo` shows it against a built-in emulator.",
        epilog="`python -m bot COMMAND --help` describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"Narrator {__version__}")
    _settings_options(parser, top=True)
    _run_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    run = _command(sub, "run", "run the bot (the default command)", RUN_HELP)
    _settings_options(run)
    _run_options(run)
    _command(
        sub, "demo", "run the demo: the real bot against a built-in Discord emulator", DEMO_HELP
    )
    sync = _command(
        sub,
        "sync",
        "register the slash commands with Discord, then exit",
        "Registers the slash commands now (the bot otherwise registers them only when they "
        "changed), then exits. Needs DISCORD_TOKEN.",
    )
    _settings_options(sync)
    check = _command(
        sub,
        "check-config",
        "validate the settings file and print the effective settings, secrets masked",
        "Reads the settings file (config.toml, or --config FILE), and prints every setting with "
        "its effective value as TOML, secrets masked. A problem is one line naming the key, and "
        "exit status 2.",
    )
    _settings_options(check)
    backup = _command(
        sub,
        "backup",
        "copy the SQLite database to FILE, safely while the bot runs",
        "Copies the SQLite database named by the settings into FILE: a consistent snapshot, "
        "even while the bot is writing. For PostgreSQL use pg_dump.",
    )
    backup.add_argument("file", type=Path, metavar="FILE", help="where to write the copy")
    backup.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    _settings_options(backup)
    copy = _command(
        sub,
        "copy-db",
        "copy every row from one database to an empty one (bot stopped)",
        "Copies every table from FROM into the empty database TO, keeping the ids, and prints "
        "the rows per table. Each side is a SQLite file path or a postgresql:// URL. Stop the "
        "bot first.",
    )
    copy.add_argument("source", metavar="FROM", help="a SQLite file or a postgresql:// URL")
    copy.add_argument("target", metavar="TO", help="a SQLite file or a postgresql:// URL")
    preview = _command(
        sub,
        "feed-preview",
        "parse a feed and print its episodes",
        "Fetches (or reads) a podcast feed and prints its episodes as the bot sees them. Needs "
        "neither Discord nor the settings file.",
    )
    preview.add_argument("source", metavar="URL_OR_FILE", help="an http(s) URL or a file path")
    preview.add_argument("--json", action="store_true", help="one JSON object per episode per line")
    preview.add_argument(
        "--timeout", type=float, default=20.0, metavar="SECONDS", help="for a URL (default 20)"
    )
    post_key = _command(
        sub,
        "post-key",
        "print the canonical key of a post URL",
        "Prints the key under which a LessWrong, Alignment Forum, EA Forum or other post URL is "
        "recognised (any URL form of the same post gives the same key); a note about the link, "
        "if any, goes to stderr.",
    )
    post_key.add_argument("url", metavar="URL", help="the post's address, in any form")
    return parser


RUN_HELP = (
    "Runs the bot against Discord with the token in DISCORD_TOKEN, until SIGTERM or SIGINT "
    "(exit status 0). A wrong token, a wrong setting or a database that cannot open is one line "
    "and a non-zero exit; an unreachable Discord is retried."
)
DEMO_HELP = (
    "Runs the unmodified bot as its own process against the built-in Discord emulator and a "
    "bundled synthetic feed, and shows in the terminal what it posts and answers. Uses no "
    "settings file and no token. Ctrl-C stops it."
)


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str, text: str
) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=summary, description=text)


def _settings_options(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    # Accepted before or after the command. A command's copy leaves the value unset unless it
    # is given there, so `--config x check-config` is not undone by the command's default.
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        default=Path("config.toml") if top else argparse.SUPPRESS,
        help="settings file (default: config.toml in the current folder)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="log at DEBUG level",
    )


def _run_options(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    parser.add_argument(
        "--sync",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="register the slash commands now, then run",
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    # The pure tools need neither the settings nor Discord.
    if command == "feed-preview":
        from bot.feeds.preview import main as feed_preview

        options = ["--json"] if args.json else []
        return feed_preview([args.source, "--timeout", str(args.timeout), *options])
    if command == "post-key":
        from bot.post_urls import main as post_key

        return post_key([args.url])
    if command == "copy-db":
        return copy_db(args.source, args.target)
    if command == "demo":
        return demo()

    try:
        env = read_environment()
        settings = env.applied_to(load_settings(args.config))
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
    if env.token is None:
        print(f"error: {NO_TOKEN_ERROR}", file=sys.stderr)
        return 2

    level = "DEBUG" if args.verbose else settings.logging.level
    hidden = [
        s for url in (env.database_url, settings.database.url) if url for s in url_secrets(url)
    ]
    setup_logging(level, settings.logging.format, secrets=[env.token, *hidden])
    shorten_discord_reconnect_logs()
    use_endpoints(env)
    try:
        return asyncio.run(run(settings, env, sync_only=command == "sync", force_sync=args.sync))
    except KeyboardInterrupt:  # a signal before the handlers were in place
        return 0


def demo() -> int:
    from bot.demo import run_demo

    if read_environment_token() is None:
        print(NO_TOKEN_MESSAGE.format(url=invite_url()), file=sys.stderr)
    else:
        print(DEMO_WITH_TOKEN_MESSAGE, file=sys.stderr)
    return run_demo()


def read_environment_token() -> str | None:
    return (os.environ.get("DISCORD_TOKEN") or "").strip() or None


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
    shutdown = Shutdown()
    shutdown.install()
    try:
        code = await _run(settings, env, shutdown, sync_only=sync_only, force_sync=force_sync)
    except asyncio.CancelledError:
        if not shutdown.requested.is_set():
            raise
        code = 0  # stopped while opening the database: nothing was connected yet
    if code == 0 and not sync_only:
        log.info("Shut down cleanly")
    return code


async def _run(
    settings: Settings, env: Environment, shutdown: Shutdown, *, sync_only: bool, force_sync: bool
) -> int:
    assert env.token is not None
    try:
        target = database_target(settings, env)
        postgres = is_postgres_url(target)
        if not postgres and settings.discord.own_shards is not None:
            raise StartupError(
                "discord.shard_ids (NARRATOR_SHARDS) gives this process part of the bot's shards, "
                "for several processes on one PostgreSQL database; SQLite serves one process, "
                "which runs every shard: set DATABASE_URL, or drop shard_ids."
            )
        # SQLite serves one process: a second one on the same file is refused here.
        one_process = nullcontext() if postgres else SingleProcess(settings.database_path)
        with one_process:
            if not postgres:
                await asyncio.to_thread(check_database_file, settings.database_path)
            feeds_connector = public_connector(
                allow_private=settings.announce.allow_private_addresses
            )
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
                    if sync_only:
                        await shutdown.guard(
                            bot, start(bot, env.token, env.api_base, sync_only=True)
                        )
                        return 0
                    async with HealthServer(bot, settings.health):
                        await shutdown.guard(
                            bot, start(bot, env.token, env.api_base, sync_only=False)
                        )
    except (DatabaseError, HealthServerError, StartupError) as exc:
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
    except (
        OSError,
        aiohttp.ClientError,
        TimeoutError,
        discord.HTTPException,
        discord.GatewayNotFound,
    ) as exc:
        # Discord answered the first request, then failed while the bot logged in: exit, so
        # that the process manager starts it again (which waits for Discord with backoff).
        log.error("Lost Discord while starting: %s; exiting with status 1", describe_failure(exc))
        return 1
    return 0


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


def entry() -> int:
    """`main()`, quiet when the reader of stdout goes away (`feed-preview URL | head`)."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Like any command-line tool: stop quietly. Python would complain again at exit while
        # flushing, so stdout is pointed at /dev/null first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    return code


if __name__ == "__main__":
    sys.exit(entry())
