"""Scripted failures: REST 429s (with Via + JSON body), 5xx, failures after the write committed,
and a gateway that accepts connections but never answers."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"\{[^}]+\}")


def normalise(path: str) -> str:
    """`/channels/{channel_id}/messages` and `/channels/{id}/messages` match the same route."""
    path = path.split("?", 1)[0].rstrip("/")
    if path.startswith("/api/v10"):
        path = path[len("/api/v10") :]
    return _PLACEHOLDER.sub("{}", path)


@dataclass
class Fault:
    kind: str  # "rate_limit" | "server_error" | "after_commit"
    method: str
    path: str
    count: int
    status: int = 500
    retry_after: float = 0.0
    global_: bool = False
    drop_connection: bool = False
    body: object = None  # this JSON instead of Discord's 500 body
    html: str | None = None  # an edge node's page (text/html) instead of any JSON body
    hits: int = 0

    def matches(self, method: str, template: str, concrete: str) -> bool:
        if self.count <= 0:
            return False
        if self.method not in ("*", method.upper()):
            return False
        wanted = normalise(self.path)
        if "{" in self.path:
            return wanted == normalise(template)
        return wanted == normalise(concrete)


class FaultInjector:
    def __init__(self) -> None:
        self.pending: list[Fault] = []
        # The gateway accepts websocket connections and then never says anything (no HELLO): a
        # Discord that is up at the TCP level but not answering.
        self.silent_gateway = False

    def rate_limit(
        self,
        method: str,
        path: str,
        *,
        retry_after: float = 0.3,
        count: int = 1,
        global_: bool = False,
    ) -> Fault:
        fault = Fault("rate_limit", method.upper(), path, count, 429, retry_after, global_)
        self.pending.append(fault)
        return fault

    def server_error(
        self,
        method: str,
        path: str,
        *,
        status: int = 500,
        count: int = 1,
        body: object = None,
        html: str | None = None,
    ) -> Fault:
        """Answer with `status` (and `body`, else a plain 500 body) instead of running the route;
        with `html`, that page as text/html, as Cloudflare's edge answers when Discord is down."""
        fault = Fault("server_error", method.upper(), path, count, status, body=body, html=html)
        self.pending.append(fault)
        return fault

    def fail_after_commit(
        self,
        method: str,
        path: str,
        *,
        status: int = 500,
        count: int = 1,
        drop_connection: bool = False,
        body: object = None,
    ) -> Fault:
        """The handler runs (the message IS created) but the client sees a 5xx (or `status` with
        `body`: a success whose body lacks what it should hold) or a dropped connection."""
        fault = Fault(
            "after_commit",
            method.upper(),
            path,
            count,
            status,
            drop_connection=drop_connection,
            body=body,
        )
        self.pending.append(fault)
        return fault

    def clear(self) -> None:
        self.pending.clear()
        self.silent_gateway = False

    def take(
        self, kinds: tuple[str, ...], method: str, template: str, concrete: str
    ) -> Fault | None:
        for fault in self.pending:
            if fault.kind in kinds and fault.matches(method, template, concrete):
                fault.count -= 1
                fault.hits += 1
                if fault.count <= 0:
                    self.pending.remove(fault)
                return fault
        return None
