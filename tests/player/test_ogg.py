"""OggPackets: the player's Ogg reader, on hand-built pages and on a real ffmpeg stream."""

from __future__ import annotations

import io
import struct
import subprocess
from pathlib import Path

import pytest
from discord.oggparse import OggStream

from bot.player.ffmpeg import encoder_options, find_ffmpeg
from bot.player.ogg import CONTINUED, OggError, OggPackets

HEAD = b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00"
TAGS = b"OpusTags\x05\x00\x00\x00narr!\x00\x00\x00\x00"


def lacing(size: int, *, ends: bool = True) -> bytes:
    """Lacing values of one packet of `size` bytes (a 255-multiple that ends gets a 0)."""
    full, rest = divmod(size, 255)
    if not ends:
        assert rest == 0, "a packet that goes on to the next page fills its last segment"
        return bytes([255] * full)
    return bytes([255] * full + [rest])


def page(
    *pieces: bytes, granule: int = 960, flags: int = 0, last_ends: bool = True, number: int = 0
) -> bytes:
    laces = b"".join(
        lacing(len(p), ends=last_ends or i < len(pieces) - 1) for i, p in enumerate(pieces)
    )
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, 7, number, 0, len(laces))
    return header + laces + b"".join(pieces)


def read_all(data: bytes) -> list[bytes]:
    reader = OggPackets(io.BytesIO(data))
    packets = []
    while packet := reader.read():
        packets.append(packet)
    assert reader.read() == b"", "the end stays the end"
    return packets


def test_packets_of_a_page_in_order_and_header_packets_dropped() -> None:
    audio = [b"\xfc" + bytes([n]) * 100 for n in range(3)]
    data = page(HEAD, granule=0, flags=0x02) + page(TAGS, granule=0) + page(*audio, granule=2880)
    assert read_all(data) == audio


def test_a_packet_spanning_pages_is_joined() -> None:
    big = bytes(range(256)) * 3  # 768 bytes: 510 on the first page, the rest continued
    data = page(b"\xfc" + b"a" * 40, big[:510], last_ends=False) + page(
        big[510:], b"\xfcb", flags=CONTINUED, number=1
    )
    assert read_all(data) == [b"\xfc" + b"a" * 40, big, b"\xfcb"]


def test_a_packet_of_exactly_255_bytes_ends_with_a_zero_lace() -> None:
    exact = b"\xfc" + b"x" * 254
    assert read_all(page(exact, b"\xfcy")) == [exact, b"\xfcy"]


def test_an_empty_packet_is_skipped_rather_than_read_as_the_end() -> None:
    assert read_all(page(b"\xfc1", b"", b"\xfc2")) == [b"\xfc1", b"\xfc2"]


def test_a_page_of_only_header_packets_does_not_end_the_stream() -> None:
    assert read_all(page(HEAD, TAGS, granule=0) + page(b"\xfc!")) == [b"\xfc!"]


def test_an_audio_packet_that_happens_to_start_like_a_header_is_kept_on_audio_pages() -> None:
    odd = b"OpusTags-looking audio"
    assert read_all(page(odd, granule=960)) == [odd]


def test_not_ogg_and_cut_streams_raise() -> None:
    with pytest.raises(OggError, match="not an Ogg page"):
        OggPackets(io.BytesIO(b"ID3\x04" + b"\x00" * 40)).read()
    whole = page(b"\xfc" * 50)
    for cut in (10, 28, len(whole) - 1):
        with pytest.raises(OggError, match="ends inside"):
            OggPackets(io.BytesIO(whole[:cut])).read()


def test_same_audio_packets_as_discord_py_on_a_real_ffmpeg_stream(tmp_path: Path) -> None:
    ffmpeg = find_ffmpeg()
    data = subprocess.run(
        [ffmpeg, "-nostdin", "-loglevel", "error", "-f", "lavfi",
         "-i", "sine=frequency=300:duration=3:sample_rate=44100",
         *encoder_options(), "-f", "opus", "-"],
        check=True, capture_output=True, timeout=30,
    ).stdout  # fmt: skip
    theirs = [
        p for p in OggStream(io.BytesIO(data)).iter_packets() if not p.startswith((b"OpusHead", b"OpusTags"))
    ]  # fmt: skip
    ours = read_all(data)
    assert len(ours) == 151, "3 s of 20 ms frames, and one more for the encoder's lookahead"
    assert ours == theirs
