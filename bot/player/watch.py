"""One player's voice connection as one explicit state, moved by events and one deadline. Pure.

The player manager (`manager.py`) feeds it what happened (discord.py's voice client connected,
dropped, or was torn down; listeners came or went; audio frames were sent) and asks it at each
event, and at the one deadline it names, what to do: nothing, give up on a lost connection, leave
and rejoin a connection that carries no audio (the watchdog), or leave an empty or idle channel.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

# discord.py retries some voice failures forever (e.g. close 4017, DAVE required); past this many
# seconds without a working connection, the session ends with a message instead.
RECONNECT_GRACE = 15.0
# Leaves and rejoins the watchdog tries on one silence before it tells the channel.
MAX_REJOINS = 3

Verdict = Literal["give_up", "rejoin", "silent", "kicked", "alone", "idle"]
"""give_up: the connection stayed down for the grace; rejoin: no audio for the watchdog's
time; silent: rejoining did not bring audio back; kicked: discord.py tore the client down (kicked,
channel gone); alone: no listener for `alone_seconds`; idle: nothing played for `idle_seconds`."""


class Link(enum.Enum):
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"  # discord.py is reconnecting, or the watchdog is rejoining
    GIVEN_UP = "given up"  # a verdict ended the session; nothing more is decided


@dataclass(frozen=True, slots=True)
class Limits:
    alone_seconds: float
    idle_seconds: float
    silence_seconds: float
    """The watchdog: a player that should be playing but sent no audio this long rejoins."""
    reconnect_grace: float = RECONNECT_GRACE
    max_rejoins: int = MAX_REJOINS


class VoiceWatch:
    """Created once the player's first connection is up; every time is a monotonic `now`."""

    def __init__(self, limits: Limits, now: float) -> None:
        self.limits = limits
        self.link = Link.CONNECTED
        self.down_since: float | None = None
        self.alone_since: float | None = None
        self.idle_since: float | None = None
        self.silent_since: float | None = None  # wants audio, and no frame went out since
        self.frames = 0
        self.rejoins = 0  # rejoins during the current silence
        self.rejoining = False

    # -- events ------------------------------------------------------------------------------

    def connected(self, now: float) -> None:
        if self.link is not Link.GIVEN_UP:
            self.link = Link.CONNECTED
            self.down_since = None

    def dropped(self, now: float) -> None:
        if self.link is Link.CONNECTED:
            self.link = Link.RECONNECTING
            self.down_since = now

    def torn_down(self, now: float) -> Verdict | None:
        """discord.py disconnected the client for good: the watchdog's rejoin, or a kick (the
        manager stops watching a player before it leaves on purpose)."""
        if self.rejoining or self.link is Link.GIVEN_UP:
            self.dropped(now)
            return None
        self.link = Link.GIVEN_UP
        return "kicked"

    def listeners(self, now: float, count: int) -> None:
        if count:
            self.alone_since = None
        elif self.alone_since is None:
            self.alone_since = now

    def audio(self, now: float, *, frames: int, wants_audio: bool, idle: bool) -> None:
        """What the player is doing: `frames` counts every frame it ever handed to Discord."""
        if frames != self.frames:
            self.frames = frames
            self.silent_since = now if wants_audio else None
            self.rejoins = 0  # audio flowed: a later silence gets its own rejoins
        elif not wants_audio:
            self.silent_since = None
        elif self.silent_since is None:
            self.silent_since = now
        if not idle:
            self.idle_since = None
        elif self.idle_since is None:
            self.idle_since = now

    def rejoin_started(self, now: float) -> None:
        self.rejoins += 1
        self.rejoining = True
        self.dropped(now)

    def rejoin_ended(self, now: float) -> None:
        """The attempt is over (connected or not): the next silence is measured from here."""
        self.rejoining = False
        if self.silent_since is not None:
            self.silent_since = now

    # -- decisions -----------------------------------------------------------------------------

    def deadline(self) -> float | None:
        """When `due` may next say something without a new event; None: only events matter."""
        if self.link is Link.GIVEN_UP:
            return None
        limits = self.limits
        times = []
        if self.silent_since is not None and not self.rejoining:
            times.append(self.silent_since + limits.silence_seconds)
        if self.link is Link.RECONNECTING and self.down_since is not None:
            times.append(self.down_since + limits.reconnect_grace)
        if self.link is Link.CONNECTED:
            if self.alone_since is not None:
                times.append(self.alone_since + limits.alone_seconds)
            if self.idle_since is not None:
                times.append(self.idle_since + limits.idle_seconds)
        return min(times, default=None)

    def due(self, now: float) -> Verdict | None:
        if self.link is Link.GIVEN_UP:
            return None
        limits = self.limits
        if (
            self.link is Link.RECONNECTING
            and self.down_since is not None
            and now >= self.down_since + limits.reconnect_grace
        ):
            self.link = Link.GIVEN_UP
            return "give_up"
        if (
            self.silent_since is not None
            and not self.rejoining
            and now >= self.silent_since + limits.silence_seconds
        ):
            if self.rejoins >= limits.max_rejoins:
                self.link = Link.GIVEN_UP
                return "silent"
            return "rejoin"
        if self.link is Link.CONNECTED:
            if self.alone_since is not None and now >= self.alone_since + limits.alone_seconds:
                self.link = Link.GIVEN_UP
                return "alone"
            if self.idle_since is not None and now >= self.idle_since + limits.idle_seconds:
                self.link = Link.GIVEN_UP
                return "idle"
        return None
