"""Shards per process: [discord] shard_ids and NARRATOR_SHARDS, checked against shard_count."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings, parse_shards, read_environment


def settings_from(tmp_path: Path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings(path)


def test_no_shard_ids_means_every_shard(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "[discord]\nshard_count = 4\n")
    assert settings.discord.own_shards is None


def test_shard_ids_in_the_file(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "[discord]\nshard_count = 8\nshard_ids = [5, 4]\n")
    assert settings.discord.own_shards == (4, 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shard_count = 2\nshard_ids = [2]", "discord.shard_ids: shard 2 does not exist"),
        ("shard_count = 0\nshard_ids = [0]", "needs a fixed discord.shard_count"),
        ("shard_count = 4\nshard_ids = [1, 1]", "must not name a shard twice"),
        ("shard_count = 4\nshard_ids = [-1]", "must hold shard numbers"),
    ],
)
def test_impossible_shard_ids_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from(tmp_path, f"[discord]\n{text}\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0-3", ((0, 1, 2, 3), None)),
        ("0,2, 5", ((0, 2, 5), None)),
        ("4-7/8", ((4, 5, 6, 7), 8)),
        ("3", ((3,), None)),
    ],
)
def test_narrator_shards_forms(text: str, expected: tuple) -> None:
    assert parse_shards(text) == expected


@pytest.mark.parametrize(
    "text", ["a-b", "3-1", "0,0", "0-3/0", "-1", "", "²", "0-99999999999", "0-99999,100000"]
)
def test_narrator_shards_nonsense_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="NARRATOR_SHARDS"):  # at once: nothing huge is built
        parse_shards(text)


@pytest.mark.parametrize("count", ["²", "0", "x", "-2"])
def test_narrator_shard_count_nonsense_is_refused(count: str) -> None:
    with pytest.raises(ConfigError, match="NARRATOR_SHARD_COUNT"):
        read_environment({"NARRATOR_SHARD_COUNT": count})


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "[discord]\nshard_count = 2\nshard_ids = [0]\n")
    env = read_environment({"NARRATOR_SHARDS": "4-7", "NARRATOR_SHARD_COUNT": "8"})
    applied = env.applied_to(settings)
    assert applied.discord.shard_count == 8
    assert applied.discord.own_shards == (4, 5, 6, 7)
    assert env.applied_to(settings_from(tmp_path, "")).discord.own_shards == (4, 5, 6, 7)


def test_environment_naming_a_missing_shard_says_where_it_came_from(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "[discord]\nshard_count = 2\n")
    env = read_environment({"NARRATOR_SHARDS": "2-3"})
    with pytest.raises(ConfigError, match=r"shard 2 does not exist.*NARRATOR_SHARDS"):
        env.applied_to(settings)
