"""Two bot processes on one host (shard ranges of one bot, started from one checkout) share the
machine readings' folder. One starting up must not take the other's reading under way for a
crash's leftover and delete it, and two making the same post at once must not write one file;
a reading left by a process that died is still cleaned up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.narration.engine import NarrationCache

KEY = "lw:abc123"
# Another bot process: opens the cache, starts writing KEY's reading, then keeps running.
OTHER = """
import sys, time
from pathlib import Path
from bot.narration.engine import NarrationCache
part = NarrationCache(Path(sys.argv[1]), 10**9).partial(sys.argv[2])
part.write_bytes(b"OggS growing")
print(part, flush=True)
time.sleep(60)
"""


def test_another_processs_reading_under_way_survives_this_ones_start(tmp_path: Path) -> None:
    other = subprocess.Popen(
        [sys.executable, "-c", OTHER, str(tmp_path), KEY], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout is not None
        theirs = Path(other.stdout.readline().strip())  # it has started writing
        assert theirs.exists()
        mine = NarrationCache(tmp_path, 10**9)  # this process starts
        assert theirs.exists(), "the other process's reading under way was deleted"
        assert mine.partial(KEY) != theirs, "two processes making one post write one file"
    finally:
        other.kill()
        other.wait(timeout=30)
    NarrationCache(tmp_path, 10**9)  # a later start: its writer is gone, so it is a leftover
    assert not theirs.exists()
