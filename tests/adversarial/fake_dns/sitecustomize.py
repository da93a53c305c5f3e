"""Loaded by the bot process of the audio-address tests (on its PYTHONPATH): test DNS.

`NARRATOR_TEST_PUBLIC_HOSTS` names hosts that "DNS" says are on the public internet: the address
policy is asked about a public address (and passes it), and the connection goes to the test
servers on 127.0.0.1. `NARRATOR_TEST_PRIVATE_HOSTS` names hosts that resolve to 127.0.0.1, checked
as usual. Every other name and every IP literal goes through the bot's unchanged checks.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from aiohttp.abc import ResolveResult

from bot import safe_fetch

PUBLIC_STAND_IN = ipaddress.ip_address("93.184.215.14")
PUBLIC = set(filter(None, os.environ.get("NARRATOR_TEST_PUBLIC_HOSTS", "").split(",")))
PRIVATE = set(filter(None, os.environ.get("NARRATOR_TEST_PRIVATE_HOSTS", "").split(",")))
_real_resolve = safe_fetch.SafeResolver.resolve


async def _resolve(
    self: safe_fetch.SafeResolver,
    host: str,
    port: int = 0,
    family: socket.AddressFamily = socket.AF_INET,
) -> list[ResolveResult]:
    if host in PUBLIC:
        self._policy.check(host, PUBLIC_STAND_IN)
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
        ]
    if host in PRIVATE:

        async def loopback(_host: str) -> list[str]:
            return ["127.0.0.1"]

        checked = safe_fetch.SafeResolver(self._policy, loopback)
        return await _real_resolve(checked, host, port, family)
    return await _real_resolve(self, host, port, family)


safe_fetch.SafeResolver.resolve = _resolve  # type: ignore[method-assign]
