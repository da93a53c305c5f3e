"""SQLite serves one process: a second bot on the same file is refused in one sentence, and the
file is free again as soon as the first process is gone, however it ended."""

from __future__ import annotations

from pathlib import Path

from bot.storage.single_process import SingleProcess, lock_path
from driver.world import World


def error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if " ERROR " in line]


async def test_a_second_process_on_the_same_file_is_refused(emu, world: World, start_bot) -> None:
    first = await start_bot()
    second = await start_bot(wait_ready=False)
    assert await second.wait_exit(timeout=20) == 1
    (line,) = error_lines(second.log)
    assert "already used by another bot process" in line and "use PostgreSQL" in line
    assert f"pid {first.proc.pid}" in line
    assert "Traceback" not in second.log
    assert emu.identify_count == 1, "the refused process must not connect to Discord"
    assert first.proc.returncode is None, "the first process goes on"
    # Killed without a chance to clean up: the kernel drops the lock with the process.
    await first.kill()
    third = await start_bot()
    assert third.proc.returncode is None


def test_the_lock_is_the_files_own_and_released_on_exit(tmp_path: Path) -> None:
    database = tmp_path / "narrator.sqlite3"
    with SingleProcess(database):
        assert lock_path(database).exists()
    with SingleProcess(database):  # taken again at once: the first let go
        pass
    with SingleProcess(tmp_path / "other.sqlite3"), SingleProcess(database):
        pass  # another file is another lock


async def test_shards_for_a_cluster_on_sqlite_are_refused(emu, world: World, start_bot) -> None:
    bot = await start_bot(wait_ready=False, env={"NARRATOR_SHARDS": "0-1/4"})
    assert await bot.wait_exit(timeout=20) == 1
    (line,) = error_lines(bot.log)
    assert "SQLite serves one process" in line and "set DATABASE_URL" in line
    assert emu.identify_count == 0
