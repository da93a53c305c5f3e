"""Soak run from the command line; the run itself is `driver.soak` (the suite runs it short).

Run from the project root:
    .venv/bin/python bench/soak.py --minutes 10 --feeds 200 [--seed N]
    .venv/bin/python bench/soak.py --processes 3 [--minutes 3 --feeds 40 --kills 4]
The second is the cluster soak (`driver.soak_cluster`): N bot processes on one PostgreSQL
database (a throw-away one unless --database-url), random SIGKILLs; `--processes 1` is its
baseline. Exit code 1 on any duplicate, loss or inconsistency (the details are printed).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from driver.soak import main  # noqa: E402
from driver.soak_cluster import main as cluster_main  # noqa: E402

if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(cluster_main() if "--processes" in sys.argv else main())
