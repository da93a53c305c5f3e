"""The shutdown promise holds even when closing hangs: exit 0 within SHUTDOWN_DEADLINE seconds."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

from bot.startup import CLOSE_TIMEOUT, SHUTDOWN_DEADLINE
from driver.harness import ROOT

HANGING = textwrap.dedent(
    """
    import asyncio, logging, sys
    from bot.startup import Shutdown

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")

    class NeverCloses:
        async def close(self):
            await asyncio.Event().wait()

    async def main():
        shutdown = Shutdown()
        shutdown.install()
        print("running", flush=True)
        try:
            await shutdown.guard(NeverCloses(), asyncio.Event().wait())
        finally:
            await NeverCloses().close()  # and what comes after hangs too

    asyncio.run(main())
    """
)


def test_a_close_that_hangs_still_exits_zero_by_the_deadline() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HANGING],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "running"
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=SHUTDOWN_DEADLINE + 10)
    took = time.monotonic() - started
    assert proc.returncode == 0, err
    assert CLOSE_TIMEOUT < took < SHUTDOWN_DEADLINE + 1.5, took
    assert f"Closing took more than {CLOSE_TIMEOUT:.0f} s" in err
    assert f"Shutdown did not finish within {SHUTDOWN_DEADLINE:.0f} s; exiting now" in err
    assert err.count("Received SIGTERM") == 1
