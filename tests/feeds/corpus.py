"""Where the shared real-feed corpus lives, and how to skip (locally) or fail (in CI) without it."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def corpus_dir() -> Path:
    """`../shared/corpus` beside the repository, or `$NARRATOR_CORPUS`."""
    override = os.environ.get("NARRATOR_CORPUS")
    return Path(override) if override else (REPO / ".." / "shared" / "corpus").resolve()


def require_corpus() -> Path:
    """The corpus directory; skips the test when it is missing, but fails it in CI."""
    folder = corpus_dir()
    if not (folder / "podcastindex" / "EXPECTED.tsv").is_file():
        message = f"feed corpus not found at {folder} (set NARRATOR_CORPUS)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return folder


def podcastindex_body(path: Path) -> bytes:
    """A podcastindex sample: four header lines, then the raw response body."""
    return path.read_bytes().split(b"\n", 4)[4]


def expected_counts() -> dict[str, int | None]:
    """input file -> item count from EXPECTED.tsv (None for the stubs and non-feeds)."""
    path = corpus_dir() / "podcastindex" / "EXPECTED.tsv"
    lines = [line for line in path.read_text("utf-8").splitlines() if not line.startswith("#")]
    counts: dict[str, int | None] = {}
    for row in csv.DictReader(lines, delimiter="\t"):
        counts[row["input_file"]] = int(row["ref_items"]) if row["ref_items"] else None
    return counts
