"""The voice server's MLS pieces (emulator/voice/mls.py) against real davey sessions: members
joined through our signed external proposals encrypt and decrypt each other's frames."""

from __future__ import annotations

import davey
import pytest

from emulator.voice import mls

CHANNEL = 4242
APPEND = davey.ProposalsOperationType.append
AUDIO = davey.MediaType.audio


def member(user_id: int, external: mls.ExternalSender) -> tuple[davey.DaveSession, bytes]:
    session = davey.DaveSession(1, user_id, CHANNEL)
    key_package = session.get_serialized_key_package()
    session.set_external_sender(external.package())
    return session, key_package


def propose(external: mls.ExternalSender, epoch: int, *messages: bytes) -> bytes:
    """What the client library gets from op 27 (discord.py passes the body after op_type)."""
    body = mls.proposals_body(list(messages))
    assert body[0] == mls.APPEND
    return body[1:]


def test_varint_lengths_round_trip() -> None:
    for n in (0, 63, 64, 16383, 16384, 1 << 29):
        assert mls.Reader(mls.varint(n)).varint() == n
    assert mls.varint(63) == b"\x3f" and mls.varint(64) == b"\x40\x40"
    with pytest.raises(mls.MLSError):
        mls.Reader(b"\xc0\x00").varint()


def test_key_package_names_its_user() -> None:
    _, key_package = member(111, mls.ExternalSender())
    assert key_package[:4] == b"\x00\x01\x00\x02"  # MLS 1.0, ciphersuite 2: a bare KeyPackage
    assert mls.key_package_user(key_package) == 111
    with pytest.raises(mls.MLSError):
        mls.key_package_user(key_package + b"\x00")
    with pytest.raises(mls.MLSError):
        mls.key_package_user(key_package[:100])


def test_external_sender_package_layout() -> None:
    external = mls.ExternalSender()
    package = external.package()
    assert package[:3] == b"\x40\x41\x04"  # varint 65, then an uncompressed P-256 point
    assert package[67:] == b"\x00\x01" + b"\x04" + mls.ExternalSender.IDENTITY  # basic credential


def test_two_sessions_joined_by_our_proposals_share_frames() -> None:
    external = mls.ExternalSender()
    alice, _ = member(111, external)
    bob, bob_kp = member(222, external)
    result = alice.process_proposals(
        APPEND, propose(external, 0, external.propose_add(CHANNEL, 0, bob_kp))
    )
    assert result is not None and result.welcome is not None
    commit, welcome = mls.split_commit_welcome(result.commit + result.welcome)
    assert (commit.epoch, commit.sender_leaf, commit.proposals) == (0, 0, 1)
    assert commit.group_id == mls.user_bytes(CHANNEL)
    assert commit.message == result.commit and welcome == result.welcome
    assert welcome is not None
    alice.process_commit(commit.message)
    bob.process_welcome(welcome)
    assert alice.ready and bob.ready and alice.epoch == bob.epoch == 1

    frame = alice.encrypt_opus(b"\xfc" + bytes(range(60)))
    assert frame.endswith(b"\xfa\xfa") and frame[1:61] != bytes(range(60))
    assert bob.decrypt(111, AUDIO, frame) == b"\xfc" + bytes(range(60))
    back = bob.encrypt_opus(b"\xfc" + b"hello" * 10)
    assert alice.decrypt(222, AUDIO, back) == b"\xfc" + b"hello" * 10


def test_third_member_then_remove() -> None:
    external = mls.ExternalSender()
    a, _ = member(111, external)
    b, b_kp = member(222, external)
    c, c_kp = member(333, external)
    first = a.process_proposals(
        APPEND, propose(external, 0, external.propose_add(CHANNEL, 0, b_kp))
    )
    assert first is not None and first.welcome is not None
    a.process_commit(first.commit)
    b.process_welcome(first.welcome)

    proposals = propose(external, 1, external.propose_add(CHANNEL, 1, c_kp))
    by_a = a.process_proposals(APPEND, proposals)
    by_b = b.process_proposals(APPEND, proposals)
    assert by_a is not None and by_b is not None  # everyone commits; the server takes one
    winner, welcome = mls.split_commit_welcome(by_b.commit + (by_b.welcome or b""))
    assert (winner.epoch, winner.sender_leaf) == (1, 1)
    a.process_commit(winner.message)
    b.process_commit(winner.message)
    assert welcome is not None
    c.process_welcome(welcome)
    assert sorted(c.get_user_ids()) == ["111", "222", "333"]

    removal = propose(external, 2, external.propose_remove(CHANNEL, 2, 1))  # bob's leaf
    commit = a.process_proposals(APPEND, removal)
    c.process_proposals(APPEND, removal)
    assert commit is not None and commit.welcome is None
    parsed, none = mls.split_commit_welcome(commit.commit)
    assert none is None and parsed.epoch == 2
    a.process_commit(commit.commit)
    c.process_commit(commit.commit)
    assert sorted(a.get_user_ids()) == ["111", "333"]
    frame = a.encrypt_opus(b"\xfc" + b"x" * 40)
    assert c.decrypt(111, AUDIO, frame) == b"\xfc" + b"x" * 40


def test_a_proposal_signed_by_another_sender_is_refused() -> None:
    ours, impostor = mls.ExternalSender(), mls.ExternalSender()
    alice, _ = member(111, ours)
    _, bob_kp = member(222, ours)
    with pytest.raises(Exception, match=r"(?i)signature|verif|invalid|sender"):
        alice.process_proposals(
            APPEND, propose(impostor, 0, impostor.propose_add(CHANNEL, 0, bob_kp))
        )


def test_split_refuses_garbage_after_the_commit() -> None:
    external = mls.ExternalSender()
    alice, _ = member(111, external)
    _, bob_kp = member(222, external)
    result = alice.process_proposals(
        APPEND, propose(external, 0, external.propose_add(CHANNEL, 0, bob_kp))
    )
    assert result is not None
    with pytest.raises(mls.MLSError):
        mls.split_commit_welcome(result.commit + b"\x00\x07garbage")
    with pytest.raises(mls.MLSError):
        mls.parse_commit(result.commit[:-3])
