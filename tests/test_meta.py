"""Cheap checks over the whole command surface: every extension loads into the bot, no two commands
share a name, every command and option says what it is for, and README's Commands table names
exactly the commands the bot has."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from discord import app_commands

from bot.bot import EXTENSIONS, Narrator
from bot.config import load_settings
from bot.db import Database
from driver.harness import write_config

ROOT = Path(__file__).resolve().parents[1]

Command = app_commands.Command | app_commands.Group | app_commands.ContextMenu


@pytest.fixture
async def loaded(tmp_path: Path) -> AsyncIterator[Narrator]:
    """The bot with every extension loaded, never logged in."""
    settings = load_settings(write_config(tmp_path))
    async with (
        Database(tmp_path / "narrator.sqlite3") as db,
        aiohttp.ClientSession() as session,
        aiohttp.ClientSession() as feed_session,
        Narrator(settings=settings, db=db, session=session, feed_session=feed_session) as bot,
    ):
        for extension in EXTENSIONS:
            await bot.load_extension(extension)
        yield bot


def walk(commands: list[Command]) -> list[Command]:
    """Every command, group and subcommand, depth first."""
    found: list[Command] = []
    for command in commands:
        found.append(command)
        if isinstance(command, app_commands.Group):
            found += walk(list(command.commands))
    return found


def test_every_cog_module_is_an_extension() -> None:
    modules = {f"cogs.{path.stem}" for path in (ROOT / "cogs").glob("*.py")} - {"cogs.__init__"}
    assert modules == set(EXTENSIONS)


async def test_every_extension_loads(loaded: Narrator) -> None:
    assert set(loaded.extensions) == set(EXTENSIONS)
    assert loaded.tree.get_commands(), "no slash commands were added"


async def test_no_two_commands_share_a_name(loaded: Narrator) -> None:
    top = Counter((type(c).__name__ == "ContextMenu", c.name) for c in loaded.tree.get_commands())
    assert [name for name, count in top.items() if count > 1] == []
    for group in walk(loaded.tree.get_commands()):
        if isinstance(group, app_commands.Group):
            names = Counter(c.name for c in group.commands)
            assert [n for n, count in names.items() if count > 1] == [], group.qualified_name


async def test_every_command_and_option_has_a_description(loaded: Narrator) -> None:
    missing: list[str] = []
    for command in walk(loaded.tree.get_commands()):
        if isinstance(command, app_commands.ContextMenu):
            continue  # Discord gives context menus no description
        if not command.description or command.description == "…":
            missing.append(f"/{command.qualified_name}")
        if isinstance(command, app_commands.Command):
            missing += [
                f"/{command.qualified_name} {p.name}"
                for p in command.parameters
                if not p.description or p.description == "…"
            ]
    assert missing == []


def readme_commands() -> list[list[str]]:
    """The slash commands README's Commands table names, as words: `/feed add <url> <channel>`
    is ["feed", "add"] and `/notify on\\|off` is ["notify", "on\\|off"]."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    named: list[list[str]] = []
    for row in section.splitlines():
        if row.startswith("| `/"):
            for span in re.findall(r"`/([^`]+)`", row.split(" | ", 1)[0]):
                named.append([w for w in span.split() if not w.startswith(("<", "["))])
    return named


async def test_readme_lists_every_command_and_no_other(loaded: Narrator) -> None:
    commands = [
        c.qualified_name.split()
        for c in walk(loaded.tree.get_commands())
        if isinstance(c, app_commands.Command)
    ]
    documented = readme_commands()

    def names(words: list[str], name: list[str]) -> bool:
        return words[: len(name)] == name

    missing = [" ".join(c) for c in commands if not any(names(d, c) for d in documented)]
    unknown = [" ".join(d) for d in documented if not any(names(d, c) for c in commands)]
    assert missing == [], "commands missing from README's Commands table"
    assert unknown == [], "README's Commands table names commands the bot does not have"
