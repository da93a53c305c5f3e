"""A process's place in a cluster: the guilds it owns, and its turns for scheduler rounds."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.cluster.node import Node
from bot.config import DiscordSettings, Settings
from bot.db import Database


def node(target: str | Path, shard_count: int = 6, shard_ids: tuple[int, ...] = ()) -> Node:
    discord = DiscordSettings(shard_count=shard_count, shard_ids=shard_ids)
    return Node(Database(target), replace(Settings(), discord=discord))


PG = "postgresql://narrator@127.0.0.1:5432/narrator"  # never opened here


def test_a_process_owns_the_guilds_of_its_shards(tmp_path: Path) -> None:
    mine = node(PG, 6, (2, 3))
    assert [mine.owns_guild((n << 22) | 12345) for n in range(6)] == [
        False,
        False,
        True,
        True,
        False,
        False,
    ]
    assert not mine.owns_guild(None), "DMs and unknown guilds are shard 0's"
    assert node(PG, 6, (0, 1)).owns_guild(0)
    assert node(tmp_path / "x.sqlite3").owns_guild(5 << 22), "without shard_ids: every guild"


def test_processes_take_turns_by_the_second(tmp_path: Path) -> None:
    second = node(PG, 6, (2, 3))
    assert (second.processes, second.index) == (3, 1)
    assert second.round_slot(100.2) == 100.2, "second 100 is process 1's (100 % 3 == 1)"
    assert second.round_slot(101.5) == 103.0
    assert second.round_slot(102.0) == 103.0
    turns = {n: node(PG, 6, (2 * n, 2 * n + 1)) for n in range(3)}
    # Every second belongs to exactly one of the three.
    for t in range(200, 230):
        assert sum(turns[n].round_slot(t + 0.5) == t + 0.5 for n in range(3)) == 1


def test_alone_there_are_no_turns(tmp_path: Path) -> None:
    for alone in (node(tmp_path / "x.sqlite3", 6, (2, 3)), node(PG, 1), node(PG, 6)):
        assert alone.processes == 1 or not alone.shared
        assert alone.round_slot(101.5) == 101.5
