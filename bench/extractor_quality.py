"""Article extractors compared on the saved pages in tests/narration/pages.

For each page, `<name>.expect.json` lists phrases of the article that a reading must keep and
phrases of the page's chrome (menus, comments, sign-up boxes, footers) that it must drop. Prints,
per extractor, kept and leaked phrases, whether list numbering and code blocks survive as markup,
and the median extraction time. Run: .venv/bin/python bench/extractor_quality.py
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import lxml.html
from readability import Document

try:  # not a dependency of the project: pip install trafilatura to compare
    import trafilatura
except ImportError:
    trafilatura = None

PAGES = Path(__file__).resolve().parent.parent / "tests" / "narration" / "pages"


def _readability(html: str) -> str:
    return Document(html).summary(html_partial=True)


def _trafilatura(html: str) -> str:
    assert trafilatura is not None
    return (
        trafilatura.extract(
            html, output_format="html", include_formatting=True, favor_precision=True
        )
        or ""
    )


EXTRACTORS: dict[str, Callable[[str], str]] = {"readability-lxml": _readability}
if trafilatura is not None:
    EXTRACTORS["trafilatura"] = _trafilatura
else:
    print("trafilatura is not installed (.venv/bin/pip install trafilatura): not compared")


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def main() -> None:
    print(
        f"{'extractor':<18} {'page':<14} {'kept':>6} {'leaked':>7} {'<ol>':>5} {'<pre>':>6} {'ms':>6}"
    )
    totals: dict[str, list[int]] = {name: [0, 0, 0, 0] for name in EXTRACTORS}
    for page in sorted(PAGES.glob("*.html")):
        html = page.read_text()
        expect = json.loads(page.with_suffix(".expect.json").read_text())
        for name, extract in EXTRACTORS.items():
            times = []
            for _ in range(7):
                start = time.perf_counter()
                out = extract(html)
                times.append(time.perf_counter() - start)
            text = _norm(lxml.html.fromstring(out).text_content()) if out.strip() else ""
            kept = sum(_norm(k) in text for k in expect["keep"])
            leaked = sum(_norm(d) in text for d in expect["drop"])
            totals[name][0] += kept
            totals[name][1] += len(expect["keep"])
            totals[name][2] += leaked
            totals[name][3] += len(expect["drop"])
            print(
                f"{name:<18} {page.stem:<14} {kept:>3}/{len(expect['keep']):<2} "
                f"{leaked:>3}/{len(expect['drop']):<3} {'yes' if '<ol' in out else '-':>5} "
                f"{'yes' if '<pre' in out else '-':>6} {statistics.median(times) * 1000:>6.1f}"
            )
    for name, (kept, keep_n, leaked, drop_n) in totals.items():
        print(f"{name}: kept {kept}/{keep_n}, leaked {leaked}/{drop_n}")


if __name__ == "__main__":
    main()
