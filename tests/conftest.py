"""Shared fixtures: a started Discord emulator with a realistic guild, the bot as a process, the
feed and episode hosts, voice with tone files, TYPE III's stand-in, and the databases."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from bot.db import Database
from driver.audioserver import AudioServer
from driver.feedserver import FeedServer
from driver.harness import BotProcess, write_config
from driver.narrating import ForumStandIn
from driver.postgres import REQUIRE_ENV, PostgresServer, PostgresUnavailable, start_server
from driver.requesting import POST_ID, Type3StandIn
from driver.world import World, make_world
from emulator import ChannelType
from emulator.voice.tones import make_tone, make_tones


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
    return make_world(emu)


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    """A local feed server whose feeds tests change between polls."""
    async with FeedServer() as server:
        yield server


@pytest.fixture
async def audio() -> AsyncIterator[AudioServer]:
    """A local episode host."""
    async with AudioServer() as server:
        yield server


@pytest.fixture
async def voice(emu, tmp_path: Path):
    """The emulator's voice side; the bot process is told to trust its certificate."""
    return await emu.enable_voice(tmp_path / "certs")


STEP_SEGMENTS = [(300 + 100 * n, 1.0) for n in range(8)]  # 1 s steps: 300, 400, ... 1000 Hz


@pytest.fixture(scope="session")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tones")
    return {
        "a440": make_tone(folder / "a440.mp3", 440, 8),
        "a880": make_tone(folder / "a880.mp3", 880, 6),
        "steps": make_tones(folder / "steps.mp3", STEP_SEGMENTS),
        "mid": make_tone(folder / "mid.mp3", 550, 15),
        "long": make_tone(folder / "long.mp3", 660, 40),
        "a440_20": make_tone(folder / "a440_20.mp3", 440, 20),
    }


@pytest.fixture
async def type3() -> AsyncIterator[Type3StandIn]:
    """TYPE III's narration lookup, answering at once unless a test sets `delay`."""
    stand_in = Type3StandIn()
    await stand_in.start()
    try:
        yield stand_in
    finally:
        await stand_in.stop()


@pytest.fixture
async def forum() -> AsyncIterator[ForumStandIn]:
    """The forums' GraphQL API for /narrate and Listen now, serving post POST_ID."""
    stand_in = ForumStandIn(POST_ID)
    await stand_in.start()
    try:
        yield stand_in
    finally:
        await stand_in.stop()


@pytest.fixture
def review(emu, world: World) -> int:
    """The requests review channel."""
    return emu.add_channel(world.guild_id, "narration-review", ChannelType.TEXT).id


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
        extra_config: str = "",
        *,
        wait_ready: bool = True,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> BotProcess:
        config = write_config(tmp_path, extra_config)
        bot = BotProcess(emu, config, args=args, env={**bot_database, **(env or {})})
        started.append(bot)
        return await bot.start(wait_ready=wait_ready)

    yield start
    for n, bot in enumerate(started):
        await bot.reap()
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
