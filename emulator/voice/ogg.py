"""Opus packet helpers: TOC durations and an Ogg Opus writer (so ffmpeg can decode what we received)."""

from __future__ import annotations

import struct
from collections.abc import Iterable

OPUS_HEAD = b"OpusHead"
OPUS_TAGS = b"OpusTags"
SILENCE = b"\xf8\xff\xfe"
SAMPLE_RATE = 48000

# Frame size in 48 kHz samples for each TOC config (RFC 6716 §3.1).
_SILK = (480, 960, 1920, 2880)
_HYBRID = (480, 960)
_CELT = (120, 240, 480, 960)
_CONFIG_SAMPLES = _SILK * 3 + _HYBRID * 2 + _CELT * 4


def is_header(payload: bytes) -> bool:
    return payload.startswith(OPUS_HEAD) or payload.startswith(OPUS_TAGS)


def packet_samples(payload: bytes) -> int:
    """Samples per channel (48 kHz) that one Opus packet decodes to; 0 if it is malformed."""
    if not payload:
        return 0
    toc = payload[0]
    per_frame = _CONFIG_SAMPLES[toc >> 3]
    code = toc & 0x03
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    else:
        if len(payload) < 2:
            return 0
        frames = payload[1] & 0x3F
    return per_frame * frames


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_CRC_TABLE = _crc_table()


def ogg_crc(data: bytes) -> int:
    """Ogg's CRC-32 (poly 0x04C11DB7, not reflected, init 0, no final xor)."""
    crc = 0
    table = _CRC_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[((crc >> 24) ^ byte) & 0xFF]
    return crc


def opus_head(channels: int = 2, pre_skip: int = 0) -> bytes:
    return OPUS_HEAD + struct.pack("<BBHIhB", 1, channels, pre_skip, SAMPLE_RATE, 0, 0)


def opus_tags(vendor: bytes = b"narrator-emulator") -> bytes:
    return OPUS_TAGS + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)


def _page(packets: list[bytes], granule: int, serial: int, seq: int, flags: int) -> bytes:
    lacing = bytearray()
    for packet in packets:
        n = len(packet)
        lacing.extend(b"\xff" * (n // 255))
        lacing.append(n % 255)
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, seq, 0, len(lacing))
    page = bytearray(header + bytes(lacing) + b"".join(packets))
    struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
    return bytes(page)


def write_ogg_opus(
    packets: Iterable[bytes], *, channels: int = 2, serial: int = 0x4E415252
) -> bytes:
    """An Ogg Opus stream (RFC 7845) holding `packets` (raw Opus, no headers) in order."""
    out = [
        _page([opus_head(channels)], 0, serial, 0, 0x02),
        _page([opus_tags()], 0, serial, 1, 0),
    ]
    seq = 2
    granule = 0
    batch: list[bytes] = []
    segments = 0
    for packet in packets:
        need = len(packet) // 255 + 1
        if batch and (segments + need > 255 or len(batch) >= 50):
            out.append(_page(batch, granule, serial, seq, 0))
            seq += 1
            batch, segments = [], 0
        batch.append(packet)
        segments += need
        granule += packet_samples(packet)
    out.append(_page(batch, granule, serial, seq, 0x04))
    return b"".join(out)
