"""Shared fixtures: a started Discord emulator with a realistic guild, and the bot as a process."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.db import Database
from driver.feedserver import FeedServer
from driver.harness import BotProcess, write_config
from tests.pg import REQUIRE_ENV, PostgresServer, PostgresUnavailable, start_server


@dataclass
class World:
    """The guild the tests act in, with the ids a test needs."""

    guild_id: int
    text_id: int
    news_id: int
    forum_id: int
    voice_id: int
    member_id: int
    admin_id: int


@pytest.fixture
async def emu() -> AsyncIterator[object]:
    from emulator import DiscordEmulator

    emulator = DiscordEmulator(token="test-token-0123456789abcdef")
    await emulator.start(host="127.0.0.1", port=0)
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
def world(emu) -> World:
    from discord import Permissions

    from emulator import ChannelType

    guild = emu.add_guild("Listeners")
    text = emu.add_channel(guild.id, "new-episodes", ChannelType.TEXT)
    news = emu.add_channel(guild.id, "announcements", ChannelType.NEWS)
    forum = emu.add_channel(guild.id, "episodes-forum", ChannelType.FORUM)
    voice = emu.add_channel(guild.id, "Listening room", ChannelType.VOICE)
    admins = emu.add_role(guild.id, "Admins", permissions=Permissions(manage_guild=True).value)
    member = emu.add_user("alice")
    admin = emu.add_user("root")
    emu.add_member(guild.id, member.id)
    emu.add_member(guild.id, admin.id, roles=[admins.id])
    return World(guild.id, text.id, news.id, forum.id, voice.id, member.id, admin.id)


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    """A local feed server whose feeds tests change between polls."""
    server = FeedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


BotFactory = Callable[..., Awaitable[BotProcess]]


@pytest.fixture
def bot_database(request: pytest.FixtureRequest) -> dict[str, str]:
    """The bot's environment for its database: none (the SQLite file in the config) unless a
    test asks for PostgreSQL with `@pytest.mark.parametrize("bot_database", ["postgres"],
    indirect=True)`."""
    if getattr(request, "param", "sqlite") == "postgres":
        return {"DATABASE_URL": request.getfixturevalue("postgres_url")}
    return {}


@pytest.fixture
async def start_bot(emu, tmp_path: Path, bot_database: dict[str, str]) -> AsyncIterator[BotFactory]:
    """Starts `python -m bot` against the emulator; every process is stopped at the end."""
    started: list[BotProcess] = []

    async def start(
        extra_config: str = "", *, wait_ready: bool = True, args: tuple[str, ...] = ()
    ) -> BotProcess:
        config = write_config(tmp_path, extra_config)
        bot = BotProcess(emu, config, args=args, env=bot_database)
        started.append(bot)
        return await bot.start(wait_ready=wait_ready)

    yield start
    for n, bot in enumerate(started):
        if bot.proc is not None and bot.proc.returncode is None:
            await bot.kill()
        print(f"----- log of bot process {n + 1} -----\n{bot.log}")  # shown when a test fails


# -- databases: every storage test runs on SQLite and on a throw-away PostgreSQL ----------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the whole run; skipped if it cannot start, unless required."""
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but no PostgreSQL test server could start: {exc}")
        pytest.skip(f"no PostgreSQL test server: {exc}")
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """The URL of a new, empty database on the test cluster."""
    return postgres.new_url()


@pytest.fixture(params=["sqlite", "postgres"])
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a storage test keeps its data: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "narrator.sqlite3"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
async def db(db_target: str | Path) -> AsyncIterator[Database]:
    """A migrated Database on each backend in turn."""
    async with Database(db_target) as database:
        yield database
