"""The voice server's side of DAVE's MLS (RFC 9420), on `cryptography`: davey is client-only.

What a Discord voice server does as the group's "external sender" and "delivery service": the
`ExternalSender` struct (op 25), signed external Add/Remove proposals (the op 27 body), splitting a
client's op 28 into its commit and Welcome, and reading a commit's epoch and a key package's user.
MLS 1.0, ciphersuite 2 (DHKEM P-256, AES-128-GCM, SHA-256, P-256 ECDSA with DER signatures);
structures are TLS presentation language with QUIC-varint vector lengths. Byte layout as in
libdave's `cpp/test/external_sender.cpp` (github.com/discord/libdave).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

MLS10 = 1
WIRE_PUBLIC_MESSAGE = 1
SENDER_MEMBER, SENDER_EXTERNAL = 1, 2
CONTENT_PROPOSAL, CONTENT_COMMIT = 2, 3
PROPOSAL_ADD, PROPOSAL_REMOVE = 1, 3
CREDENTIAL_BASIC = 1
CIPHERSUITE = 2
APPEND, REVOKE = 0, 1


class MLSError(ValueError):
    """Bytes that are not the MLS structure they should be."""


# -- TLS presentation language ------------------------------------------------------------------
def varint(n: int) -> bytes:
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return struct.pack(">H", n | 0x4000)
    if n < 1 << 30:
        return struct.pack(">I", n | 0x8000_0000)
    raise MLSError(f"vector too long: {n}")


def vec(data: bytes) -> bytes:
    return varint(len(data)) + data


class Reader:
    """A cursor over TLS-encoded bytes; every read checks the bounds."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise MLSError(f"truncated at byte {self.pos} (wanted {n})")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def varint(self) -> int:
        first = self.uint(1)
        prefix = first >> 6
        if prefix == 3:
            raise MLSError("invalid varint prefix")
        n = first & 0x3F
        for _ in range((1 << prefix) - 1):
            n = (n << 8) | self.uint(1)
        return n

    def vec(self) -> bytes:
        return self.take(self.varint())

    def optional(self) -> bool:
        present = self.uint(1)
        if present > 1:
            raise MLSError("invalid optional flag")
        return present == 1

    @property
    def done(self) -> bool:
        return self.pos == len(self.data)


def user_bytes(user_id: int) -> bytes:
    """A DAVE identity (and group id): the snowflake as 8 bytes big-endian."""
    return user_id.to_bytes(8, "big")


# -- key packages and leaf nodes ----------------------------------------------------------------
def _skip_leaf_node(r: Reader) -> int:
    """Reads an RFC 9420 LeafNode, returning its basic credential's identity as a user id."""
    r.vec()  # encryption_key
    r.vec()  # signature_key
    if r.uint(2) != CREDENTIAL_BASIC:
        raise MLSError("not a basic credential")
    identity = r.vec()
    for _ in range(5):  # capabilities: versions, cipher_suites, extensions, proposals, credentials
        r.vec()
    source = r.uint(1)
    if source == 1:  # key_package: lifetime not_before, not_after
        r.take(16)
    elif source == 3:  # commit: parent_hash
        r.vec()
    elif source != 2:
        raise MLSError(f"unknown leaf node source {source}")
    r.vec()  # extensions
    r.vec()  # signature
    if len(identity) != 8:
        raise MLSError(f"identity of {len(identity)} bytes, not a user id")
    return int.from_bytes(identity, "big")


def key_package_user(key_package: bytes) -> int:
    """The user id in a bare MLS KeyPackage (what discord.py sends in op 26)."""
    r = Reader(key_package)
    if r.uint(2) != MLS10 or r.uint(2) != CIPHERSUITE:
        raise MLSError("not an MLS 1.0 key package for ciphersuite 2")
    r.vec()  # init_key
    user = _skip_leaf_node(r)
    r.vec()  # extensions
    r.vec()  # signature
    if not r.done:
        raise MLSError("trailing bytes after the key package")
    return user


# -- commits ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Commit:
    """A client's commit (a PublicMessage), as far as the delivery service needs it."""

    message: bytes
    group_id: bytes
    epoch: int
    sender_leaf: int | None
    proposals: int  # how many proposals (by value or reference) it commits


def _read_commit(r: Reader) -> Commit:
    start = r.pos
    if r.uint(2) != MLS10 or r.uint(2) != WIRE_PUBLIC_MESSAGE:
        raise MLSError("not an MLS 1.0 PublicMessage")
    group_id = r.vec()
    epoch = r.uint(8)
    sender_type = r.uint(1)
    sender_leaf = r.uint(4) if sender_type in (SENDER_MEMBER, SENDER_EXTERNAL) else None
    r.vec()  # authenticated_data
    if r.uint(1) != CONTENT_COMMIT:
        raise MLSError("not a commit")
    proposals = Reader(r.vec())
    count = 0
    while not proposals.done:
        kind = proposals.uint(1)
        if kind == 1:  # by value: only the Add/Remove kinds are expected here
            ptype = proposals.uint(2)
            if ptype == PROPOSAL_ADD:
                key_package_end = _key_package_end(proposals)
                proposals.pos = key_package_end
            elif ptype == PROPOSAL_REMOVE:
                proposals.uint(4)
            else:
                raise MLSError(f"unexpected inline proposal type {ptype}")
        elif kind == 2:  # by reference
            proposals.vec()
        else:
            raise MLSError(f"bad ProposalOrRef type {kind}")
        count += 1
    if r.optional():  # UpdatePath
        _skip_leaf_node(r)
        r.vec()  # nodes
    r.vec()  # signature
    r.vec()  # confirmation_tag
    if sender_type == SENDER_MEMBER:
        r.vec()  # membership_tag
    return Commit(r.data[start : r.pos], group_id, epoch, sender_leaf, count)


def _key_package_end(r: Reader) -> int:
    sub = Reader(r.data, r.pos)
    sub.take(4)
    sub.vec()
    _skip_leaf_node(sub)
    sub.vec()
    sub.vec()
    return sub.pos


def parse_commit(message: bytes) -> Commit:
    r = Reader(message)
    commit = _read_commit(r)
    if not r.done:
        raise MLSError("trailing bytes after the commit")
    return commit


def split_commit_welcome(body: bytes) -> tuple[Commit, bytes | None]:
    """Op 28's body: the commit, then (when someone was added) the raw Welcome, unprefixed."""
    r = Reader(body)
    commit = _read_commit(r)
    if r.done:
        return commit, None
    welcome = body[r.pos :]
    w = Reader(welcome)
    if w.uint(2) != CIPHERSUITE:
        raise MLSError("the bytes after the commit are not a Welcome")
    w.vec()  # secrets
    w.vec()  # encrypted_group_info
    if not w.done:
        raise MLSError("trailing bytes after the Welcome")
    return commit, welcome


# -- the external sender ------------------------------------------------------------------------
class ExternalSender:
    """The voice server's signing identity in every DAVE group it runs (sender index 0)."""

    IDENTITY = bytes([0x00, 0x01, 0x01, 0x00])  # what libdave's test external sender uses

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.public_key = self._key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def package(self) -> bytes:
        """The `ExternalSender` struct: op 25's body."""
        return vec(self.public_key) + struct.pack(">H", CREDENTIAL_BASIC) + vec(self.IDENTITY)

    def propose_add(self, group_id: int, epoch: int, key_package: bytes) -> bytes:
        """One signed MLSMessage proposing to add the owner of `key_package`."""
        return self._proposal(group_id, epoch, struct.pack(">H", PROPOSAL_ADD) + key_package)

    def propose_remove(self, group_id: int, epoch: int, leaf_index: int) -> bytes:
        return self._proposal(group_id, epoch, struct.pack(">HI", PROPOSAL_REMOVE, leaf_index))

    def _proposal(self, group_id: int, epoch: int, proposal: bytes) -> bytes:
        content = (
            vec(user_bytes(group_id))
            + struct.pack(">QBI", epoch, SENDER_EXTERNAL, 0)
            + vec(b"")
            + bytes([CONTENT_PROPOSAL])
            + proposal
        )
        header = struct.pack(">HH", MLS10, WIRE_PUBLIC_MESSAGE)
        to_sign = vec(b"MLS 1.0 FramedContentTBS") + vec(header + content)
        signature = self._key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
        return header + content + vec(signature)


def proposals_body(messages: list[bytes], op_type: int = APPEND) -> bytes:
    """Op 27's body: `op_type (u8) | MLSMessage<V>` (the vector holds whole messages)."""
    return bytes([op_type]) + vec(b"".join(messages))


def transition_body(transition_id: int, message: bytes) -> bytes:
    """Op 29/30's body: `transition_id (u16) | commit or welcome`."""
    return struct.pack(">H", transition_id) + message
