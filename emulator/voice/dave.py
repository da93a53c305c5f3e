"""DAVE for one voice channel: the voice server as MLS delivery service and external sender.

Members are the bot (through its voice websocket) and simulated listeners (davey sessions). The
server keeps a model of the group's leaves, sends one batch of external proposals at a time (op 27)
to the members already in the group, takes the first commit for the current epoch (op 28), announces
it (op 29) and hands the Welcome to the newcomers (op 30), then runs the transition (op 23 from all,
op 22). When a single member would be left it does the sole-member reset (op 24 epoch 1, op 21 id 0).

The bot commits when it is in the group: a listener's commit is held back `listener_commit_delay`
seconds and used only if the bot has not committed by then (or the bot is the one being added).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import mls
from . import protocol as p
from .listener import Listener

log = logging.getLogger(__name__)

Send = Callable[[int, Any], object]  # (op, JSON dict or binary body)


@dataclass
class _Member:
    user_id: int
    send_json: Send
    send_binary: Send
    listener: Listener | None = None
    key_package: bytes | None = None
    stale: bool = False  # in the leaves, but its session was reset: not a member any more


@dataclass
class _Batch:
    epoch: int
    removes: list[int]  # leaf indexes
    adds: list[int]  # user ids
    recipients: list[int]  # the members asked to commit it
    held: bytes | None = None  # a listener's commit, kept in case the bot does not commit


@dataclass
class DaveEvent:
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


class DaveGroup:
    def __init__(
        self,
        channel_id: int,
        external: mls.ExternalSender,
        bot_id: int,
        record: Callable[..., None],
    ) -> None:
        self.channel_id = channel_id
        self.external = external
        self.bot_id = bot_id
        self.record = record  # the guild receiver's record_event
        self.members: dict[int, _Member] = {}
        self.leaves: list[int | None] = []  # user id per leaf, None for a blank leaf
        self.epoch: int | None = None  # None: no group beyond each member's own pending one
        self._batch: _Batch | None = None
        self._transitions: dict[int, set[int]] = {}
        self._next_transition = 1
        # -- faults --
        self.listener_commit_delay = 1.0
        self.corrupt_welcomes = 0  # that many Welcomes go out with a flipped byte

    # -- membership ---------------------------------------------------------------------------
    def add_bot(self, send_json: Send, send_binary: Send) -> None:
        """The bot's voice session got SESSION_DESCRIPTION with DAVE: it re-keys (op 26 follows)."""
        member = self.members.get(self.bot_id)
        if member is None:
            self.members[self.bot_id] = _Member(self.bot_id, send_json, send_binary)
        else:
            member.send_json, member.send_binary = send_json, send_binary
        send_binary(p.OP_MLS_EXTERNAL_SENDER, self.external.package())

    def add_listener(self, user_id: int) -> Listener:
        listener = Listener(self, user_id)
        loop = asyncio.get_running_loop()
        self.members[user_id] = _Member(
            user_id,
            lambda op, d: loop.call_soon(listener.on_json, op, d),
            lambda op, body: loop.call_soon(listener.on_binary, op, body),
            listener,
        )
        listener.start()
        return listener

    def remove(self, user_id: int) -> None:
        """A member left the channel (or the bot's voice session ended)."""
        member = self.members.pop(user_id, None)
        if member is None:
            return
        for waiting in self._transitions.values():
            waiting.discard(user_id)
        self.record("dave_leave", user_id=user_id)
        self._drop_orphan_batch()
        self._pump()
        self._check_transitions()

    def mark_stale(self, user_id: int) -> None:
        """The member's session will re-key (e.g. its websocket dropped): stop sending it MLS."""
        member = self.members.get(user_id)
        if member is not None:
            member.stale = True
        self._drop_orphan_batch()

    @property
    def listeners(self) -> list[Listener]:
        members = list(self.members.values())  # also read by the UDP thread
        return [m.listener for m in members if m.listener is not None]

    def decrypt(self, sender_id: int, frame: bytes) -> bytes | None:
        """Decrypts a frame with the first listener that is in the group (None if none can)."""
        for listener in self.listeners:
            if not listener.ready:
                continue
            try:
                return listener.decrypt(sender_id, frame)
            except Exception:
                return None
        return None

    # -- what members send --------------------------------------------------------------------
    def on_key_package(self, user_id: int, key_package: bytes) -> None:
        member = self.members.get(user_id)
        if member is None:
            return
        try:
            owner = mls.key_package_user(key_package)
        except mls.MLSError as exc:
            self.record("dave_bad_key_package", user_id=user_id, error=str(exc))
            return
        if owner != user_id:
            self.record("dave_bad_key_package", user_id=user_id, error=f"belongs to {owner}")
            return
        self.record("dave_key_package", user_id=user_id, size=len(key_package))
        member.key_package = key_package
        member.stale = user_id in self.leaves
        self._drop_orphan_batch()
        if self.epoch is None or not self._active_leaves():
            # The first member founds the group: its own pending group at epoch 0.
            self.epoch = 0
            self.leaves = [user_id]
            member.key_package = None
            member.stale = False
        self._pump()

    def on_commit_welcome(self, user_id: int, body: bytes) -> None:
        try:
            commit, welcome = mls.split_commit_welcome(body)
        except mls.MLSError as exc:
            self.record("dave_bad_commit", user_id=user_id, error=str(exc))
            return
        batch = self._batch
        if batch is None or commit.epoch != batch.epoch:
            self.record("dave_commit_dropped", user_id=user_id, epoch=commit.epoch)
            return
        member = self.members.get(user_id)
        if (
            member is not None
            and member.listener is not None
            and self._bot_in_group()
            and self.listener_commit_delay > 0
        ):
            if batch.held is None:
                batch.held = body
                asyncio.get_running_loop().call_later(
                    self.listener_commit_delay, self._use_held, batch, user_id
                )
            return
        self._accept(user_id, commit, welcome, batch)

    def _use_held(self, batch: _Batch, user_id: int) -> None:
        if self._batch is batch and batch.held is not None:
            commit, welcome = mls.split_commit_welcome(batch.held)
            self._accept(user_id, commit, welcome, batch)

    def on_transition_ready(self, user_id: int, transition_id: int) -> None:
        waiting = self._transitions.get(transition_id)
        if waiting is not None:
            waiting.discard(user_id)
        self._check_transitions()

    def on_invalid(self, user_id: int, transition_id: int) -> None:
        """Op 31: the member could not use a commit or Welcome; its next key package re-adds it."""
        self.record("dave_invalid", user_id=user_id, transition_id=transition_id)
        member = self.members.get(user_id)
        if member is not None:
            member.stale = True
        self._drop_orphan_batch()
        waiting = self._transitions.get(transition_id)
        if waiting is not None:
            waiting.discard(user_id)
        self._check_transitions()

    # -- transitions started by the server ----------------------------------------------------
    def downgrade(self) -> int:
        """Op 21 with protocol version 0 to everyone; op 22 once all have answered op 23."""
        tid = self._transition_id()
        targets = {u for u, m in self.members.items() if not m.stale}
        self._transitions[tid] = set(targets)
        for uid in targets:
            self.members[uid].send_json(
                p.OP_DAVE_PREPARE_TRANSITION, {"transition_id": tid, "protocol_version": 0}
            )
        self.record("dave_downgrade", transition_id=tid)
        return tid

    # -- the delivery service -------------------------------------------------------------------
    def _active_leaves(self) -> list[int]:
        return [
            u
            for u in self.leaves
            if u is not None and u in self.members and not self.members[u].stale
        ]

    def _bot_in_group(self) -> bool:
        return self.bot_id in self._active_leaves()

    def _pump(self) -> None:
        if self._batch is not None or self.epoch is None:
            return
        removes = [
            i
            for i, u in enumerate(self.leaves)
            if u is not None and (u not in self.members or self.members[u].stale)
        ]
        adds = [
            u
            for u, m in self.members.items()
            if m.key_package is not None and u not in self._active_leaves()
        ]
        remaining = self._active_leaves()
        if not removes and not adds:
            return
        if len(remaining) <= 1 and not adds:
            self._sole_member_reset(remaining)
            return
        if not remaining:  # nobody left to commit: the newcomers start over
            self.epoch = None
            self.leaves = []
            for uid in adds:
                self.on_key_package(uid, self.members[uid].key_package or b"")
            return
        messages = [self.external.propose_remove(self.channel_id, self.epoch, i) for i in removes]
        for uid in adds:
            key_package = self.members[uid].key_package
            assert key_package is not None
            messages.append(self.external.propose_add(self.channel_id, self.epoch, key_package))
        self._batch = _Batch(self.epoch, removes, adds, remaining)
        body = mls.proposals_body(messages)
        self.record("dave_proposals", epoch=self.epoch, removes=removes, adds=adds)
        for uid in remaining:
            self.members[uid].send_binary(p.OP_MLS_PROPOSALS, body)

    def _drop_orphan_batch(self) -> None:
        """Proposals whose every recipient left or re-keyed will never be committed: forget them."""
        batch = self._batch
        if batch is not None and not set(batch.recipients) & set(self._active_leaves()):
            self._batch = None
            self.record("dave_proposals_dropped", epoch=batch.epoch)

    def _accept(
        self, user_id: int, commit: mls.Commit, welcome: bytes | None, batch: _Batch
    ) -> None:
        self._batch = None
        existing = self._active_leaves()
        for i in batch.removes:
            self.leaves[i] = None
        for uid in batch.adds:  # RFC 9420 §12.1.1: the leftmost blank leaf, else a new one
            if None in self.leaves:
                self.leaves[self.leaves.index(None)] = uid
            else:
                self.leaves.append(uid)
        while self.leaves and self.leaves[-1] is None:
            self.leaves.pop()
        self.epoch = batch.epoch + 1
        tid = self._transition_id()
        self.record(
            "dave_commit", user_id=user_id, epoch=self.epoch, transition_id=tid, adds=batch.adds
        )
        targets: set[int] = set()
        announce = mls.transition_body(tid, commit.message)
        for uid in existing:
            self.members[uid].send_binary(p.OP_MLS_ANNOUNCE_COMMIT, announce)
            targets.add(uid)
        for uid in batch.adds:
            member = self.members.get(uid)
            if member is None or welcome is None:
                continue
            member.key_package = None
            member.stale = False
            sent = welcome
            if self.corrupt_welcomes > 0 and member.listener is None:
                self.corrupt_welcomes -= 1
                sent = welcome[:-40] + bytes(b ^ 0x5A for b in welcome[-40:])
                self.record("dave_corrupt_welcome", user_id=uid)
            member.send_binary(p.OP_MLS_WELCOME, mls.transition_body(tid, sent))
            targets.add(uid)
        self._transitions[tid] = targets
        self._pump()

    def _sole_member_reset(self, remaining: list[int]) -> None:
        self.epoch = None
        self.leaves = []
        self.record("dave_sole_member_reset", user_id=remaining[0] if remaining else None)
        for uid in remaining:
            member = self.members[uid]
            member.stale = True
            member.send_json(p.OP_DAVE_PREPARE_EPOCH, {"epoch": 1, "protocol_version": 1})
            member.send_json(
                p.OP_DAVE_PREPARE_TRANSITION, {"transition_id": 0, "protocol_version": 1}
            )

    def _check_transitions(self) -> None:
        for tid, waiting in list(self._transitions.items()):
            if not waiting:
                del self._transitions[tid]
                for member in self.members.values():
                    if not member.stale:
                        member.send_json(p.OP_DAVE_EXECUTE_TRANSITION, {"transition_id": tid})
                self.record("dave_execute", transition_id=tid)

    def _transition_id(self) -> int:
        tid = self._next_transition
        self._next_transition = tid % 0xFFFF + 1
        return tid
