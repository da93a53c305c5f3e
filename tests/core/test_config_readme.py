"""README's Configuration table names every key the typed settings accept, and no other, with the
defaults the code has."""

from __future__ import annotations

import re
import tomllib
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from bot.config import FeedSettings, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def settings_defaults() -> dict[str, Any]:
    """`section.key` (and `[[feeds]] key`) -> its default (MISSING when required)."""
    found: dict[str, Any] = {}
    for section in fields(Settings):
        if section.name == "feeds" or section.metadata.get("internal"):
            continue
        assert section.default_factory is not MISSING
        for key in fields(section.default_factory()):
            found[f"{section.name}.{key.name}"] = key.default
    for key in fields(FeedSettings):
        found[f"[[feeds]] {key.name}"] = key.default
    return found


def readme_rows() -> dict[str, str]:
    """Each key in the table -> the text of its default column (one part of it for rows like
    "`narration.cache_dir` / `cache_max_mb` | `data/narrations` / `500`")."""
    text = README.read_text()
    section = text.split("\n### Configuration\n", 1)[1].split("\n### ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        key_cell, default_cell = line.split(" | ")[:2]
        keys = re.findall(r"`([^`]+)`", key_cell)
        defaults = [d.strip() for d in default_cell.split(" / ")]
        prefix = keys[0].rpartition(".")[0] + "." if "." in keys[0] else ""
        for n, key in enumerate(keys):
            name = key if n == 0 or "." in key or key.startswith("[[") else prefix + key
            rows[name] = defaults[n] if len(defaults) == len(keys) else default_cell
    return rows


def literal(cell: str) -> Any:
    """A default as README writes it (`2.0`, `[]`, `false`, `INFO`), as a Python value."""
    inner = cell.strip("`")
    try:
        return tomllib.loads(f"v = {inner}")["v"]
    except tomllib.TOMLDecodeError:
        return inner


def test_every_key_is_documented_and_no_other() -> None:
    keys, documented = set(settings_defaults()), set(readme_rows())
    assert sorted(keys - documented) == [], "keys missing from README's Configuration table"
    assert sorted(documented - keys) == [], "README documents keys the settings do not accept"


def test_documented_defaults_are_the_codes() -> None:
    defaults, rows = settings_defaults(), readme_rows()
    wrong: list[str] = []
    for key, cell in rows.items():
        default = defaults.get(key, MISSING)
        if default is MISSING:
            assert cell == "required", key
            continue
        if not re.fullmatch(r"`[^`]*`", cell):
            continue  # said in words, e.g. "the forums' endpoints"
        expected = list(default) if isinstance(default, tuple) else default
        if literal(cell) != expected:
            wrong.append(f"{key}: README says {cell}, the code {default!r}")
    assert wrong == []
