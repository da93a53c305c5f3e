"""Frozen dataclasses built from database rows by field name, so a query's columns are its record.

    feed = from_row(FeedRow, row, validators=Validators(row["etag"], row["last_modified"]))

Each field is read from the column of the same name (after `prefix`, for a joined table's
aliased columns); `bool` fields accept the 0/1 integers both backends store; a field that is not
one column (a nested record, a decoded blob) is given by keyword.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Any, TypeVar

from bot.storage.base import Row

T = TypeVar("T")

MAX_ROW_ID = 2**63 - 1  # the largest integer SQLite and PostgreSQL's BIGINT hold


def row_id(digits: str) -> int:
    """A row id read from a component's custom id. Past what a database column can hold (a
    forged id: Discord allows 100 characters) it is 0, which names no row, so the item answers
    as for a row that is gone instead of failing in the database."""
    value = int(digits)
    return value if value <= MAX_ROW_ID else 0


@functools.cache
def _plan(cls: type) -> tuple[tuple[str, bool], ...]:
    """(field name, is a bool) for each init field of `cls`, read once per class."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name] is bool) for f in dataclasses.fields(cls) if f.init)


def from_row(cls: type[T], row: Row, prefix: str = "", **given: Any) -> T:
    """A `cls` from `row`: each field from its column unless `given`, defaults where absent."""
    columns = set(row.keys())
    values: dict[str, Any] = {}
    for name, is_bool in _plan(cls):
        if name in given:
            values[name] = given[name]
        elif (column := prefix + name) in columns:
            value = row[column]
            values[name] = bool(value) if is_bool else value
    return cls(**values)
