"""A long fuzz run of parse_feed: the suite's hostile-feed mutations, as many examples as you like.

Run: `.venv/bin/python bench/parse_fuzz.py [--examples 20000] [--seed N] [--corpus]`. Seeds are
the feeds in tests/feeds/cases and tests/feeds/fixtures, plus (with `--corpus`) the small
podcastparser feeds of ../shared/corpus. Each example is a seed truncated, with bytes flipped,
junk inserted, slices repeated, a field blown up or elements nested (1-3 of these), exactly as in
`driver/hostile_feeds.py`, which the suite uses. Every document must parse or be refused with one
sentence, within the suite's time bound; the first that does not is written to
`parse_fuzz_failure.xml` and the run stops. Prints examples per second and the slowest parse.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from driver import hostile_feeds as fuzz  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--corpus", action="store_true", help="also the podcastparser feeds")
    args = parser.parse_args(argv)
    if args.corpus:
        override = os.environ.get("NARRATOR_CORPUS")
        corpus = Path(override) if override else ROOT.parent / "shared" / "corpus"
        fuzz.SEEDS.extend(sorted((corpus / "podcastparser").glob("*.rss")))
    slowest = [0.0, 0]
    count = [0]

    @seed(args.seed)
    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(fuzz.mangled())
    def run(data: bytes) -> None:
        started = time.perf_counter()
        try:
            fuzz.check(data)
        except BaseException:
            (ROOT / "parse_fuzz_failure.xml").write_bytes(data)
            raise
        elapsed = time.perf_counter() - started
        count[0] += 1
        if elapsed > slowest[0]:
            slowest[:] = [elapsed, len(data)]

    started = time.perf_counter()
    run()
    took = time.perf_counter() - started
    print(
        f"{count[0]:,} examples from {len(fuzz.SEEDS)} seeds (seed {args.seed}) in {took:.1f} s "
        f"({count[0] / took:,.0f}/s): all parsed or refused in one sentence; slowest "
        f"{slowest[0] * 1000:.1f} ms ({slowest[1]:,} bytes)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
