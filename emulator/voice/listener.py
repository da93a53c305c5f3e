"""A simulated human in a voice channel: a davey session that joins the channel's DAVE group.

It answers the voice server as discord.py does (op 26 key package, op 28 commit + Welcome, op 23
transition ready, op 31 on a bad commit or Welcome) and decrypts what the bot sends. davey objects
are not thread-safe and the UDP receiver is a thread, so every use of the session holds `lock`.
"""

from __future__ import annotations

import struct
import threading
from typing import TYPE_CHECKING, Any

import davey

from . import protocol as p

if TYPE_CHECKING:
    from .dave import DaveGroup

AUDIO = davey.MediaType.audio


class Listener:
    def __init__(self, group: DaveGroup, user_id: int) -> None:
        self.group = group
        self.user_id = user_id
        self.lock = threading.Lock()
        self.session = davey.DaveSession(1, user_id, group.channel_id)
        self.invalid = 0  # commits / Welcomes it could not process (each answered with op 31)

    @property
    def ready(self) -> bool:
        with self.lock:
            return self.session.ready

    @property
    def epoch(self) -> int | None:
        with self.lock:
            return self.session.epoch

    def start(self) -> None:
        """Like discord.py after SESSION_DESCRIPTION: a key package, then the external sender."""
        self._send_key_package(set_sender=True)

    def decrypt(self, sender_id: int, frame: bytes) -> bytes:
        with self.lock:
            return self.session.decrypt(sender_id, AUDIO, frame)

    # -- what the voice server sends (called through the event loop, in order) ---------------
    def on_json(self, op: int, d: dict[str, Any]) -> None:
        if op == p.OP_DAVE_PREPARE_TRANSITION:
            tid = int(d["transition_id"])
            if tid != 0:
                if int(d.get("protocol_version", 1)) == 0:
                    with self.lock:
                        self.session.set_passthrough_mode(True, 120)
                self.group.on_transition_ready(self.user_id, tid)
        elif op == p.OP_DAVE_PREPARE_EPOCH and int(d["epoch"]) == 1:
            with self.lock:
                self.session.reinit(1, self.user_id, self.group.channel_id)
            self._send_key_package(set_sender=False)

    def on_binary(self, op: int, body: bytes) -> None:
        if op == p.OP_MLS_EXTERNAL_SENDER:
            with self.lock:
                self.session.set_external_sender(body)
        elif op == p.OP_MLS_PROPOSALS:
            kind = (
                davey.ProposalsOperationType.append
                if body[0] == 0
                else davey.ProposalsOperationType.revoke
            )
            with self.lock:
                result = self.session.process_proposals(kind, body[1:])
            if result is not None:
                self.group.on_commit_welcome(self.user_id, result.commit + (result.welcome or b""))
        elif op in (p.OP_MLS_ANNOUNCE_COMMIT, p.OP_MLS_WELCOME):
            tid = struct.unpack_from(">H", body)[0]
            try:
                with self.lock:
                    if op == p.OP_MLS_ANNOUNCE_COMMIT:
                        self.session.process_commit(body[2:])
                    else:
                        self.session.process_welcome(body[2:])
            except Exception:
                self.invalid += 1
                self.group.on_invalid(self.user_id, tid)
                with self.lock:
                    self.session.reinit(1, self.user_id, self.group.channel_id)
                self._send_key_package(set_sender=False)
                return
            if tid != 0:
                self.group.on_transition_ready(self.user_id, tid)

    def _send_key_package(self, *, set_sender: bool) -> None:
        with self.lock:
            key_package = self.session.get_serialized_key_package()
            if set_sender:
                self.session.set_external_sender(self.group.external.package())
        self.group.on_key_package(self.user_id, key_package)
