"""When the announcer works: it sleeps until the next feed is due or a channel's retry comes up,
or until something wakes it (a new subscription, an episode owed again, shutdown).

RoboDanny's timer pattern: read the next due time from the database, wait on an event with that
timeout, and look again. An idle bot therefore costs one short round of queries per due feed
(and one every MAX_SLEEP), not two queries a second forever. What is due lives in the database;
only the short in-memory holds (a channel's retry backoff, a feed whose poll the database
refused) live here, as they did in the 1 s tick this replaces.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.announce.lanes import SlowLane
from bot.announce.store import AnnounceStore, FeedRow
from bot.backoff import Backoff
from bot.db import Database, DatabaseError
from bot.redact import redact_url

log = logging.getLogger(__name__)

MIN_ROUND_GAP = 1.0
"""Rounds started by the clock come at most once a second (the old tick's resolution), so many
feeds falling due one after another cost one round a second; a wake() is served at once."""
MAX_SLEEP = 60.0
"""The schedule is read again at least this often: a wall-clock jump or a row written by another
process is noticed within a minute."""
POLLS_STARTED = 20
"""Polls started at once; the rest of a round's due feeds wait in a queue and start as polls end
(the announcer runs 10 at a time anyway). A first start with thousands of due feeds would
otherwise create a task per feed at once, which stayed in the process's memory after the burst."""
DELIVERIES_AT_ONCE = 10
"""Channels posted in at the same time. Each owed channel's delivery is a task of its own (one
that Discord holds back must not hold the others), but a poll owing posts in thousands of
channels must not send thousands of requests at once: Discord's global limit is 50 a second,
and every 429 counts towards its ban on invalid requests."""
ERROR_PAUSE = 5.0  # seconds before a round that failed on the database is tried again
CHANNEL_RETRY = Backoff(first=1.0, cap=300.0)
"""A channel whose delivery failed (Discord down, permissions missing) is tried again after this;
a new episode for it, or an event that may have fixed it (retry_channels), cuts the wait short."""
GONE_RETRY = 6 * 3600.0
"""A deleted channel is tried again after this, not every `CHANNEL_RETRY.cap`: its posts stay
owed (nothing is dropped) but a channel id never comes back, and each try is a request Discord
answers 404. A new episode for it still tries at once; so does the bot's return to a server."""

_NEXT_DUE_SQL = (
    "SELECT MIN(next_poll_at) FROM feeds WHERE next_poll_at > ?"
    " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.feed_id = feeds.id)"
)


ClaimPolls = Callable[[list[int], float], Awaitable[set[int]]]


@dataclass(frozen=True)
class PollDone:
    """What a poll tells the scheduler: when the feed needs attention again."""

    at: float
    held: bool = False
    """True when the poll could not be recorded: the database still says the feed is due, so the
    scheduler keeps it back in memory until `at`."""
    fetch_seconds: float | None = None
    """How long the feed's host took to answer (None: no answer); a slow one puts the feed in the
    slow lane (bot/announce/lanes.py)."""


class DeliveryResult(Protocol):
    @property
    def retry(self) -> bool: ...

    @property
    def retry_after(self) -> float | None: ...

    @property
    def gone(self) -> bool: ...


class Work(Protocol):
    """The announcer's side: what a poll and a delivery are (cogs/announce.py)."""

    async def ready(self) -> None: ...

    async def poll(self, feed: FeedRow) -> PollDone: ...

    async def deliver(self, channel_id: int) -> DeliveryResult | None:
        """None: it failed on an unexpected error (logged), to be retried like any failure."""
        ...

    def busy(self, channel_id: int) -> bool: ...


class Scheduler:
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], float] = time.time,
        channel_retry: Backoff = CHANNEL_RETRY,
        claim_polls: ClaimPolls | None = None,
        round_slot: Callable[[float], float] | None = None,
        slow_poll_seconds: float = 5.0,
    ) -> None:
        self.db = db
        # Several processes on one database: of the due feeds, the ones this process may poll
        # now (bot/cluster/node.py); the others are another's until their claim runs out.
        self.claim_polls = claim_polls
        # N processes that may each claim any due feed take turns by the second for their
        # clock-started rounds (process k: seconds k, k+N, ...): the cluster looks about once a
        # second, as one process does, not N times. Maps a time to the next one in our turn.
        self.round_slot = round_slot or (lambda when: when)
        self.store = AnnounceStore(db)
        self.clock = clock
        self.channel_retry = channel_retry
        self.rounds = 0  # rounds of queries so far (tests and benchmarks read it)
        self._work: Work | None = None
        self._loop: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._event = asyncio.Event()
        self._urgent = False
        self._deadline = 0.0  # when the next round starts unless something wakes it sooner
        self._last_round = 0.0
        self._polling: set[int] = set()  # started or queued
        # Due feeds waiting to start, in two lanes: slow feeds' polls run only a few at a time,
        # so a host that drips its answers cannot hold every slot (bot/announce/lanes.py).
        self.slow_lane = SlowLane(slow_poll_seconds)
        self._queued: deque[FeedRow] = deque()
        self._queued_slow: deque[FeedRow] = deque()
        self._slow_running: set[int] = set()
        self._delivering: set[int] = set()
        self._delivery_slots = asyncio.Semaphore(DELIVERIES_AT_ONCE)
        self._feed_held: dict[int, float] = {}
        self._channel_retry_at: dict[int, float] = {}
        self._channel_failures: dict[int, int] = {}
        self._rate_limited_until: dict[int, float] = {}  # Discord's Retry-After; nothing cuts it
        self._recheck: set[int] = set()  # channels found busy: look again when they are free

    # -- life cycle --------------------------------------------------------------------------------

    def start(self, work: Work) -> None:
        self._work = work
        self._loop = asyncio.create_task(self._run(), name="announce-scheduler")

    async def stop(self, grace: float) -> None:
        """Stop the loop, give in-flight work `grace` seconds, then cancel what is left."""
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None
        for feed in (*self._queued, *self._queued_slow):  # never started: a poll ending now
            self._polling.discard(feed.id)  # must not start them
        self._queued.clear()
        self._queued_slow.clear()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:  # safe: every send is recorded before and checked after
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    @property
    def running(self) -> bool:
        return self._loop is not None and not self._loop.done()

    # -- events ------------------------------------------------------------------------------------

    def wake(self) -> None:
        """Look at the database now: a subscription was added or removed, or something is owed."""
        self._urgent = True
        self._event.set()

    def retry_channels(self, channel_ids: Iterable[int] | None = None) -> None:
        """Something that may have fixed these channels (all, with None) happened: a permission
        change, Discord reachable again. Their backoff is cut short (a 429's wait is not)."""
        waiting = self._channel_retry_at
        released = [
            c for c in (list(waiting) if channel_ids is None else channel_ids) if c in waiting
        ]
        for channel_id in released:
            del waiting[channel_id]
        if released:
            self.wake()

    def held_channels(self) -> list[int]:
        return list(self._channel_retry_at)

    def _due_at(self, when: float) -> None:
        """Something falls due at `when`: make sure the loop is awake by then."""
        when = self.round_slot(max(when, self._last_round + MIN_ROUND_GAP))
        if when < self._deadline:
            self._deadline = when
            self._event.set()

    # -- the loop ----------------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._work is not None
        await self._work.ready()
        while True:
            self._urgent = False
            self._event.clear()
            now = self.clock()
            self._last_round = now
            self._deadline = float("inf")  # work ending during the round may bring it forward
            try:
                next_due = await self._round(now)
            except DatabaseError as exc:
                self.db.report_failure("Looking for due feeds", exc)
                next_due = now + ERROR_PAUSE
            except Exception:
                log.exception("The announcer's scheduler failed unexpectedly; going on")
                next_due = now + ERROR_PAUSE
            planned = self.round_slot(max(min(next_due, now + MAX_SLEEP), now + MIN_ROUND_GAP))
            self._deadline = min(self._deadline, planned)
            await self._sleep()

    async def _sleep(self) -> None:
        """Until the deadline, which _due_at may bring forward, or until wake()."""
        while not self._urgent:
            timeout = self._deadline - self.clock()
            if timeout <= 0:
                return
            try:
                await asyncio.wait_for(self._event.wait(), timeout=timeout)
            except TimeoutError:
                return
            self._event.clear()

    async def _round(self, now: float) -> float:
        """Start what is due; returns when the next thing falls due."""
        assert self._work is not None
        self.rounds += 1
        upcoming: list[float] = []
        due = await self.store.due_feeds(now)
        for gone in self._feed_held.keys() - {f.id for f in due}:  # removed, or polled after all
            del self._feed_held[gone]
        startable: list[FeedRow] = []
        for feed in due:
            if feed.id in self._polling:
                continue  # its end tells us when it is due next
            held = self._feed_held.get(feed.id, 0.0)
            if held > now:
                upcoming.append(held)
                continue
            startable.append(feed)
        if startable and self.claim_polls is not None:
            mine = await self.claim_polls([f.id for f in startable], now)
            startable = [f for f in startable if f.id in mine]
        for feed in startable:
            self._polling.add(feed.id)
            slow = self.slow_lane.is_slow(feed.id, now)
            (self._queued_slow if slow else self._queued).append(feed)
        self._start_queued()
        waiting = set(await self.store.channels_with_waiting())
        held = self._channel_retry_at.keys() | self._rate_limited_until.keys()
        for gone in held - waiting:
            self._forget_channel(gone)  # nothing owed there any more (unsubscribed, say)
            self._rate_limited_until.pop(gone, None)
        for channel_id in waiting:
            if self._work.busy(channel_id) or channel_id in self._delivering:
                self._recheck.add(channel_id)  # held by a poll or a delivery, whose end wakes us
                continue
            at = self._channel_due(channel_id)
            if at > now:
                upcoming.append(at)
                continue
            self._start_delivery(channel_id)
        next_poll = await self.db.fetchval(_NEXT_DUE_SQL, now)
        if next_poll is not None:
            upcoming.append(float(next_poll))
        return min(upcoming, default=now + MAX_SLEEP)

    def _start_queued(self) -> None:
        while len(self._polling) - len(self._queued) - len(self._queued_slow) < POLLS_STARTED:
            if self._queued_slow and self.slow_lane.may_start_slow(len(self._slow_running)):
                feed = self._queued_slow.popleft()
                self._slow_running.add(feed.id)
            elif self._queued:
                feed = self._queued.popleft()
            else:
                return
            self._spawn(self._poll(feed))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- work --------------------------------------------------------------------------------------

    async def _poll(self, feed: FeedRow) -> None:
        assert self._work is not None
        try:
            done = await self._work.poll(feed)
        except Exception:  # the announcer reports its own failures; this is a bug around it
            log.exception("Polling %s failed unexpectedly", feed.url)
            done = PollDone(self.clock() + float(feed.poll_seconds), held=True)
        finally:
            self._polling.discard(feed.id)
            self._slow_running.discard(feed.id)
            self._start_queued()
        if self.slow_lane.record(feed.id, done.fetch_seconds, self.clock()):
            log.info(
                "Feed %s took %.1f s to answer: it is polled in the slow lane (a few polls at"
                " once) until it has answered within %g s for %g hours",
                redact_url(feed.url),
                done.fetch_seconds,
                self.slow_lane.threshold,
                self.slow_lane.slow_for / 3600,
            )
        if done.held:
            self._feed_held[feed.id] = done.at
        else:
            self._feed_held.pop(feed.id, None)
        self._due_at(done.at)
        self._after_work()

    def deliver_soon(self, channel_ids: Iterable[int]) -> None:
        """deliver_now, started from outside the scheduler's tasks (another process said these
        channels are owed posts): no round of queries, and stopped with the scheduler."""
        self._spawn(self.deliver_now(list(channel_ids)))

    async def deliver_now(self, channel_ids: Iterable[int]) -> None:
        """New episodes are owed here: deliver at once, whatever backoff the channels were in.

        Each channel's delivery is a task of its own, and the caller (a poll) does not wait for
        them: a send that discord.py holds for a long 429 (slowmode, say) must not keep the
        feed's other channels, or its next poll, waiting."""
        assert self._work is not None
        for channel_id in channel_ids:
            self._channel_retry_at.pop(channel_id, None)
            if self._work.busy(channel_id) or channel_id in self._delivering:
                self._recheck.add(channel_id)
            elif self._channel_due(channel_id) <= self.clock():
                self._start_delivery(channel_id)
            else:
                self._due_at(self._channel_due(channel_id))

    def _start_delivery(self, channel_id: int) -> None:
        self._delivering.add(channel_id)  # at once: a second look before the task runs skips it
        self._spawn(self._deliver(channel_id))

    async def _deliver(self, channel_id: int) -> None:
        assert self._work is not None
        self._delivering.add(channel_id)
        try:
            async with self._delivery_slots:
                result = await self._work.deliver(channel_id)
        finally:
            self._delivering.discard(channel_id)
        now = self.clock()
        if result is not None and result.retry_after:
            self._rate_limited_until[channel_id] = now + result.retry_after
        else:
            self._rate_limited_until.pop(channel_id, None)
        if result is not None and not result.retry:
            self._forget_channel(channel_id)
        else:
            failures = self._channel_failures.get(channel_id, 0) + 1
            self._channel_failures[channel_id] = failures
            gone = result is not None and result.gone
            delay = GONE_RETRY if gone else self.channel_retry.delay(failures)
            self._channel_retry_at[channel_id] = now + delay
            self._due_at(self._channel_due(channel_id))
        self._after_work()

    def _forget_channel(self, channel_id: int) -> None:
        self._channel_retry_at.pop(channel_id, None)
        self._channel_failures.pop(channel_id, None)

    def _channel_due(self, channel_id: int) -> float:
        return max(
            self._channel_retry_at.get(channel_id, 0.0),
            self._rate_limited_until.get(channel_id, 0.0),
        )

    def _after_work(self) -> None:
        """A channel found busy earlier may have more owed than its delivery saw: look again.

        Only at that channel: a whole round would read every due feed again, and during a burst
        of first polls that is once per poll, so the burst would cost the square of its size.
        """
        assert self._work is not None
        free = {c for c in self._recheck if not self._work.busy(c) and c not in self._delivering}
        if not free:
            return
        self._recheck -= free
        now = self.clock()
        for channel_id in sorted(free):
            at = self._channel_due(channel_id)
            if at > now:
                self._due_at(at)  # in backoff: the round at `at` looks at it
            else:
                self._start_delivery(channel_id)
