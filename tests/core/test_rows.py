"""Dataclasses built from rows by field name (bot/rows.py)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pytest

from bot.rows import from_row


@dataclass(frozen=True)
class Item:
    id: int
    name: str
    active: bool
    note: str | None = None


@dataclass(frozen=True)
class Holder:
    id: int
    item: Item


def row(sql: str) -> sqlite3.Row:
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    return conn.execute(sql).fetchone()


def test_fields_are_read_from_their_columns_and_flags_become_bools() -> None:
    item = from_row(Item, row("SELECT 1 AS id, 'a' AS name, 1 AS active, 'x' AS extra"))
    assert item == Item(1, "a", True)
    assert item.active is True


def test_a_prefix_reads_a_joined_tables_columns_and_given_fields_win() -> None:
    r = row("SELECT 7 AS id, 1 AS i_id, 'b' AS i_name, 0 AS i_active, 'n' AS i_note")
    holder = from_row(Holder, r, item=from_row(Item, r, "i_"))
    assert holder == Holder(7, Item(1, "b", False, "n"))


def test_a_missing_column_without_a_default_is_an_error() -> None:
    with pytest.raises(TypeError):
        from_row(Item, row("SELECT 1 AS id, 'a' AS name"))
