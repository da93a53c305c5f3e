"""The soak test's verdict: what every channel was owed, what it got, what members did and what
the bot kept, and the bot's warnings grouped by message template. No I/O except reading the
bot's SQLite file (after the bot stopped) and the emulator's recorded state.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.db import Database
from driver.soak_feeds import SoakFeed

# narrator:play:<id>, or with the episode's key (and :a on an announcement): bot/announce/markers.py
PLAY = re.compile(r"^narrator:play:(\d+)(?::[0-9a-f]{16}(?::a)?)?$")
DIGEST = re.compile(r"^narrator:digest:([0-9a-f]+)$")
DIGEST_TITLE = re.compile(r"^(\d+) new episodes")


@dataclass
class Subscription:
    feed: SoakFeed
    channel_id: int
    kind: str  # channel type name, for the report
    since: float  # time.monotonic() when a running bot first had it in its config


@dataclass
class Post:
    message_id: int
    alt_ids: tuple[int, ...]  # a forum post is known by its thread id and its starter message id
    channel_id: int
    episode_id: int | None  # a single announcement
    digest_key: str | None  # or a digest
    title: str
    option_ids: tuple[int, ...] = ()
    digest_count: int | None = None
    at: float | None = None


@dataclass
class Verdict:
    lines: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    inconsistencies: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.duplicates or self.losses or self.extras or self.inconsistencies)


def _components(message: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for row in message.get("components") or []:
        yield from row.get("components") or [row]


def collect_posts(emu: Any, channel_id: int, is_forum: bool, times: dict[int, float]) -> list[Post]:
    """Every announcement or digest the bot made in a channel (or as posts of a forum)."""
    if is_forum:
        starters = []
        for thread in emu.threads(channel_id):
            message = thread.get("message")
            if message is not None:
                starters.append((int(thread["id"]), message))
    else:
        starters = [(None, m) for m in emu.messages(channel_id)]
    posts: list[Post] = []
    for thread_id, message in starters:
        if int(message["author"]["id"]) != emu.bot.id:
            continue
        embeds = message.get("embeds") or []
        title = embeds[0].get("title", "") if embeds else (message.get("content") or "")
        ids = tuple(dict.fromkeys((int(message["id"]), *((thread_id,) if thread_id else ()))))
        at = times.get(int(message["id"]))
        marked = False
        for comp in _components(message):
            custom_id = comp.get("custom_id") or ""
            marked = marked or bool(PLAY.match(custom_id) or DIGEST.match(custom_id))
            if m := PLAY.match(custom_id):
                posts.append(Post(ids[0], ids, channel_id, int(m[1]), None, title, at=at))
                break
            if m := DIGEST.match(custom_id):
                options = tuple(
                    int(o["value"].split(":", 1)[0])  # <id> or <id>:<key>
                    for o in comp.get("options") or []
                    if o["value"] != "0"
                )
                count = DIGEST_TITLE.match(title)
                posts.append(
                    Post(
                        ids[0],
                        ids,
                        channel_id,
                        None,
                        m[1],
                        title,
                        options,
                        int(count[1]) if count else None,
                        at=at,
                    )
                )
                break
        if not marked and embeds and embeds[0].get("author"):
            # an announcement without a Play button (an episode stored without audio): the
            # database's delivery record says which episode it is
            posts.append(Post(ids[0], ids, channel_id, None, None, title, at=at))
    return posts


@dataclass
class DbView:
    episodes: dict[int, tuple[int, str, str]]  # episode id -> (feed index, guid, title)
    deliveries: dict[tuple[int, int], tuple[str, int | None]]  # (episode, channel) -> state, msg
    by_message: dict[tuple[int, int], list[int]]  # (channel, message id) -> episode ids
    requests: dict[tuple[int, str], dict[str, Any]]  # (guild, post key) -> row
    votes: dict[int, set[int]]  # request id -> user ids


async def read_db(target: str | Path) -> DbView:
    """The bot's database after the run (SQLite file or PostgreSQL URL), read through bot.db."""
    async with Database(target) as db:
        feed_index = {
            r["id"]: int(re.search(r"/(\d{3})\.rss$", r["url"])[1])  # type: ignore[index]
            for r in await db.fetch("SELECT id, url FROM feeds")
        }
        episodes = {
            r["id"]: (feed_index[r["feed_id"]], r["guid"], r["title"])
            for r in await db.fetch("SELECT id, feed_id, guid, title FROM episodes")
        }
        deliveries: dict[tuple[int, int], tuple[str, int | None]] = {}
        by_message: dict[tuple[int, int], list[int]] = defaultdict(list)
        for r in await db.fetch("SELECT episode_id, channel_id, state, message_id FROM deliveries"):
            deliveries[(r["episode_id"], r["channel_id"])] = (r["state"], r["message_id"])
            if r["message_id"] is not None:
                by_message[(r["channel_id"], r["message_id"])].append(r["episode_id"])
        requests = {
            (r["guild_id"], r["post_key"]): dict(r)
            for r in await db.fetch("SELECT * FROM requests")
        }
        votes: dict[int, set[int]] = defaultdict(set)
        for r in await db.fetch("SELECT request_id, user_id FROM request_votes"):
            votes[r["request_id"]].add(r["user_id"])
    return DbView(episodes, deliveries, dict(by_message), requests, dict(votes))


def check_deliveries(
    subscriptions: list[Subscription],
    posts_by_channel: dict[int, list[Post]],
    db: DbView,
    migration_version: int | None,
    blocked: tuple[int, float, float] | None,
    verdict: Verdict,
) -> None:
    """Each owed episode exactly once per subscribed channel; digest-covered ones via the digest."""
    guid_of = {eid: (feed, guid) for eid, (feed, guid, _t) in db.episodes.items()}
    title_of = {eid: title for eid, (_f, _g, title) in db.episodes.items()}
    # what each post covers, as (feed index, guid)
    covered: dict[int, list[tuple[Post, tuple[int, str]]]] = defaultdict(list)
    for channel_id, posts in posts_by_channel.items():
        for post in posts:
            if post.episode_id is not None:
                if post.episode_id not in guid_of:
                    verdict.inconsistencies.append(
                        f"channel {channel_id}: message {post.message_id} names episode "
                        f"{post.episode_id}, unknown to the database"
                    )
                    continue
                if title_of[post.episode_id] != post.title and not post.title.startswith("**"):
                    verdict.inconsistencies.append(
                        f"channel {channel_id}: message {post.message_id} is titled "
                        f"{post.title!r} but its button names {title_of[post.episode_id]!r}"
                    )
                covered[channel_id].append((post, guid_of[post.episode_id]))
            elif post.digest_key is None:  # unmarked: identified by the delivery record
                eids = [e for alt in post.alt_ids for e in db.by_message.get((channel_id, alt), [])]
                verdict.lines.append(
                    f"channel {channel_id}: message {post.message_id} ({post.title!r}) has no "
                    f"Play button; the database says it carries episodes {eids}"
                )
                if not eids:
                    verdict.inconsistencies.append(
                        f"channel {channel_id}: bot post {post.message_id} ({post.title!r}) "
                        "carries no marker and no delivery record"
                    )
                for eid in eids:
                    covered[channel_id].append((post, guid_of[eid]))
            else:
                ids: list[int] = []
                for alt in post.alt_ids:
                    ids = db.by_message.get((channel_id, alt), []) or ids
                if not ids:
                    verdict.inconsistencies.append(
                        f"channel {channel_id}: digest message {post.message_id} ({post.title!r}) "
                        "is not recorded as sent in the database (a copy the bot does not know of)"
                    )
                    ids = list(post.option_ids)
                if post.digest_count is not None and post.digest_count != len(ids):
                    verdict.inconsistencies.append(
                        f"channel {channel_id}: digest {post.message_id} says {post.digest_count} "
                        f"episodes, the database links {len(ids)} to it"
                    )
                if not set(post.option_ids) <= set(ids):
                    verdict.inconsistencies.append(
                        f"channel {channel_id}: digest {post.message_id} offers episodes "
                        f"{sorted(set(post.option_ids) - set(ids))} it does not cover"
                    )
                for eid in ids:
                    if eid in guid_of:
                        covered[channel_id].append((post, guid_of[eid]))

    owed_total = posted_total = digests = seeded_late = 0
    for sub in subscriptions:
        feed, channel_id = sub.feed, sub.channel_id
        label = f"feed {feed.index:03d} ({feed.kind}) in channel {channel_id} ({sub.kind})"
        mine = [(p, g) for p, (f, g) in covered[channel_id] if f == feed.index]
        counts = Counter(g for _p, g in mine)
        skipped = {
            guid_of[eid][1]
            for (eid, ch), (state, _m) in db.deliveries.items()
            if ch == channel_id and state == "skipped" and guid_of[eid][0] == feed.index
        }
        served_versions = sorted({v for t, v in feed.served if t >= sub.since - 0.5})
        seed = None
        for number in served_versions:
            version = feed.versions[number]
            if set(version.guids) - {version.newest} == skipped:
                seed = version
                break
        if seed is None:
            verdict.inconsistencies.append(
                f"{label}: the {len(skipped)} episodes skipped at the first poll match no "
                f"version of the feed served since the subscription began "
                f"(served versions {served_versions[:5]}...)"
            )
            if not served_versions:
                verdict.losses.append(f"{label}: the feed was never served successfully")
                continue
            seed = feed.versions[served_versions[0]]
        if seed.number > 0:
            seeded_late += 1
        owed: set[str] = {seed.newest}
        for version in feed.versions[seed.number :]:
            owed |= set(version.guids)
        owed -= set(seed.guids) - {seed.newest}
        owed_total += len(owed)
        titles = {i.guid: i.title for i in feed.items}
        for version in feed.versions:
            for guid in version.guids:
                titles.setdefault(guid, guid)
        for guid, n in sorted(counts.items()):
            if n > 1:
                where = [p.message_id for p, g in mine if g == guid]
                verdict.duplicates.append(
                    f"{label}: {titles.get(guid, guid)!r} ({guid}) posted {n} times "
                    f"(messages {where})"
                )
        missing = sorted(owed - set(counts), key=lambda g: titles.get(g, g))
        for guid in missing:
            state = next(
                (
                    st
                    for (eid, ch), (st, _m) in db.deliveries.items()
                    if ch == channel_id and guid_of[eid] == (feed.index, guid)
                ),
                "no delivery row",
            )
            verdict.losses.append(
                f"{label}: {titles.get(guid, guid)!r} ({guid}) never posted (database: {state})"
            )
        for guid in sorted(set(counts) - owed):
            verdict.extras.append(
                f"{label}: {titles.get(guid, guid)!r} ({guid}) posted but not owed "
                f"(older than the channel's first poll, which saw version {seed.number})"
            )
        posted_total += sum(counts.values())
        if feed.kind == "migrating" and migration_version is not None:
            migrated = set(feed.versions[migration_version].guids) & owed
            holders = {p.message_id for p, g in mine if g in migrated}
            kinds = {"digest" if p.digest_key else "single" for p, g in mine if g in migrated}
            verdict.lines.append(
                f"guid migration: {label}: {len(migrated)} re-keyed episodes arrived in "
                f"{len(holders)} message(s) ({', '.join(sorted(kinds)) or 'none'})"
            )
            if migrated and (len(holders) != 1 or kinds != {"digest"}):
                verdict.extras.append(
                    f"{label}: the guid migration became {len(holders)} message(s) "
                    f"({sorted(kinds)}) instead of one digest"
                )
        digests += len({p.message_id for p, _g in mine if p.digest_key})
    verdict.figures.update(
        subscriptions=len(subscriptions),
        owed_deliveries=owed_total,
        delivered=posted_total,
        digest_posts=digests,
        subscriptions_seeded_after_a_change=seeded_late,
    )
    if blocked is not None:
        channel_id, denied_at, allowed_at = blocked
        during = [
            p
            for p in posts_by_channel.get(channel_id, [])
            if p.at and denied_at <= p.at < allowed_at
        ]
        after = [p for p in posts_by_channel.get(channel_id, []) if p.at and p.at >= allowed_at]
        verdict.figures.update(
            blocked_channel_posts_while_denied=len(during),
            blocked_channel_posts_after_fix=len(after),
        )
        if during:
            verdict.inconsistencies.append(
                f"channel {channel_id}: {len(during)} posts while Send Messages was denied"
            )
        if not after:
            verdict.losses.append(
                f"channel {channel_id}: nothing was posted after Send Messages came back"
            )


# -- members ---------------------------------------------------------------------------------


@dataclass
class MemberAction:
    kind: str  # "request" | "vote_click" | "review"
    guild_id: int
    user_id: int
    key: str  # post key
    outcome: str  # "created" | "voted" | "already" | "decided:<status>" | "refused" | "none"
    detail: str = ""
    at: float = 0.0


def check_requests(
    actions: list[MemberAction],
    db: DbView,
    tops: dict[int, list[tuple[int, str]] | None],
    canonical: Any,
    verdict: Verdict,
) -> None:
    """Every confirmed request and vote is in the database; nothing nobody did is there; and
    /requests top shows what the database holds."""
    attempted: set[tuple[int, str, int]] = set()
    confirmed_votes: set[tuple[int, str, int]] = set()
    outcomes = Counter(f"{a.kind}:{a.outcome.split(':')[0]}" for a in actions)
    decided: dict[tuple[int, str], set[str]] = defaultdict(set)
    tried: dict[tuple[int, str], set[str]] = defaultdict(set)
    for a in sorted(actions, key=lambda a: a.at):
        if a.kind in ("request", "vote_click"):
            attempted.add((a.guild_id, a.key, a.user_id))
            if a.outcome in ("created", "voted", "already"):
                confirmed_votes.add((a.guild_id, a.key, a.user_id))
            if a.outcome == "created":
                row = db.requests.get((a.guild_id, a.key))
                if row is None:
                    verdict.losses.append(
                        f"request {a.key} in guild {a.guild_id}: member {a.user_id} was told "
                        "'Requested!' but the database has no such request"
                    )
                elif row["requester_id"] != a.user_id:
                    verdict.inconsistencies.append(
                        f"request {a.key} in guild {a.guild_id}: told {a.user_id} 'Requested!', "
                        f"but the requester is {row['requester_id']}"
                    )
        elif a.kind == "review":
            wanted = {"approve": "approved", "reject": "rejected", "narrated": "narrated"}
            tried[(a.guild_id, a.key)].add(wanted.get(a.detail, a.detail))
            if a.outcome.startswith("decided:"):
                decided[(a.guild_id, a.key)].add(a.outcome.split(":", 1)[1])
    for guild_id, key, user_id in sorted(confirmed_votes):
        row = db.requests.get((guild_id, key))
        if row is None or user_id not in db.votes.get(row["id"], set()):
            verdict.losses.append(
                f"vote of member {user_id} for {key} in guild {guild_id}: confirmed to the member "
                "but missing from the database"
            )
    for (guild_id, key), row in db.requests.items():
        for user_id in db.votes.get(row["id"], set()):
            if (guild_id, key, user_id) not in attempted:
                verdict.extras.append(
                    f"vote of member {user_id} for {key} in guild {guild_id}: in the database, "
                    "but that member never asked for it"
                )
    for (guild_id, key), statuses in decided.items():
        # clicks race, so the order is the bot's; but a confirmed closing decision is final, and
        # the stored status must be one a reviewer asked for
        row = db.requests.get((guild_id, key))
        final = statuses & {"rejected", "narrated"}
        allowed = final or (statuses | tried[(guild_id, key)])
        if row is None or row["status"] not in allowed or len(final) > 1:
            verdict.losses.append(
                f"decision on {key} in guild {guild_id}: reviewers were told {sorted(statuses)}, "
                f"the database says {row['status'] if row else 'no request'}"
            )
    checked = answered = 0
    for guild_id, lines in tops.items():
        if lines is None:
            verdict.inconsistencies.append(f"/requests top in guild {guild_id}: no answer")
            continue
        answered += 1
        problem = compare_top(guild_id, lines, db, canonical)
        checked += len(lines)
        if problem:
            verdict.inconsistencies.append(problem)
    refusals = Counter(
        f"{a.kind}: {template_of(a.detail)[:90]}" for a in actions if a.outcome == "refused"
    )
    verdict.lines += [
        f"member answer not counted as kept: {n} × {t}" for t, n in refusals.most_common()
    ]
    verdict.figures.update(
        member_actions=len(actions),
        member_outcomes=dict(sorted(outcomes.items())),
        requests_in_db=len(db.requests),
        votes_in_db=sum(len(v) for v in db.votes.values()),
        confirmed_votes=len(confirmed_votes),
        requests_top_lines_checked=checked,
        requests_top_guilds=answered,
    )


TOP_SIZE = 10


def compare_top(
    guild_id: int, lines: list[tuple[int, str]], db: DbView, canonical: Any
) -> str | None:
    """/requests top must list the open and approved requests with the most votes, with their
    vote counts (earliest first on a tie); None if it does, else what differs."""
    ranked = sorted(
        (
            (len(db.votes.get(r["id"], ())), r["created_at"], r["post_key"])
            for (g, _k), r in db.requests.items()
            if g == guild_id and r["status"] in ("open", "approved")
        ),
        key=lambda t: (-t[0], t[1]),
    )
    shown = [(votes, canonical(url) if votes >= 0 else url) for votes, url in lines]
    expected = [(votes, key) for votes, _c, key in ranked[:TOP_SIZE]]
    if sorted(shown) == sorted(expected):
        return None
    # requests created in the same instant with as many votes as the last one shown may swap
    if len(ranked) > TOP_SIZE and len(shown) == TOP_SIZE:
        cut = ranked[TOP_SIZE - 1]
        tied = {key for votes, c, key in ranked if votes == cut[0] and c == cut[1]}
        same = sorted((v, k) for v, k in shown if k not in tied) == sorted(
            (v, k) for v, k in expected if k not in tied
        )
        if same and all((v, k) in {(a, b) for a, _c, b in ranked} for v, k in shown):
            return None
    return f"/requests top in guild {guild_id} shows {shown}, the database holds {expected}" + (
        f" (of {len(ranked)} open)" if len(ranked) > TOP_SIZE else ""
    )


# -- logs ------------------------------------------------------------------------------------

LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?P<level>[A-Z]+)\s+(?P<logger>[\w.]+): (?P<message>.*)$"
)
_VARIABLE = [
    (re.compile(r"https?://\S+"), "<url>"),
    (re.compile(r"'[^']*'"), "'…'"),
    (re.compile(r'"[^"]*"'), '"…"'),
    (re.compile(r"\b(?=[a-z]*\d)(?=\d*[a-f])[0-9a-f]{6,}\b"), "<hex>"),
    (re.compile(r"\d+(\.\d+)?"), "N"),
]


def template_of(message: str) -> str:
    for pattern, placeholder in _VARIABLE:
        message = pattern.sub(placeholder, message)
    return message[:160]


def group_logs(logs: list[list[str]]) -> Counter[str]:
    """WARNING and worse, per process, grouped by (level, logger, template); tracebacks by their
    last line."""
    groups: Counter[str] = Counter()
    for lines in logs:
        current: str | None = None
        for line in lines:
            m = LOG_LINE.match(line)
            if m:
                current = None
                if m["level"] in ("WARNING", "ERROR", "CRITICAL"):
                    groups[f"{m['level']} {m['logger']}: {template_of(m['message'])}"] += 1
                    current = m["level"]
                continue
            if current in ("ERROR", "CRITICAL") and re.match(r"^\w[\w.]*(Error|Exception)\b", line):
                groups[f"  traceback: {template_of(line)}"] += 1
            elif "Traceback (most recent call last)" in line and current is None:
                groups["traceback outside a log record"] += 1
    return groups
