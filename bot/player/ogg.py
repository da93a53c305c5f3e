"""Opus packets out of ffmpeg's Ogg stream, read page by page with as little Python per packet as can be.

discord.py's `OggStream` runs two generators per packet and concatenates every packet onto an
empty bytes object; it also yields the stream's `OpusHead` and `OpusTags` packets, which are not
audio. `OggPackets` reads a whole page in three buffered reads (header, lacing table, body), cuts
its packets in one pass, and hands them out by index: per packet, one list lookup. Only a packet
that spans pages is joined. Header packets (RFC 7845 §5: `OpusHead` then `OpusTags`, each
starting on its own page) are dropped, so the player sees audio frames only.
"""

from __future__ import annotations

import struct
from typing import IO

_PAGE = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, page no., crc, segs
_HEADERS = (b"OpusHead", b"OpusTags")
CONTINUED = 0x01


class OggError(ValueError):
    """The stream is not Ogg, or is cut inside a page."""


class OggPackets:
    """Audio packets of the Ogg Opus stream in `stream`; `read()` gives b"" at its end."""

    __slots__ = ("_index", "_packets", "_partial", "_stream")

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._packets: list[bytes] = []
        self._index = 0
        self._partial = b""  # the start of a packet that continues on the next page

    def read(self) -> bytes:
        index = self._index
        if index < len(self._packets):
            self._index = index + 1
            return self._packets[index]
        while self._next_page():
            if self._packets:
                self._index = 1
                return self._packets[0]
        return b""

    def _next_page(self) -> bool:
        """Read one page into `_packets`; False at the end of the stream."""
        header = self._stream.read(_PAGE.size)
        if not header:
            return False
        if len(header) < _PAGE.size:
            raise OggError("the Ogg stream ends inside a page header")
        capture, _, flags, granule, _, _, _, segments = _PAGE.unpack(header)
        if capture != b"OggS":
            raise OggError(f"not an Ogg page: {capture!r}")
        lacing = self._stream.read(segments)
        body = self._stream.read(sum(lacing))
        if len(lacing) < segments or len(body) < sum(lacing):
            raise OggError("the Ogg stream ends inside a page")
        pending = self._partial if flags & CONTINUED else b""
        packets: list[bytes] = []
        start = end = 0
        for lace in lacing:
            end += lace
            if lace < 255:  # the packet ends here
                if pending:
                    packets.append(pending + body[start:end])
                    pending = b""
                elif end > start:  # an empty packet would read as the end of the stream
                    packets.append(body[start:end])
                start = end
        self._partial = pending + body[start:] if start < end or pending else b""
        if granule == 0:  # only the header pages (and no audio page) have granule position 0
            packets = [p for p in packets if not p.startswith(_HEADERS)]
        self._packets = packets
        self._index = 0
        return True
