"""/proc readers for the voice bench (psutil is not a dependency): CPU ticks, RSS, threads, children.

Linux only. CPU is `utime + stime` of one process (its threads included, its children not), in
seconds; the kernel counts it in clock ticks (usually 10 ms), so windows of several seconds are
needed for a few-percent resolution.
"""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the `(comm)`; index 0 is field 3 (state)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text.rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` (all its threads), in seconds; 0.0 if it is gone."""
    try:
        fields = _stat_fields(pid)
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def reaped_children_cpu(pid: int) -> float:
    """cutime + cstime of `pid`'s children that have exited and been waited for, in seconds."""
    try:
        fields = _stat_fields(pid)
    except (OSError, IndexError):
        return 0.0
    return (int(fields[13]) + int(fields[14])) / TICK


def thread_cpu(pid: int) -> dict[int, float]:
    """utime + stime of each thread of `pid`, in seconds, by thread id (the main thread's is pid)."""
    found = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tids:
        try:
            text = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        found[int(tid)] = (int(fields[11]) + int(fields[12])) / TICK
    return found


def parent_of(pid: int) -> int | None:
    try:
        return int(_stat_fields(pid)[1])
    except (OSError, IndexError, ValueError):
        return None


def status_value(pid: int, key: str) -> int:
    """An integer line of /proc/<pid>/status, e.g. `VmRSS` (kB) or `Threads`; 0 if unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def children(pid: int, name: bytes = b"ffmpeg") -> list[int]:
    """Direct children of `pid` whose command line mentions `name`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        child = int(entry)
        if parent_of(child) != pid:
            continue
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if name in cmdline:
            found.append(child)
    return found


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


class CpuWindow:
    """CPU seconds used by a fixed set of processes between `start()` and `stop()`.

    A process that exits inside the window loses its last ticks (the kernel moves them to its
    parent's cumulative child time), so the bench keeps episodes longer than its windows and
    reports how many processes were gone at the end.
    """

    def __init__(self, pids: list[int]) -> None:
        self.pids = list(pids)
        self.before: dict[int, float] = {}
        self.after: dict[int, float] = {}
        self.gone = 0

    def start(self) -> None:
        self.before = {pid: cpu_seconds(pid) for pid in self.pids}

    def stop(self) -> float:
        self.after = {}
        self.gone = 0
        for pid in self.pids:
            if not Path(f"/proc/{pid}").exists():
                self.gone += 1
            self.after[pid] = cpu_seconds(pid)
        return self.total

    @property
    def total(self) -> float:
        return sum(max(0.0, self.after.get(p, 0.0) - self.before.get(p, 0.0)) for p in self.pids)


class ChildrenCpuWindow:
    """CPU seconds used by the ffmpeg children of `parent` between `start()` and `stop()`, exact
    even when some are replaced inside the window (a restarted stream): children alive at the end
    count from the start (or from their birth), and the ones that exited count through the
    parent's cumulative child time, less what they had used before the window."""

    def __init__(self, parent: int) -> None:
        self.parent = parent
        self.before: dict[int, float] = {}
        self.reaped_before = 0.0
        self.total = 0.0
        self.gone = 0  # children of the start that were gone at the end
        self.new = 0  # children born inside the window

    def start(self) -> None:
        self.before = {pid: cpu_seconds(pid) for pid in children(self.parent)}
        self.reaped_before = reaped_children_cpu(self.parent)

    def stop(self) -> float:
        after = {pid: cpu_seconds(pid) for pid in children(self.parent)}
        reaped = reaped_children_cpu(self.parent) - self.reaped_before
        gone = [pid for pid in self.before if pid not in after]
        self.gone = len(gone)
        self.new = sum(1 for pid in after if pid not in self.before)
        alive = sum(max(0.0, cpu - self.before.get(pid, 0.0)) for pid, cpu in after.items())
        self.total = alive + max(0.0, reaped - sum(self.before[pid] for pid in gone))
        return self.total
