"""Feed parsing speed: `bot.feeds.parse.parse_feed` against feedparser on the largest corpus feeds.

Run: `.venv/bin/python bench/parse_bench.py [--feeds N] [--repeat N]`. Both parsers get the same
bytes; the best of `--repeat` runs is reported. Also the cost over a bare lxml parse of the same
bytes (`lxml.etree.fromstring`, nothing extracted): the floor any lxml-based parser pays. The
corpus is `../shared/corpus` beside the repo, or `$NARRATOR_CORPUS`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import lxml.etree as etree  # noqa: E402

from bot.feeds.parse import parse_feed  # noqa: E402
from bot.feeds.summary import summary_of  # noqa: E402


def parse_with_summaries(body: bytes) -> None:
    """parse_feed plus every episode's Markdown summary, which is otherwise made on first use."""
    summary_of.cache_clear()
    for episode in parse_feed(body).episodes:
        _ = episode.summary


_BARE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def bare_lxml(body: bytes) -> None:
    """Only the XML parse: what parse_feed would cost if extracting fields were free."""
    etree.fromstring(body.lstrip(b"\xef\xbb\xbf \t\r\n"), _BARE)


def corpus_dir() -> Path:
    override = os.environ.get("NARRATOR_CORPUS")
    return Path(override) if override else ROOT.parent / "shared" / "corpus"


def feed_body(path: Path) -> bytes:
    """A podcastindex sample: four header lines, then the response body."""
    return path.read_bytes().split(b"\n", 4)[4]


def best_of(repeat: int, func: Callable[[], object]) -> float:
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=10, help="how many of the largest feeds")
    parser.add_argument("--repeat", type=int, default=5, help="runs per parser; the best counts")
    args = parser.parse_args(argv)
    try:
        import feedparser  # pyright: ignore[reportMissingTypeStubs]
    except ImportError:
        print("feedparser is not installed (pip install -e '.[dev]')", file=sys.stderr)
        return 1
    folder = corpus_dir() / "podcastindex"
    files = sorted(folder.glob("*_200.txt"), key=lambda p: p.stat().st_size, reverse=True)
    if not files:
        print(f"no corpus feeds in {folder}", file=sys.stderr)
        return 1
    header = f"{'feed':<14}{'KiB':>6}{'items':>6}{'fp items':>9}{'ours ms':>9}{'fp ms':>8}"
    print(header + f"{'ratio':>7}{'+summ. ms':>10}{'ratio':>7}{'lxml ms':>9}{'/lxml':>7}")
    ratios: list[float] = []
    full_ratios: list[float] = []
    lxml_ratios: list[float] = []
    for path in files[: args.feeds]:
        body = feed_body(path)
        ours_items = len(parse_feed(body).episodes)
        fp_items = len(feedparser.parse(body).entries)
        ours = best_of(args.repeat, lambda body=body: parse_feed(body))
        full = best_of(args.repeat, lambda body=body: parse_with_summaries(body))
        theirs = best_of(max(1, args.repeat // 2), lambda body=body: feedparser.parse(body))
        bare = best_of(args.repeat, lambda body=body: bare_lxml(body))
        ratios.append(theirs / ours)
        full_ratios.append(theirs / full)
        lxml_ratios.append(ours / bare)
        flag = "" if ours_items == fp_items else "  ITEM COUNT DIFFERS"
        print(
            f"{path.stem:<14}{len(body) / 1024:>6.0f}{ours_items:>6}{fp_items:>9}"
            f"{ours * 1000:>9.1f}{theirs * 1000:>8.1f}{theirs / ours:>6.1f}x"
            f"{full * 1000:>10.1f}{theirs / full:>6.1f}x{bare * 1000:>9.1f}{ours / bare:>6.2f}x{flag}"
        )
    print(f"geometric mean ratio: {_geomean(ratios):.1f}x parse_feed, ", end="")
    print(f"{_geomean(full_ratios):.1f}x with every summary converted ({len(ratios)} feeds)")
    print(f"parse_feed / bare lxml parse: {_geomean(lxml_ratios):.2f}x (geometric mean)")
    return 0


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
