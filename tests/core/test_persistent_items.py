"""Every button or menu that must survive a restart is registered, and in one place only."""

from __future__ import annotations

import importlib
from pathlib import Path

import discord

from bot.bot import PERSISTENT_ITEMS

ROOT = Path(__file__).resolve().parents[2]


def sources() -> list[Path]:
    return sorted([*ROOT.glob("bot/**/*.py"), *ROOT.glob("cogs/**/*.py")])


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def defined_dynamic_items() -> set[type]:
    """Every DynamicItem subclass defined in a module of bot/ or cogs/ that names DynamicItem."""
    found: set[type] = set()
    for path in sources():
        if "DynamicItem" not in path.read_text("utf-8"):
            continue
        module = importlib.import_module(module_name(path))
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, discord.ui.DynamicItem)
                and value.__module__ == module.__name__
            ):
                found.add(value)
    return found


def test_every_dynamic_item_is_registered_at_start_up() -> None:
    defined = defined_dynamic_items()
    assert defined, "no DynamicItem found: the search is broken"
    assert defined == set(PERSISTENT_ITEMS)


def test_dynamic_items_are_registered_only_in_setup_hook() -> None:
    callers = [
        module_name(path) for path in sources() if "add_dynamic_items(" in path.read_text("utf-8")
    ]
    assert callers == ["bot.bot"]
