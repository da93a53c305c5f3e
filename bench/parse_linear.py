"""Parse time against the size of one hostile field: linear, so 1 MB costs about 100x 10 KB.

Run: `.venv/bin/python bench/parse_linear.py [--repeat N] [--sizes 10000,100000,1000000]`. Each
row is one field kind that once made the parser quadratic (a 30,000-letter `<pubDate>` took
seconds), blown up to each size inside an otherwise normal one-item feed; the time covers
parse_feed and the episode's summary. The last column is time(largest) / time(smallest) against
size(largest) / size(smallest): linear is at most that, quadratic is its square.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.feeds.parse import parse_feed  # noqa: E402
from driver.hostile_feeds import feed_with  # noqa: E402

CASES: list[tuple[str, str, Callable[[int], str]]] = [
    ("pubDate: '1 ' + letters", "date", lambda n: "1 " + "a" * n),
    ("pubDate: letters", "date", lambda n: "a" * n),
    ("pubDate: date, spaces, x", "date", lambda n: "Jun 1 2025 " + " " * n + "x"),
    ("duration: '1h', spaces, x", "duration", lambda n: "1h" + " " * n + "x"),
    ("duration: digits + 'h'", "duration", lambda n: "1" * n + "h"),
    ("title: letters", "title", lambda n: "a" * n),
    ("link: http:// + letters", "link", lambda n: "http://" + "a" * n),
    ("description: 'Source:' + words", "description", lambda n: "Source: " + "a " * (n // 2)),
    ("description: First published", "description", lambda n: "First published: " + "a" * n),
    ("description: outline lines", "description", lambda n: "Outline:\n" + "(1:00) a\n" * (n // 9)),
    ("description: <b> soup", "description", lambda n: "&lt;b&gt;x " * (n // 11)),
]


def seconds(data: bytes, repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        for episode in parse_feed(data).episodes:
            _ = episode.summary
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="runs per size; the best counts")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="field sizes, characters")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    growth = sizes[-1] / sizes[0]
    print(f"{'field':<34}" + "".join(f"{f'{s:,} ms':>14}" for s in sizes) + f"{'ratio':>9}")
    worst = 0.0
    for label, field, make in CASES:
        times = []
        for size in sizes:
            data = feed_with(field, make(size))
            times.append(seconds(data, args.repeat))
        ratio = times[-1] / times[0]
        worst = max(worst, ratio)
        cells = "".join(f"{t * 1000:>14.2f}" for t in times)
        print(f"{label:<34}{cells}{ratio:>8.0f}x")
    print(
        f"field {growth:,.0f}x larger: parse time at most {worst:.0f}x (linear: <= {growth:,.0f}x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
