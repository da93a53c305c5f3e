"""Voice gateway v8 constants, as discord.py 2.7.1 speaks them (see shared/reference/discord-voice.md)."""

from __future__ import annotations

import struct

import nacl.bindings
import nacl.exceptions

OP_IDENTIFY, OP_SELECT_PROTOCOL, OP_READY, OP_HEARTBEAT = 0, 1, 2, 3
OP_SESSION_DESCRIPTION, OP_SPEAKING, OP_HEARTBEAT_ACK, OP_RESUME = 4, 5, 6, 7
OP_HELLO, OP_RESUMED = 8, 9
# DAVE (see shared/reference/dave.md): JSON 21-24 and 31, binary 25-30
OP_DAVE_PREPARE_TRANSITION, OP_DAVE_EXECUTE_TRANSITION = 21, 22
OP_DAVE_TRANSITION_READY, OP_DAVE_PREPARE_EPOCH = 23, 24
OP_MLS_EXTERNAL_SENDER, OP_MLS_KEY_PACKAGE, OP_MLS_PROPOSALS = 25, 26, 27
OP_MLS_COMMIT_WELCOME, OP_MLS_ANNOUNCE_COMMIT, OP_MLS_WELCOME = 28, 29, 30
OP_MLS_INVALID_COMMIT_WELCOME = 31
DAVE_MAGIC = b"\xfa\xfa"  # the last two bytes of an end-to-end encrypted Opus frame

# Real Discord lists AES-GCM first; discord.py 2.7.1 lacks it and so picks XChaCha20.
MODES = ["aead_aes256_gcm_rtpsize", "aead_xchacha20_poly1305_rtpsize"]
SUPPORTED_MODE = "aead_xchacha20_poly1305_rtpsize"

CLOSE_UNKNOWN_OPCODE = 4001
CLOSE_DECODE_ERROR = 4002
CLOSE_NOT_AUTHENTICATED = 4003
CLOSE_AUTH_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005
CLOSE_SESSION_INVALID = 4006
CLOSE_SESSION_TIMEOUT = 4009
CLOSE_SERVER_NOT_FOUND = 4011
CLOSE_UNKNOWN_PROTOCOL = 4012
CLOSE_DISCONNECTED = 4014  # kicked, channel deleted, moved
CLOSE_SERVER_CRASHED = 4015  # the client should RESUME
CLOSE_UNKNOWN_ENCRYPTION = 4016
CLOSE_DAVE_REQUIRED = 4017
CLOSE_RATE_LIMITED = 4021
CLOSE_CALL_TERMINATED = 4022
KICK_CODES = (CLOSE_DISCONNECTED, CLOSE_CALL_TERMINATED)

DISCOVERY_SIZE = 74
RTP_MIN = 12 + 16 + 4  # header + AEAD tag + nonce counter


def discovery_reply(request: bytes, addr: tuple[str, int]) -> bytes:
    """The 74-byte IP-discovery answer: type 2, length 70, SSRC, NUL-terminated IP, port (BE)."""
    ssrc = struct.unpack_from(">I", request, 4)[0]
    reply = bytearray(DISCOVERY_SIZE)
    struct.pack_into(">HHI", reply, 0, 2, 70, ssrc)
    ip = addr[0].encode()[:63]
    reply[8 : 8 + len(ip)] = ip
    struct.pack_into(">H", reply, 72, addr[1])
    return bytes(reply)


def is_discovery_request(data: bytes) -> bool:
    return len(data) == DISCOVERY_SIZE and data[:2] == b"\x00\x01"


def parse_rtp(data: bytes) -> tuple[int, int, int, int] | None:
    """(seq, timestamp, ssrc, header length incl. CSRCs and extension preamble) or None."""
    if len(data) < RTP_MIN or data[0] >> 6 != 2:
        return None
    header_len = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:
        header_len += 4
    if len(data) < header_len + 20:
        return None
    seq, ts, ssrc = struct.unpack_from(">HII", data, 2)
    return seq, ts, ssrc, header_len


def decrypt_rtpsize(data: bytes, header_len: int, key: bytes) -> bytes | None:
    """aead_xchacha20_poly1305_rtpsize: AAD = header, nonce = trailing 4 bytes ‖ 20 zeros.

    The header-extension body (if any) is inside the ciphertext and is stripped here.
    """
    try:
        plain = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            data[header_len:-4], data[:header_len], data[-4:] + b"\x00" * 20, key
        )
    except nacl.exceptions.CryptoError:
        return None
    if data[0] & 0x10:
        words = struct.unpack_from(">H", data, header_len - 2)[0]
        plain = plain[4 * words :]
    return plain
