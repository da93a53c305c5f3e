"""The soak's voice side: in every guild two members sit in a voice channel and /play, /skip and
/stop episodes (every enclosure is the same tone, served by the soak's feed server); the emulator
drops the bot's voice websocket at random during playback; and every restart must pick playback
up where it was. Also: the ffmpeg children of a killed bot must die with it.

What is judged, each expectation set when it arises and settled by a watcher task:

* a voice drop (4006, 4009 or 4015) while audio flows: audio again after the reconnect (a new
  session description or a RESUME at the emulator), within `DROP_RECOVERY_WITHIN` s;
* a restart while audio flowed and the database's session row says an episode was playing far
  from its end: audio from the new process within `RESUME_WITHIN` s of its start;
* a /play answered "Playing": audio within `PLAY_HEARD_WITHIN` s;
* a SIGKILL with ffmpeg running: every orphaned ffmpeg gone within `ORPHAN_GRACE` s.

Without audio in time, an expectation ends "told" when the bot said in the guild's channel that
playback stopped (not silent, so not a failure), "backoff" for a drop whose websocket discord.py
had not reopened yet while audio still flowed over the old connection, else "failed". A restart
within `VOID_BEFORE` s voids it (the restart's own check takes over).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.db import Database, DatabaseError

if TYPE_CHECKING:
    from emulator.voice import VoiceServer
    from emulator.voice.receiver import VoiceReceiver

VOICE_CLOSE_CODES = (4006, 4009, 4015)  # re-identify, re-identify, resume
DROP_RECOVERY_WITHIN = 40.0
RESUME_WITHIN = 40.0
PLAY_HEARD_WITHIN = 15.0
ORPHAN_GRACE = 10.0
RECONNECTED = ("session_description", "resume")  # voice events: the connection is back
VOID_BEFORE = 10.0  # a restart this soon after an expectation voids it (resuming takes 1-3 s)
NEAR_THE_END = 30.0  # s: position saves lag ≤ 12 s, and the check window must fit before the end


@dataclass
class VoiceCheck:
    kind: str  # "drop" | "restart" | "play"
    guild_id: int
    at: float  # time.monotonic() when it was set
    detail: str
    outcome: str = "pending"  # "ok" | "told" | "backoff" | "failed" | "void"
    waited: float | None = None  # seconds until audio came back


@dataclass
class VoiceWorld:
    server: VoiceServer
    tone: Path
    tone_seconds: int
    rooms: dict[int, int] = field(default_factory=dict)  # guild id -> voice channel id
    listeners: dict[int, list[int]] = field(default_factory=dict)  # guild id -> member ids
    checks: list[VoiceCheck] = field(default_factory=list)
    commands: Counter[str] = field(default_factory=Counter)  # "/play: playing" -> count
    drops: Counter[int] = field(default_factory=Counter)  # close code -> count
    audio_trimmed: float = 0.0  # seconds of audio in packets already forgotten by `trim`
    kills_with_ffmpeg: int = 0
    ffmpeg_at_kills: int = 0  # ffmpeg processes running at those kills, in all
    orphans_seen: int = 0
    orphan_seconds: list[float] = field(default_factory=list)
    orphans_left: list[str] = field(default_factory=list)
    restarts: int = 0  # bumped whenever the bot is signalled: voids what is pending
    signalled_at: float = 0.0
    ffmpeg_at_signal: int = 0
    watchers: set[asyncio.Task[None]] = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)
    # whether the bot posted a voice notice in a guild since a time (set by the driver)
    told: Callable[[int, float], bool] = lambda _guild_id, _since: False

    def receiver(self, guild_id: int) -> VoiceReceiver:
        return self.server.receiver(guild_id)


def tone_file(folder: Path, seconds: int) -> Path:
    from emulator.voice.tones import make_tone

    folder.mkdir(parents=True, exist_ok=True)
    return make_tone(folder / f"episode-{seconds}s.mp3", 523, seconds)


async def setup_voice(emu: Any, workdir: Path, guilds: list[Any], tone_seconds: int) -> VoiceWorld:
    """The emulator's voice side, one voice channel per guild with two members of it inside."""
    from emulator import ChannelType

    server = await emu.enable_voice(workdir / "certs")
    tone = await asyncio.to_thread(tone_file, workdir / "audio", tone_seconds)
    world = VoiceWorld(server, tone, tone_seconds)
    for guild in guilds:
        room = emu.add_channel(guild.id, "Listening room", ChannelType.VOICE)
        world.rooms[guild.id] = room.id
        world.listeners[guild.id] = guild.members[:2]
        for user_id in guild.members[:2]:
            emu.set_voice_state(guild.id, user_id, room.id)
    return world


# -- what the receiver heard ---------------------------------------------------------------------


def first_audio_after(receiver: VoiceReceiver, t: float) -> float | None:
    """Arrival time of the first audio packet after `t` (None if none yet)."""
    found = None
    packets = receiver.packets
    for i in range(len(packets) - 1, -1, -1):
        packet = packets[i]
        if packet.arrival <= t:
            break
        if packet.kind == "audio":
            found = packet.arrival
    return found


def heard_within(receiver: VoiceReceiver, start: float, end: float) -> bool:
    packets = receiver.packets
    for i in range(len(packets) - 1, -1, -1):
        packet = packets[i]
        if packet.arrival < start:
            return False
        if packet.arrival <= end and packet.kind == "audio":
            return True
    return False


def trim(world: VoiceWorld, keep: float = 120.0) -> None:
    """Forget packets older than `keep` seconds (the UDP thread only appends)."""
    from emulator.voice.ogg import SAMPLE_RATE, packet_samples

    cutoff = time.monotonic() - keep
    for guild_id in world.rooms:
        packets = world.receiver(guild_id).packets
        n = 0
        while n < len(packets) and packets[n].arrival < cutoff:
            n += 1
        if n:
            gone = sum(packet_samples(p.payload) for p in packets[:n] if p.kind == "audio")
            world.audio_trimmed += gone / SAMPLE_RATE
            del packets[:n]


async def session_row(target: str | Path, guild_id: int) -> dict[str, Any] | None:
    """The bot's saved playback session for a guild (None if none or unreadable), on either
    backend (`target` is the soak's `Run.database`)."""
    if isinstance(target, Path) and not await asyncio.to_thread(target.exists):
        return None
    try:
        async with Database(target) as db:
            row = await db.fetchrow(
                "SELECT episode_id, position_seconds, duration_seconds, paused"
                " FROM playback_sessions WHERE guild_id = ?",
                guild_id,
            )
    except DatabaseError:
        return None
    return None if row is None else {k: row[k] for k in SESSION_COLUMNS}


SESSION_COLUMNS = ("episode_id", "position_seconds", "duration_seconds", "paused")


def far_from_the_end(row: dict[str, Any] | None, margin: float) -> bool:
    if row is None or row["episode_id"] is None or row["paused"]:
        return False
    duration = row["duration_seconds"] or 0
    return bool(duration) and row["position_seconds"] + margin < duration


# -- expectations ------------------------------------------------------------------------------


def expect(
    world: VoiceWorld,
    check: VoiceCheck,
    *,
    after: float,
    within: float,
    reconnected: float | None = None,
) -> None:
    """Watch for audio after `after` (and after the voice connection came back, for a drop).

    Unless audio comes, the outcome is "told" if the bot posted a voice notice in the guild
    since (playback ended, but not silently), "backoff" for a drop whose websocket was not back
    yet while the audio went on over the old connection (discord.py sleeps its exponential
    backoff first: seconds after the first drops, minutes after a dozen), else "failed".
    """
    world.checks.append(check)
    restarts = world.restarts
    receiver = world.receiver(check.guild_id)

    def back() -> list[float]:
        since = check.at if reconnected is None else reconnected
        return [e.at for e in receiver.events if e.at > since and e.kind in RECONNECTED]

    def settle(until: float) -> None:
        heard = first_audio_after(receiver, check.at)
        check.detail += (
            f"; at +{check.at - world.started:.1f} s; reconnected after "
            + (f"{back()[0] - check.at:.1f} s" if back() else "-")
            + "; audio after "
            + (f"{heard - check.at:.1f} s" if heard else "-")
        )
        if world.told(check.guild_id, check.at):
            check.outcome = "told"
        elif reconnected is not None and not back() and heard_within(receiver, until - 1, until):
            check.outcome = "backoff"
        else:
            check.outcome = "failed"

    async def watch() -> None:
        deadline = check.at + within
        since = after
        while time.monotonic() < deadline:
            if world.restarts != restarts:
                waited = world.signalled_at - check.at
                check.detail += f"; {waited:.0f} s until the next restart"
                if waited < VOID_BEFORE:  # a restart soon after is no verdict
                    check.outcome = "void"
                else:  # longer than resuming takes
                    settle(world.signalled_at)
                return
            if reconnected is not None:  # only audio sent over the new connection counts
                again = back()
                if not again:
                    await asyncio.sleep(0.1)
                    continue
                since = max(since, again[0])
            heard = first_audio_after(receiver, since)
            if heard is not None:
                check.outcome, check.waited = "ok", heard - check.at
                return
            await asyncio.sleep(0.1)
        settle(time.monotonic())

    task = asyncio.create_task(watch())
    world.watchers.add(task)
    task.add_done_callback(world.watchers.discard)


async def voice_drops(run: Any, world: VoiceWorld, deadline: float) -> None:
    """Every 12-25 s, close the voice websocket of a guild whose audio is flowing."""
    rng = run.rng
    while True:
        await asyncio.sleep(rng.uniform(12.0, 25.0))
        if time.monotonic() > deadline - 15:  # so most windows close while the bot catches up
            return
        trim(world)
        now = time.monotonic()
        playing = [
            g
            for g in world.rooms
            if heard_within(world.receiver(g), now - 1.0, now)
            and (session := world.server.session(g)) is not None
            and session.connection is not None
        ]
        if not playing or not run.alive() or now - world.signalled_at < 3:
            continue
        guild_id = rng.choice(playing)
        code = rng.choice(VOICE_CLOSE_CODES)
        row = await session_row(run.database, guild_id)
        try:
            await world.server.close(guild_id, code)
        except RuntimeError:
            continue
        world.drops[code] += 1
        run.log(f"guild {guild_id}: voice websocket closed with {code} during playback")
        check = VoiceCheck("drop", guild_id, now, f"close {code}")
        if not far_from_the_end(row, NEAR_THE_END):
            check.outcome = "void"
            check.detail += "; the episode was near its end (or the session row unreadable)"
            world.checks.append(check)
            continue
        expect(world, check, after=now, within=DROP_RECOVERY_WITHIN, reconnected=now)


def before_signal(world: VoiceWorld, token: str) -> None:
    """Called just before the bot gets a signal: voids pending checks, counts ffmpeg."""
    world.restarts += 1
    world.signalled_at = time.monotonic()
    world.ffmpeg_at_signal = len(ffmpeg_processes(token))


async def after_exit(run: Any, world: VoiceWorld, token: str, killed: bool) -> list[VoiceCheck]:
    """Once the process is gone: orphaned ffmpeg must die; which guilds must resume playing."""
    if killed and world.ffmpeg_at_signal:
        world.kills_with_ffmpeg += 1
        world.ffmpeg_at_kills += world.ffmpeg_at_signal
        start = time.monotonic()
        left = ffmpeg_processes(token)
        world.orphans_seen += len(left)
        while left and time.monotonic() - start < ORPHAN_GRACE:
            await asyncio.sleep(0.05)
            left = ffmpeg_processes(token)
        world.orphan_seconds.append(time.monotonic() - start)
        for pid in sorted(left):
            world.orphans_left.append(
                f"ffmpeg {pid} outlived its SIGKILLed bot by {ORPHAN_GRACE} s"
            )
    pending = []
    for guild_id in world.rooms:
        was_playing = heard_within(
            world.receiver(guild_id), world.signalled_at - 2.0, world.signalled_at
        )
        if not was_playing:
            continue
        row = await session_row(run.database, guild_id)
        check = VoiceCheck("restart", guild_id, 0.0, "playing when the bot was stopped")
        if not far_from_the_end(row, 5.0):
            check.outcome = "void"
            check.detail += "; the saved session shows nothing playing far from the end"
            world.checks.append(check)
            continue
        pending.append(check)
    return pending


def after_start(world: VoiceWorld, pending: list[VoiceCheck]) -> None:
    now = time.monotonic()
    for check in pending:
        check.at = now
        expect(world, check, after=now, within=RESUME_WITHIN)


# -- members -------------------------------------------------------------------------------------


async def member_voice(run: Any, world: VoiceWorld, guild: Any, answer: Any, text: Any) -> None:
    """A listener's /play (mostly), /skip or /stop."""
    rng = run.rng
    user = rng.choice(world.listeners[guild.id])
    roll = rng.random()
    name = "play" if roll < 0.65 else "skip" if roll < 0.9 else "stop"
    options = None
    if name == "play":
        served = [f for f in run.feeds if f.served]
        if served and rng.random() < 0.7:
            item = rng.choice(rng.choice(served).items[:5])
            options = {"episode": item.title}
        else:
            options = {"episode": "latest"}
    at = time.monotonic()
    await command(run, world, guild, user, name, options, at, answer, text)


async def command(
    run: Any,
    world: VoiceWorld,
    guild: Any,
    user: int,
    name: str,
    options: dict[str, Any] | None,
    at: float,
    answer: Any,
    text: Any,
) -> str:
    restarts = world.restarts
    try:
        ix = await run.emu.slash(guild.id, guild.lobby, user, name, options=options)
    except LookupError:
        return "not registered"
    got = await answer(ix, timeout=25)  # a join may need a second connection attempt
    said = text(got or {})
    outcome = _outcome(name, said) if got is not None else "no answer"
    world.commands[f"/{name}: {outcome}"] += 1
    if outcome == "playing":
        check = VoiceCheck("play", guild.id, at, f"/play {options}")
        if world.restarts != restarts:
            check.outcome = "void"
            check.detail += "; the bot was restarted while it answered"
            world.checks.append(check)
        else:
            expect(world, check, after=at, within=PLAY_HEARD_WITHIN)
    return outcome


_OUTCOMES = [
    ("Playing **", "playing"),
    ("Queued **", "queued"),
    ("You stopped", "resume offer"),
    ("Skipped", "skipped"),
    ("Stopped", "stopped"),
    ("queue is full", "queue full"),
    ("already in the queue", "already queued"),
    ("No episode matches", "no such episode"),
    ("not playing anything", "nothing playing"),
    ("Nothing is playing", "nothing playing"),
    ("couldn't connect", "could not connect"),
    ("couldn't join", "could not join"),
    ("Something went wrong", "ERROR"),
]


def _outcome(name: str, said: str) -> str:
    for needle, outcome in _OUTCOMES:
        if needle in said:
            return outcome
    return "other: " + re.sub(r"\d+", "N", said)[:60]


async def first_plays(run: Any, world: VoiceWorld, answer: Any, text: Any, deadline: float) -> None:
    """Right after the first start: one /play per guild, so audio flows through the kills."""
    for guild in run.guilds:
        while time.monotonic() < deadline:
            outcome = await command(
                run,
                world,
                guild,
                world.listeners[guild.id][0],
                "play",
                {"episode": "latest"},
                time.monotonic(),
                answer,
                text,
            )
            if outcome not in ("not registered", "no such episode", "no answer"):
                break
            await asyncio.sleep(0.5)


# -- the verdict -----------------------------------------------------------------------------


def ffmpeg_processes(token: str) -> set[int]:
    """Live ffmpeg processes started by our bot processes (they inherit its DISCORD_TOKEN)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmd = (entry / "cmdline").read_bytes().split(b"\0")[0]
            is_ffmpeg = b"ffmpeg" in Path(cmd.decode(errors="replace")).name.encode()
            if is_ffmpeg and f"DISCORD_TOKEN={token}".encode() in (entry / "environ").read_bytes():
                found.add(int(entry.name))
    return found


def judge(world: VoiceWorld, emu: Any, guilds: list[Any], verdict: Any) -> list[str]:
    """Figures and failures of the voice side; returns the report's lines."""
    by_kind: dict[str, Counter[str]] = {}
    waits: dict[str, list[float]] = {}
    for check in world.checks:
        by_kind.setdefault(check.kind, Counter())[check.outcome] += 1
        if check.waited is not None:
            waits.setdefault(check.kind, []).append(check.waited)
        if check.outcome in ("failed", "pending"):
            what = {
                "drop": f"no audio within {DROP_RECOVERY_WITHIN:.0f} s after a voice drop",
                "restart": f"playback not resumed within {RESUME_WITHIN:.0f} s of a restart",
                "play": f"no audio within {PLAY_HEARD_WITHIN:.0f} s of a /play answered Playing",
            }[check.kind]
            verdict.inconsistencies.append(
                f"voice, guild {check.guild_id}: {what} ({check.detail})"
            )
    verdict.inconsistencies += world.orphans_left
    errors = sum(n for k, n in world.commands.items() if k.endswith(": ERROR"))
    if errors:
        verdict.inconsistencies.append(f"voice: {errors} commands answered 'Something went wrong'")
    back = sum(
        1
        for guild in guilds
        for m in emu.messages(guild.lobby)
        if "Back after a restart" in (m.get("content") or "")
    )
    heard = world.audio_trimmed + sum(world.receiver(g).audio_seconds() for g in world.rooms)

    def line(kind: str, label: str) -> str:
        c = by_kind.get(kind, Counter())
        w = waits.get(kind, [])
        median = f", median {statistics.median(w):.1f} s, max {max(w):.1f} s" if w else ""
        why = Counter(
            re.sub(r"\d+", "N", ch.detail.rsplit("; ", 1)[-1])
            for ch in world.checks
            if ch.kind == kind and ch.outcome == "void"
        )
        void = f" ({'; '.join(f'{n} × {t}' for t, n in why.most_common())})" if why else ""
        more = "".join(
            f", {name} {c[key]}"
            for key, name in (("told", "ended with a notice"), ("backoff", "still in backoff"))
            if c[key]
        )
        return (
            f"  {label}: {sum(c.values())} — ok {c['ok']}{more}, failed "
            f"{c['failed'] + c['pending']}, void {c['void']}{void}{median}"
        )

    verdict.figures.update(
        voice_commands=dict(sorted(world.commands.items())),
        voice_drops=sum(world.drops.values()),
        voice_audio_seconds=round(heard),
        voice_checks={k: dict(v) for k, v in sorted(by_kind.items())},
        voice_back_after_restart_messages=back,
        voice_kills_with_ffmpeg=world.kills_with_ffmpeg,
        voice_ffmpeg_at_kills=world.ffmpeg_at_kills,
        voice_orphans_seen=world.orphans_seen,
        voice_orphans_left=len(world.orphans_left),
    )
    orphan_wait = max(world.orphan_seconds, default=0.0)
    return [
        f"voice: {len(world.rooms)} rooms with {sum(map(len, world.listeners.values()))} "
        f"listeners; commands {dict(sorted(world.commands.items()))}",
        f"  audio received: {heard:.0f} s in all; voice websocket drops during playback: "
        f"{dict(sorted(world.drops.items()))}",
        line("drop", "drops with audio expected after the reconnect"),
        line("restart", "restarts while playing, audio expected from the new process"),
        f"  'Back after a restart' messages: {back}",
        line("play", "/play answered Playing, audio expected"),
        f"  SIGKILLs with ffmpeg running: {world.kills_with_ffmpeg} ({world.ffmpeg_at_kills} "
        f"ffmpeg processes); still running once the bot had exited: {world.orphans_seen}, "
        f"all gone within {orphan_wait:.2f} s"
        + (f"; {len(world.orphans_left)} LEFT" if world.orphans_left else ""),
    ]
