"""The emulator's voice side, driven by a real in-process discord.py VoiceClient.

The client trusts the emulator's test CA through `connector=emu.voice.tls.client_connector()`
(aiohttp's default SSL context is built at import time, so SSL_CERT_FILE only works for a subprocess).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import discord.voice_state
import imageio_ffmpeg
import pytest

from emulator import ChannelType, DiscordEmulator
from emulator.voice import VoiceReceiver, make_tone, make_tones

from .conftest import EmuBot, Sample, running

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


@pytest.fixture(scope="module")
def tone_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tones")


@pytest.fixture(scope="module")
def tone_440(tone_dir: Path) -> Path:
    return make_tone(tone_dir / "a440.mp3", 440, 3.0)


@pytest.fixture(scope="module")
def tone_long(tone_dir: Path) -> Path:
    return make_tone(tone_dir / "a440-long.mp3", 440, 12.0)


class Voice:
    def __init__(self, emu: DiscordEmulator, sample: Sample, bot: EmuBot) -> None:
        self.emu = emu
        self.sample = sample
        self.bot = bot
        assert emu.voice is not None
        self.server = emu.voice
        self.rx: VoiceReceiver = emu.voice.receiver(sample.guild.id)
        self.done = asyncio.Event()
        self.after_errors: list[Exception | None] = []

    @property
    def channel(self) -> discord.VoiceChannel:
        channel = self.bot.get_channel(self.sample.voice.id)
        assert isinstance(channel, discord.VoiceChannel)
        return channel

    async def connect(self) -> discord.VoiceClient:
        return await self.channel.connect(timeout=10)

    def play(self, vc: discord.VoiceClient, path: Path) -> None:
        loop = asyncio.get_running_loop()

        def after(error: Exception | None) -> None:
            self.after_errors.append(error)
            loop.call_soon_threadsafe(self.done.set)

        vc.play(discord.FFmpegOpusAudio(str(path), executable=FFMPEG, bitrate=64), after=after)


@pytest.fixture
async def voice(emu: DiscordEmulator, sample: Sample, tmp_path: Path) -> AsyncIterator[Voice]:
    await emu.enable_voice(tmp_path / "certs")
    assert emu.voice is not None and emu.voice_ca_file is not None
    assert emu.voice_ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
    bot = EmuBot(connector=emu.voice.tls.client_connector())
    async with running(emu, bot):
        v = Voice(emu, sample, bot)
        try:
            yield v
        finally:
            for vc in list(bot.voice_clients):
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(vc.disconnect(force=True), 5)


async def test_join_plays_tone_at_440hz(voice: Voice, tone_440: Path) -> None:
    vc = await voice.connect()
    assert vc.is_connected()
    rx = voice.rx
    # the handshake as discord.py does it
    assert [e.kind for e in rx.events if e.kind in ("identify", "ready", "ip_discovery")] == [
        "identify",
        "ready",
        "ip_discovery",
    ]
    assert rx.events_of("identify")[0].data["max_dave_protocol_version"] == 1
    assert rx.events_of("select_protocol")[0].data["mode"] == "aead_xchacha20_poly1305_rtpsize"
    assert voice.emu.voice is not None
    bot_id = voice.emu.bot.id
    assert voice.server.members(voice.sample.voice.id) == [bot_id]
    assert voice.server.bot_channel(voice.sample.guild.id) == voice.sample.voice.id

    voice.play(vc, tone_440)
    await asyncio.wait_for(voice.done.wait(), 10)
    assert voice.after_errors == [None]
    await rx.wait_for(lambda: rx.speaking and rx.speaking[-1].speaking == 0, 2)
    await rx.wait_quiet(0.1)

    kinds = [p.kind for p in rx.packets]
    assert kinds[:2] == ["header", "header"]  # OpusHead, OpusTags sent as RTP payloads
    assert kinds[-5:] == ["silence"] * 5
    assert rx.decrypt_failures == 0
    assert 2.9 <= rx.audio_seconds() <= 3.1
    pcm = await rx.decode()
    assert 2.9 <= len(pcm) / 2 / 48000 <= 3.1
    assert rx.dominant_frequency(0.5, 2.5) == pytest.approx(440, abs=3)
    assert rx.tone_fraction(440, 0.5, 2.5) > 0.9
    assert rx.tone_fraction(880, 0.5, 2.5) < 0.05

    # RTP numbering per the reference: seq from 1 (+1), ts from 0 (+960), nonce counter from 0
    seqs = [p.seq for p in rx.packets]
    assert seqs == list(range(1, len(seqs) + 1))
    paced = [p for p in rx.packets if p.kind != "silence"]
    assert paced[0].timestamp == 0
    assert {b.timestamp - a.timestamp for a, b in itertools.pairwise(paced)} == {960}
    assert [p.nonce for p in rx.packets] == list(range(len(rx.packets)))
    stats = rx.interarrival_stats()
    assert abs(stats["p50"] - 20.0) < 2.0, stats
    assert rx.speaking[0].speaking == 0 and rx.speaking[1].speaking == 1  # key ack, then play
    assert all(not p.payload.endswith(b"\xfa\xfa") for p in rx.packets)  # no DAVE frames

    await vc.disconnect()
    await voice.emu.wait_until(lambda: voice.server.members(voice.sample.voice.id) == [])


async def _playing(voice: Voice, path: Path, seconds: float = 1.0) -> discord.VoiceClient:
    vc = await voice.connect()
    voice.play(vc, path)
    await voice.rx.wait_for_audio(seconds, timeout=5)
    return vc


async def test_pause_sends_nothing_and_resume_continues(voice: Voice, tone_long: Path) -> None:
    rx = voice.rx
    vc = await _playing(voice, tone_long, 0.6)
    vc.pause()
    await rx.wait_for_speaking(False, 2)
    await rx.wait_quiet(0.1, 2)
    assert [p.kind for p in rx.packets[-5:]] == ["silence"] * 5
    paused_at = len(rx.packets)
    await asyncio.sleep(0.5)
    assert len(rx.packets) == paused_at  # nothing at all while paused

    vc.resume()
    await rx.wait_for_speaking(True, 2)
    await rx.wait_for_audio(0.4, timeout=3, since=paused_at)
    vc.stop()
    await asyncio.wait_for(voice.done.wait(), 5)
    await rx.wait_quiet(0.1)

    # one gap of about the pause; the RTP timestamp does not jump over it
    gaps = rx.gaps(0.2)
    assert len(gaps) == 1 and 0.5 <= gaps[0][1] < 1.0, gaps
    steps = {b.timestamp - a.timestamp for a, b in zip(rx.packets, rx.packets[1:], strict=False)}
    assert steps == {960}
    assert rx.interarrival_stats()["p50"] == pytest.approx(20.0, abs=2.0)
    assert rx.dominant_frequency(0.2) == pytest.approx(440, abs=3)


async def test_4006_rejoins_and_audio_continues(voice: Voice, tone_long: Path) -> None:
    rx = voice.rx
    vc = await _playing(voice, tone_long)
    first_ssrc = rx.packets[-1].ssrc
    await voice.server.close(voice.sample.guild.id, 4006)
    await rx.wait_for_event("identify", 2, timeout=8)  # backoff is uniform(0, 2) s
    mark = len(rx.packets)
    await rx.wait_for_audio(1.0, timeout=5, since=mark)

    assert vc.is_connected() and voice.bot.voice_clients == [vc]
    assert rx.packets[-1].ssrc != first_ssrc  # a new session
    seqs = [p.seq for p in rx.packets]
    assert seqs == sorted(seqs)  # the same VoiceClient keeps numbering
    # discord.py left (op 4 null) and re-joined (op 4 channel); the emulator tracked both
    channels = [r.get("channel_id") for r in voice.emu.voice_requests]
    assert channels[-2] is None and int(channels[-1]) == voice.sample.voice.id
    assert voice.server.members(voice.sample.voice.id) == [voice.emu.bot.id]
    assert rx.decrypt_failures == 0
    assert rx.dominant_frequency(rx.audio_seconds() - 0.8) == pytest.approx(440, abs=3)
    vc.stop()


async def test_4014_kick_disconnects(voice: Voice, tone_long: Path) -> None:
    rx = voice.rx
    vc = await _playing(voice, tone_long, 0.5)
    await voice.server.close(voice.sample.guild.id, 4014)
    await asyncio.wait_for(voice.done.wait(), 5)
    assert voice.after_errors == [None]
    await voice.emu.wait_until(lambda: not vc.is_connected() and not voice.bot.voice_clients)
    assert voice.server.members(voice.sample.voice.id) == []
    guild = voice.bot.get_guild(voice.sample.guild.id)
    assert guild is not None and (guild.me.voice is None or guild.me.voice.channel is None)
    await rx.wait_quiet(0.3)
    assert len(rx.events_of("identify")) == 1  # no reconnect attempt


async def test_server_move_keeps_playing(voice: Voice, tone_long: Path) -> None:
    rx = voice.rx
    vc = await _playing(voice, tone_long)
    old = voice.server.endpoint(voice.sample.guild.id)
    new = await voice.server.move_server(voice.sample.guild.id)
    assert new != old
    await rx.wait_for_event("identify", 2, timeout=5)
    mark = len(rx.packets)
    await rx.wait_for_audio(1.0, timeout=5, since=mark)
    assert vc.is_connected()
    assert rx.events_of("identify")[1].data["node"] == 1
    assert {p.node for p in rx.packets[mark:]} == {1}
    closes = rx.events_of("close")
    assert closes and closes[0].data == {"code": 4014, "by": "client", "node": 0}
    assert rx.decrypt_failures == 0
    # playback was not interrupted for long (the switch takes milliseconds)
    assert max(g for _, g in rx.gaps(0.0)) < 0.25
    vc.stop()


async def test_4015_resumes_without_reidentify(voice: Voice, tone_long: Path) -> None:
    rx = voice.rx
    vc = await _playing(voice, tone_long)
    ssrc = rx.packets[-1].ssrc
    await voice.server.close(voice.sample.guild.id, 4015)
    resume = await rx.wait_for_event("resume", timeout=5)
    assert resume.data["ok"] is True
    mark = len(rx.packets)
    await rx.wait_for_audio(1.0, timeout=5, since=mark)
    assert vc.is_connected()
    assert len(rx.events_of("identify")) == 1
    assert {p.ssrc for p in rx.packets} == {ssrc}
    assert max(g for _, g in rx.gaps(0.0)) < 0.25
    vc.stop()


async def test_4017_dave_required_never_connects(voice: Voice) -> None:
    """What a bot without DAVE sees on real Discord since March 2026: connect keeps failing.
    (Slowest test here, ~3 s: it waits out the connect timeout.)"""
    voice.server.refuse_identify = 4017
    with pytest.raises(asyncio.TimeoutError):
        await voice.channel.connect(timeout=2)
    rx = voice.rx
    assert len(rx.events_of("identify")) >= 2  # discord.py retried
    assert {e.data["code"] for e in rx.events_of("close")} == {4017}
    assert rx.packets == []


async def test_make_tones_sequence(tmp_path: Path) -> None:
    path = make_tones(tmp_path / "seq.ogg", [(440, 0.5), (0, 0.25), (880, 0.5)])
    assert path.stat().st_size > 1000


async def test_move_to_another_channel_keeps_playing(voice: Voice, tone_long: Path) -> None:
    other = voice.emu.add_channel(voice.sample.guild.id, "Stage-ish", ChannelType.VOICE)
    voice.emu.set_voice_state(voice.sample.guild.id, voice.sample.alice.id, other.id)
    rx = voice.rx
    vc = await _playing(voice, tone_long, 0.5)
    await voice.emu.wait_until(lambda: voice.bot.get_channel(other.id) is not None)
    target = voice.bot.get_channel(other.id)
    assert isinstance(target, discord.VoiceChannel)
    await vc.move_to(target, timeout=5)
    await rx.wait_for_event("identify", 2, timeout=5)
    mark = len(rx.packets)
    await rx.wait_for_audio(0.5, timeout=5, since=mark)
    assert vc.is_connected() and vc.channel.id == other.id
    assert {p.channel_id for p in rx.packets[mark:]} == {other.id}
    assert sorted(voice.server.members(other.id)) == sorted(
        [voice.sample.alice.id, voice.emu.bot.id]
    )
    assert voice.server.members(voice.sample.voice.id) == []
    vc.stop()


# -- DAVE: end-to-end encryption with a simulated listener (a davey session) --------------------
def _listen(voice: Voice) -> int:
    """Alice joins the voice channel: the emulator's listener for her joins the DAVE group."""
    voice.emu.set_voice_state(voice.sample.guild.id, voice.sample.alice.id, voice.sample.voice.id)
    return voice.sample.alice.id


async def test_dave_listener_hears_encrypted_tone(voice: Voice, tone_440: Path) -> None:
    _listen(voice)
    vc = await voice.connect()
    rx = voice.rx
    voice.play(vc, tone_440)
    await asyncio.wait_for(voice.done.wait(), 10)
    await rx.wait_quiet(0.1)
    kinds = [e.kind for e in rx.events if e.kind.startswith("dave_")]
    assert "dave_commit" in kinds, kinds
    assert [e.data["op"] for e in rx.events_of("binary")][:1] == [26]  # key package
    assert rx.dave_failures == 0
    assert rx.e2ee_fraction() >= 0.95, [e.kind for e in rx.events]
    assert vc.voice_privacy_code is not None
    assert rx.dominant_frequency(0.5, 2.5) == pytest.approx(440, abs=3)


def _e2ee_since(rx: VoiceReceiver, mark: int) -> list[bool]:
    return [p.e2ee for p in rx.audio_packets(mark)]


async def _encrypted_again(rx: VoiceReceiver, mark: int, within: float) -> float:
    """Seconds from packet `mark` until the listener hears end-to-end encrypted audio again."""
    start = rx.packets[mark].arrival if len(rx.packets) > mark else None
    await rx.wait_for(lambda: any(_e2ee_since(rx, mark)), within + 1)
    first = next(p for p in rx.audio_packets(mark) if p.e2ee)
    return first.arrival - (start if start is not None else first.arrival)


async def _playing_encrypted(voice: Voice, path: Path) -> discord.VoiceClient:
    _listen(voice)
    vc = await _playing(voice, path)
    await voice.rx.wait_for(lambda: voice.rx.e2ee_fraction(0) > 0, 5)
    return vc


async def test_dave_resume_mid_play_rekeys(voice: Voice, tone_long: Path) -> None:
    rx = voice.rx
    vc = await _playing_encrypted(voice, tone_long)
    commits = len(rx.events_of("dave_commit"))
    await voice.server.close(voice.sample.guild.id, 4015)
    assert (await rx.wait_for_event("resume", timeout=5)).data["ok"] is True
    mark = len(rx.packets)
    await rx.wait_for_audio(1.5, timeout=5, since=mark)
    assert len(rx.events_of("dave_key_package")) >= 3  # alice, the bot, the bot again
    commit = rx.events_of("dave_commit")[commits]
    assert commit.data["user_id"] == voice.sample.alice.id  # the bot re-keyed: alice re-adds it
    assert await _encrypted_again(rx, mark, 1.0) < 1.0
    assert all(_e2ee_since(rx, mark)[50:])
    assert rx.dave_failures == 0
    vc.stop()


async def test_dave_listener_joins_and_leaves_bot_commits(voice: Voice, tone_long: Path) -> None:
    rx = voice.rx
    vc = await _playing_encrypted(voice, tone_long)
    bob = voice.emu.add_user("bob")
    voice.emu.add_member(voice.sample.guild.id, bob.id)
    voice.emu.set_voice_state(voice.sample.guild.id, bob.id, voice.sample.voice.id)
    group = voice.server.dave(voice.sample.voice.id)
    await rx.wait_for(lambda: len(rx.events_of("dave_commit")) >= 2, 5)
    joined = rx.events_of("dave_commit")[1].data
    assert joined["user_id"] == voice.emu.bot.id and joined["adds"] == [bob.id]
    await rx.wait_for(lambda: all(listener.ready for listener in group.listeners), 5)
    assert {listener.epoch for listener in group.listeners} == {2}

    voice.emu.set_voice_state(voice.sample.guild.id, bob.id, None)
    await rx.wait_for(lambda: len(rx.events_of("dave_commit")) >= 3, 5)
    assert rx.events_of("dave_commit")[2].data["user_id"] == voice.emu.bot.id
    assert [listener.user_id for listener in group.listeners] == [voice.sample.alice.id]
    mark = len(rx.packets)
    await rx.wait_for_audio(1.0, timeout=5, since=mark)
    assert all(_e2ee_since(rx, mark)) and rx.dave_failures == 0
    vc.stop()


async def test_dave_last_listener_leaves_sole_member_reset(voice: Voice, tone_long: Path) -> None:
    rx = voice.rx
    vc = await _playing_encrypted(voice, tone_long)
    voice.emu.set_voice_state(voice.sample.guild.id, voice.sample.alice.id, None)
    await rx.wait_for_event("dave_sole_member_reset", timeout=5)
    mark = len(rx.packets)
    await rx.wait_for_audio(1.0, timeout=5, since=mark)
    assert not any(_e2ee_since(rx, mark)[5:])  # alone: plain Opus, and still playing
    assert vc.is_playing()

    _listen(voice)
    mark = len(rx.packets)
    assert await _encrypted_again(rx, mark, 1.0) < 1.0
    assert rx.dave_failures == 0
    vc.stop()


async def test_dave_corrupt_welcome_bot_sends_op31_and_recovers(
    voice: Voice, tone_long: Path
) -> None:
    rx = voice.rx
    voice.server.dave(voice.sample.voice.id).corrupt_welcomes = 1
    _listen(voice)
    vc = await _playing(voice, tone_long)
    invalid = await rx.wait_for_event("dave_invalid", timeout=5)
    assert invalid.data["user_id"] == voice.emu.bot.id
    assert any(p.get("op") == 31 for c in voice.server.connections for p in c.received)
    await rx.wait_for(lambda: rx.e2ee_fraction(0) > 0, 5)
    mark = len(rx.packets)
    await rx.wait_for_audio(1.0, timeout=5, since=mark)
    assert all(_e2ee_since(rx, mark)) and rx.dave_failures == 0
    vc.stop()


async def test_dave_downgrade_to_version_0(voice: Voice, tone_long: Path) -> None:
    rx = voice.rx
    vc = await _playing_encrypted(voice, tone_long)
    voice.server.dave(voice.sample.voice.id).downgrade()
    await rx.wait_for(lambda: len(rx.events_of("dave_execute")) >= 2, 5)
    await asyncio.sleep(0.1)  # frames already in flight
    mark = len(rx.packets)
    await rx.wait_for_audio(1.0, timeout=5, since=mark)
    assert not any(_e2ee_since(rx, mark))  # plain Opus after the transition
    assert vc._connection.dave_protocol_version == 0
    vc.stop()


async def test_dave_required_closes_4017_without_dave(
    voice: Voice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that does not offer DAVE is closed with 4017 (discord.py retries)."""
    monkeypatch.setattr(discord.voice_state, "has_dave", False)  # IDENTIFY offers version 0
    with pytest.raises(asyncio.TimeoutError):
        await voice.channel.connect(timeout=2)
    rx = voice.rx
    assert {e.data["max_dave_protocol_version"] for e in rx.events_of("identify")} == {0}
    assert {e.data["code"] for e in rx.events_of("close") if e.data["by"] == "server"} == {4017}
