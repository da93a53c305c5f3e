"""Building blocks of emulator.voice, without a bot: Ogg writer, RTP crypto, discovery, analysis, auth."""

from __future__ import annotations

import asyncio
import json
import math
import os
import struct
from array import array
from pathlib import Path

import aiohttp
import nacl.bindings
import pytest
from discord.oggparse import OggStream

from emulator import DiscordEmulator
from emulator.voice import VoiceReceiver, analysis, make_tone, make_tones, ogg
from emulator.voice import protocol as p


def _sine(freq: float, seconds: float, rate: int = 48000, amp: int = 8000) -> array:
    n = int(seconds * rate)
    return array("h", (int(amp * math.sin(2 * math.pi * freq * i / rate)) for i in range(n)))


def test_frequency_estimates_on_a_known_sine() -> None:
    tone = _sine(440, 0.5)
    assert analysis.zero_crossing_frequency(tone, 48000) == pytest.approx(440, abs=0.5)
    assert analysis.tone_fraction(tone, 48000, 440) > 0.95
    assert analysis.tone_fraction(tone, 48000, 660) < 0.02
    assert analysis.rms(tone) == pytest.approx(8000 / math.sqrt(2), rel=0.01)
    assert analysis.percentile([1, 2, 3, 4], 50) == 2.5


def test_opus_toc_durations() -> None:
    assert ogg.packet_samples(b"\xf8\xff\xfe") == 960  # CELT FB 20 ms, the silence frame
    assert ogg.packet_samples(bytes([(31 << 3) | 1])) == 1920  # two 20 ms frames
    assert ogg.packet_samples(bytes([(31 << 3) | 3, 3])) == 2880  # code 3, three frames
    assert ogg.packet_samples(bytes([(1 << 3)])) == 960  # SILK NB 20 ms


def test_ogg_crc_matches_a_real_ogg_page(tmp_path: Path) -> None:
    data = make_tone(tmp_path / "t.ogg", 440, 0.2).read_bytes()
    page_len = 27 + data[26] + sum(data[27 : 27 + data[26]])
    page = bytearray(data[:page_len])
    crc = struct.unpack_from("<I", page, 22)[0]
    page[22:26] = b"\0\0\0\0"
    assert ogg.ogg_crc(bytes(page)) == crc


async def test_ogg_writer_round_trips_through_ffmpeg(tmp_path: Path) -> None:
    """Opus packets out of an ffmpeg-made file, rewrapped by our writer, decode to the same tone."""
    src = make_tones(tmp_path / "two.ogg", [(440, 1.0), (880, 1.0)])
    with src.open("rb") as fh:
        packets = [pkt for pkt in OggStream(fh).iter_packets() if not ogg.is_header(pkt)]
    rx = VoiceReceiver(1)
    for i, pkt in enumerate(packets):
        rx.packets.append(_packet(i, pkt))
    assert rx.audio_seconds() == pytest.approx(2.0, abs=0.03)
    await rx.decode()
    assert rx.decoded_seconds() == pytest.approx(2.0, abs=0.03)
    assert rx.dominant_frequency(0.2, 0.8) == pytest.approx(440, abs=2)
    assert rx.dominant_frequency(1.2, 1.8) == pytest.approx(880, abs=2)
    assert rx.rms(0.2, 0.8) > 1000


def _packet(i: int, payload: bytes):
    from emulator.voice import RtpPacket

    return RtpPacket(i + 1, i * 960, 1, i, i * 0.02, payload)


def test_discovery_reply_is_what_discord_py_parses() -> None:
    request = bytearray(74)
    struct.pack_into(">HHI", request, 0, 1, 70, 1234)
    assert p.is_discovery_request(bytes(request))
    reply = p.discovery_reply(bytes(request), ("127.0.0.1", 50123))
    assert len(reply) == 74 and reply[1] == 0x02
    assert struct.unpack_from(">I", reply, 4)[0] == 1234
    assert reply[8 : reply.index(0, 8)].decode() == "127.0.0.1"
    assert struct.unpack_from(">H", reply, 72)[0] == 50123


def _encrypt(header: bytes, body: bytes, key: bytes, counter: int) -> bytes:
    nonce = struct.pack(">I", counter)
    sealed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        body, header, nonce + b"\0" * 20, key
    )
    return header + sealed + nonce


def test_rtpsize_decrypt_plain_and_with_extension() -> None:
    key = os.urandom(32)
    header = struct.pack(">BBHII", 0x80, 0x78, 7, 960, 42)
    packet = _encrypt(header, b"opus!", key, 5)
    seq, ts, ssrc, hlen = p.parse_rtp(packet) or (0, 0, 0, 0)
    assert (seq, ts, ssrc, hlen) == (7, 960, 42, 12)
    assert p.decrypt_rtpsize(packet, hlen, key) == b"opus!"
    assert p.decrypt_rtpsize(packet, hlen, os.urandom(32)) is None
    # extension: the 4-byte preamble is AAD, its body is encrypted and stripped after decrypting
    ext_header = struct.pack(">BBHII", 0x90, 0x78, 8, 1920, 42) + b"\xbe\xde\x00\x01"
    packet = _encrypt(ext_header, b"\x10\xff\x00\x00" + b"opus2", key, 6)
    hlen = (p.parse_rtp(packet) or (0, 0, 0, 0))[3]
    assert hlen == 16
    assert p.decrypt_rtpsize(packet, hlen, key) == b"opus2"


async def test_voice_gateway_rejects_a_wrong_token(emu: DiscordEmulator, tmp_path: Path) -> None:
    server = await emu.enable_voice(tmp_path)
    ssl_ctx = server.tls.client_context()
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"wss://{server.nodes[0].endpoint}/?v=8", ssl=ssl_ctx) as ws,
    ):
        hello = json.loads((await ws.receive()).data)
        assert hello["op"] == 8 and "heartbeat_interval" in hello["d"]
        await ws.send_str(json.dumps({"op": 3, "d": {"t": 123, "seq_ack": 1}}))
        ack = json.loads((await ws.receive()).data)
        assert ack["op"] == 6 and ack["d"] == {"t": 123}
        identify = {"server_id": "1", "user_id": "2", "session_id": "s", "token": "nope"}
        await ws.send_str(json.dumps({"op": 0, "d": identify}))
        msg = await asyncio.wait_for(ws.receive(), 5)
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4004


async def test_localhost_name_is_in_the_certificate(emu: DiscordEmulator, tmp_path: Path) -> None:
    server = await emu.enable_voice(tmp_path)
    port = server.nodes[1].ws_port
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"wss://localhost:{port}/", ssl=server.tls.client_context()) as ws,
    ):
        assert json.loads((await ws.receive()).data)["op"] == 8
