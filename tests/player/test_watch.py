"""The voice watch: one state per player, moved by events, with one deadline. No Discord."""

from __future__ import annotations

from bot.player.watch import RECONNECT_GRACE, Limits, Link, VoiceWatch

LIMITS = Limits(alone_seconds=30, idle_seconds=300, silence_seconds=20, max_rejoins=3)


def playing(watch: VoiceWatch, now: float, frames: int, *, wants: bool = True) -> None:
    watch.listeners(now, 1)
    watch.audio(now, frames=frames, wants_audio=wants, idle=False)


def test_a_drop_gives_up_after_the_grace_and_not_before() -> None:
    watch = VoiceWatch(LIMITS, 0.0)
    playing(watch, 0.0, 0, wants=False)
    watch.dropped(100.0)
    assert watch.link is Link.RECONNECTING
    assert watch.deadline() == 100.0 + RECONNECT_GRACE
    assert watch.due(114.9) is None
    assert watch.due(115.0) == "give_up"
    assert watch.link is Link.GIVEN_UP
    assert watch.due(200.0) is None and watch.deadline() is None, "one verdict, once"


def test_a_connection_back_within_the_grace_keeps_the_session() -> None:
    watch = VoiceWatch(LIMITS, 0.0)
    playing(watch, 0.0, 0, wants=False)
    watch.dropped(100.0)
    watch.connected(110.0)
    assert watch.link is Link.CONNECTED
    assert watch.due(200.0) is None


def test_flickering_connections_do_not_add_up_to_a_give_up() -> None:
    """A drop that comes back resets the grace: each outage is judged on its own."""
    watch = VoiceWatch(LIMITS, 0.0)
    playing(watch, 0.0, 0, wants=False)
    for start in (0.0, 14.0, 28.0):
        watch.dropped(start)
        assert watch.due(start + 10) is None
        watch.connected(start + 10)
    assert watch.due(60.0) is None


def test_silence_while_playing_rejoins_then_gives_up_after_max_rejoins() -> None:
    watch = VoiceWatch(LIMITS, 0.0)
    playing(watch, 0.0, 500)  # frames went out until now
    playing(watch, 1.0, 500)  # and then no more
    assert watch.deadline() == 20.0
    assert watch.due(19.0) is None
    now = 20.0
    for attempt in range(1, 4):
        assert watch.due(now) == "rejoin"
        watch.rejoin_started(now)
        assert watch.rejoins == attempt
        assert watch.due(now + 1) is None, "no second rejoin while one runs"
        watch.connected(now + 1)  # the fresh client connected, but no audio came
        watch.rejoin_ended(now + 2)
        playing(watch, now + 2, 500)
        now += 22
    assert watch.due(now) == "silent"
    assert watch.link is Link.GIVEN_UP


def test_audio_flowing_again_resets_the_rejoin_count() -> None:
    watch = VoiceWatch(LIMITS, 0.0)
    playing(watch, 0.0, 10)
    assert watch.due(20.0) == "rejoin"
    watch.rejoin_started(20.0)
    watch.connected(21.0)
    watch.rejoin_ended(21.0)
    playing(watch, 22.0, 60)  # audio again
    assert watch.rejoins == 0 and watch.silent_since == 22.0


def test_a_paused_or_idle_player_is_never_silent() -> None:
    watch = VoiceWatch(LIMITS, 0.0)
    playing(watch, 0.0, 10, wants=False)
    assert watch.due(1000.0) != "rejoin"
    watch = VoiceWatch(LIMITS, 0.0)
    watch.listeners(0.0, 1)
    watch.audio(0.0, frames=0, wants_audio=False, idle=True)
    assert watch.due(299.0) is None
    assert watch.due(300.0) == "idle"


def test_alone_for_alone_seconds_leaves_and_someone_back_cancels_it() -> None:
    watch = VoiceWatch(LIMITS, 0.0)
    watch.audio(0.0, frames=0, wants_audio=False, idle=False)
    watch.listeners(10.0, 0)
    assert watch.deadline() == 40.0
    watch.listeners(30.0, 2)
    assert watch.due(45.0) is None and watch.deadline() is None
    watch.listeners(50.0, 0)
    assert watch.due(80.0) == "alone"


def test_alone_and_idle_wait_while_the_connection_is_down() -> None:
    watch = VoiceWatch(LIMITS, 0.0)
    watch.audio(0.0, frames=0, wants_audio=False, idle=False)
    watch.listeners(0.0, 0)
    watch.dropped(1.0)
    assert watch.due(14.0) is None  # alone since 0 s, but discord.py is reconnecting
    watch.connected(14.0)
    assert watch.due(30.0) == "alone"


def test_a_teardown_is_a_kick_unless_the_watchdog_is_rejoining() -> None:
    watch = VoiceWatch(LIMITS, 0.0)
    assert watch.torn_down(5.0) == "kicked"
    rejoining = VoiceWatch(LIMITS, 0.0)
    rejoining.rejoin_started(5.0)
    assert rejoining.torn_down(5.1) is None
    assert rejoining.link is Link.RECONNECTING


def test_the_deadline_is_the_earliest_thing_that_can_happen() -> None:
    watch = VoiceWatch(LIMITS, 0.0)
    playing(watch, 0.0, 5)
    watch.listeners(3.0, 0)
    assert watch.deadline() == 20.0  # silence (0 + 20) before alone (3 + 30)
    watch.dropped(1.0)
    assert watch.deadline() == 1.0 + RECONNECT_GRACE
