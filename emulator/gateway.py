"""The gateway websocket: HELLO/IDENTIFY/READY, heartbeats, RESUME with replay, op 7/9, close codes."""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import secrets
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .models import JSON

if TYPE_CHECKING:
    from .server import DiscordEmulator

log = logging.getLogger(__name__)

OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_VOICE_STATE = 0, 1, 2, 3, 4
OP_RESUME, OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION = 6, 7, 8, 9
OP_HELLO, OP_HEARTBEAT_ACK = 10, 11

# Discord's HEARTBEAT_ACK arrives a network round trip after the heartbeat. An ACK sent in the same
# instant trips a race in discord.py: its heartbeat thread records the send time only after the
# send completes, so an ACK handled first is measured against the previous beat and reported as
# "Can't keep up, websocket is 41 s behind". A round trip this long lets the thread record first.
HEARTBEAT_ACK_DELAY = 0.04

# Codes after which Discord forgets the session: a RESUME is then answered with op 9 false.
SESSION_ENDING_CODES = {4004, 4007, 4009, 4010, 4011, 4012, 4013, 4014}

INTENT_GUILDS = 1 << 0
INTENT_MEMBERS = 1 << 1
INTENT_VOICE_STATES = 1 << 7
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DM_MESSAGES = 1 << 12
INTENT_GUILD_SCHEDULED_EVENTS = 1 << 16

_EVENT_INTENTS = {
    "GUILD_CREATE": INTENT_GUILDS,
    "GUILD_UPDATE": INTENT_GUILDS,
    "GUILD_DELETE": INTENT_GUILDS,
    "GUILD_ROLE_CREATE": INTENT_GUILDS,
    "GUILD_ROLE_UPDATE": INTENT_GUILDS,
    "CHANNEL_CREATE": INTENT_GUILDS,
    "CHANNEL_UPDATE": INTENT_GUILDS,
    "CHANNEL_DELETE": INTENT_GUILDS,
    "THREAD_CREATE": INTENT_GUILDS,
    "THREAD_UPDATE": INTENT_GUILDS,
    "GUILD_MEMBER_ADD": INTENT_MEMBERS,
    "GUILD_MEMBER_UPDATE": INTENT_MEMBERS,
    "GUILD_MEMBER_REMOVE": INTENT_MEMBERS,
    "VOICE_STATE_UPDATE": INTENT_VOICE_STATES,
    "STAGE_INSTANCE_CREATE": INTENT_GUILDS,
    "STAGE_INSTANCE_UPDATE": INTENT_GUILDS,
    "STAGE_INSTANCE_DELETE": INTENT_GUILDS,
    "GUILD_SCHEDULED_EVENT_CREATE": INTENT_GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_UPDATE": INTENT_GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_DELETE": INTENT_GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_USER_ADD": INTENT_GUILD_SCHEDULED_EVENTS,
    "GUILD_SCHEDULED_EVENT_USER_REMOVE": INTENT_GUILD_SCHEDULED_EVENTS,
}
_MESSAGE_EVENTS = {"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"}


class Connection:
    """One websocket. Frames go through a queue so dispatch order is kept and closes come last."""

    def __init__(self, ws: web.WebSocketResponse, *, zlib_stream: bool) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.compressor = zlib.compressobj() if zlib_stream else None
        self.writer = asyncio.create_task(self._write())
        self.received: list[JSON] = []

    def send(self, payload: JSON) -> None:
        self.queue.put_nowait(("frame", payload))

    def close(self, code: int, message: str = "") -> None:
        self.queue.put_nowait(("close", (code, message)))

    async def _write(self) -> None:
        while True:
            kind, item = await self.queue.get()
            try:
                if kind == "close":
                    code, message = item
                    await self.ws.close(code=code, message=message.encode())
                    return
                raw = json.dumps(item)
                if self.compressor is not None:
                    data = self.compressor.compress(raw.encode())
                    data += self.compressor.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(raw)
            except (ConnectionError, RuntimeError):
                return


@dataclass
class GatewaySession:
    session_id: str
    intents: int
    shard: tuple[int, int] | None
    seq: int = 0
    backlog: collections.deque[JSON] = field(default_factory=lambda: collections.deque(maxlen=2000))
    connection: Connection | None = None
    resumable: bool = True
    identify: JSON = field(default_factory=dict)
    presence: JSON | None = None

    def sees_guild(self, guild_id: int | None) -> bool:
        if self.shard is None:
            return True
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0  # DMs arrive on shard 0
        return (guild_id >> 22) % count == shard_id

    def wants(self, event: str, guild_id: int | None) -> bool:
        if event in _MESSAGE_EVENTS:
            bit = INTENT_GUILD_MESSAGES if guild_id else INTENT_DM_MESSAGES
            return bool(self.intents & bit)
        bit = _EVENT_INTENTS.get(event)
        return bit is None or bool(self.intents & bit)


class Gateway:
    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: set[Connection] = set()
        self.identify_count = 0
        self.resume_count = 0
        self.heartbeat_count = 0
        self.accepted = 0  # websocket connections accepted, silent ones included
        self.acks_sent = 0
        self.ack_delay = HEARTBEAT_ACK_DELAY
        self.ready = asyncio.Event()
        self.changed = asyncio.Condition()

    # -- outbound --------------------------------------------------------------------------
    def dispatch(self, event: str, data: JSON, guild_id: int | None = None) -> None:
        for session in list(self.sessions.values()):
            if session.sees_guild(guild_id) and session.wants(event, guild_id):
                self._dispatch_to(session, event, data)

    def _dispatch_to(self, session: GatewaySession, event: str, data: JSON) -> None:
        session.seq += 1
        payload = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
        session.backlog.append(payload)
        if session.connection is not None:
            session.connection.send(payload)

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    # -- server-initiated actions ---------------------------------------------------------
    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if s.connection is not None]

    async def close(self, code: int = 4000, message: str = "") -> None:
        for session in self.live_sessions():
            if code in SESSION_ENDING_CODES:
                session.resumable = False
            conn = session.connection
            session.connection = None
            assert conn is not None
            conn.close(code, message)
            self.emu.emit("gateway_close", {"session_id": session.session_id, "code": code})

    async def invalidate_session(self, resumable: bool = False) -> None:
        for session in self.live_sessions():
            if not resumable:
                session.resumable = False
            assert session.connection is not None
            session.connection.send({"op": OP_INVALID_SESSION, "d": resumable})
            self.emu.emit(
                "gateway_invalid_session",
                {"session_id": session.session_id, "resumable": resumable},
            )

    async def send_reconnect(self) -> None:
        for session in self.live_sessions():
            assert session.connection is not None
            session.connection.send({"op": OP_RECONNECT, "d": None})
            self.emu.emit("gateway_reconnect", {"session_id": session.session_id})

    async def shutdown(self) -> None:
        for conn in list(self.connections):
            conn.close(1001, "emulator stopping")
        for conn in list(self.connections):
            try:
                await asyncio.wait_for(conn.writer, 2)
            except (TimeoutError, asyncio.CancelledError):
                conn.writer.cancel()

    # -- the websocket handler ----------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        self.accepted += 1
        if self.emu.faults.silent_gateway:
            async for _msg in ws:  # accepted, then never a word back: no HELLO, no answer
                pass
            return ws
        wants_zlib = request.query.get("compress") == "zlib-stream"
        conn = Connection(ws, zlib_stream=wants_zlib and self.emu.zlib_stream)
        self.connections.add(conn)
        conn.send({"op": OP_HELLO, "d": {"heartbeat_interval": self.emu.heartbeat_interval}})
        session: GatewaySession | None = None
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                try:
                    payload = json.loads(msg.data)
                    op = payload["op"]
                except (ValueError, KeyError, TypeError):
                    conn.close(4002, "Error while decoding payload.")
                    break
                conn.received.append(payload)
                session = await self._handle_op(conn, session, op, payload.get("d"))
        finally:
            self.connections.discard(conn)
            if session is not None and session.connection is conn:
                session.connection = None
            if not conn.writer.done():
                conn.close(1000)
        return ws

    async def _handle_op(
        self, conn: Connection, session: GatewaySession | None, op: int, data: Any
    ) -> GatewaySession | None:
        if op == OP_HEARTBEAT:
            self.heartbeat_count += 1
            # As Discord sends it: after a round trip (HEARTBEAT_ACK_DELAY), every field present.
            asyncio.get_running_loop().call_later(self.ack_delay, self._ack, conn)
            return session
        if op == OP_IDENTIFY:
            if session is not None:
                conn.close(4005, "Already authenticated.")
                return session
            return await self._identify(conn, data)
        if op == OP_RESUME:
            return await self._resume(conn, data)
        if session is None:
            conn.close(4003, "Not authenticated.")
            return None
        if op == OP_VOICE_STATE:
            self.emu.handle_bot_voice_state(session, data)
        elif op == OP_PRESENCE:
            session.presence = data
            self.emu.emit("presence_update", data)
        elif op == OP_REQUEST_MEMBERS:
            self._send_member_chunks(session, data)
        else:
            conn.close(4001, "Unknown opcode.")
        return session

    def _ack(self, conn: Connection) -> None:
        # Queued on the connection like any frame: what is dispatched later arrives after it.
        conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        self.acks_sent += 1

    async def _identify(self, conn: Connection, data: JSON) -> GatewaySession | None:
        if not isinstance(data, dict) or data.get("token") != self.emu.token:
            conn.close(4004, "Authentication failed.")
            self.emu.emit("gateway_auth_failed", {})
            return None
        shard = data.get("shard")
        shard_tuple = (int(shard[0]), int(shard[1])) if shard else None
        if shard_tuple and not 0 <= shard_tuple[0] < shard_tuple[1]:
            conn.close(4010, "Invalid shard.")
            return None
        session = GatewaySession(secrets.token_hex(16), int(data.get("intents", 0)), shard_tuple)
        session.identify = data
        session.presence = data.get("presence")
        self.sessions[session.session_id] = session
        self.identify_count += 1
        emu = self.emu
        visible = [
            g
            for g, guild in emu.guilds.items()
            if session.sees_guild(g) and emu.bot.id in guild.members
        ]
        ready: JSON = {
            "v": 10,
            "user": {**emu.bot.to_dict(), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(g), "unavailable": True} for g in visible],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": emu.gateway_url.rstrip("/"),
            "application": {"id": str(emu.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["rotterdam"],
            "user_settings": {},
            "auth": {},
        }
        if shard_tuple:
            ready["shard"] = list(shard_tuple)
        session.connection = conn
        self._dispatch_to(session, "READY", ready)
        for guild_id in visible:
            self._dispatch_to(session, "GUILD_CREATE", emu.guild_create_payload(guild_id))
        emu.emit(
            "gateway_connect",
            {"session_id": session.session_id, "shard": shard_tuple, "guilds": len(visible)},
        )
        self.ready.set()
        await self._notify()
        return session

    async def _resume(self, conn: Connection, data: JSON) -> GatewaySession | None:
        session = self.sessions.get(str((data or {}).get("session_id")))
        if (data or {}).get("token") != self.emu.token:
            conn.close(4004, "Authentication failed.")
            return None
        if session is None or not session.resumable:
            conn.send({"op": OP_INVALID_SESSION, "d": False})
            if session is not None:
                self.sessions.pop(session.session_id, None)
            return None
        old = session.connection
        if old is not None and old is not conn:
            old.close(4009, "Session superseded.")
        since = int(data.get("seq") or 0)
        for payload in session.backlog:
            if payload["s"] > since:
                conn.send(payload)
        session.connection = conn
        self.resume_count += 1
        self._dispatch_to(session, "RESUMED", {})
        self.emu.emit(
            "gateway_resume",
            {"session_id": session.session_id, "replayed": session.seq - 1 - since},
        )
        await self._notify()
        return session

    def _send_member_chunks(self, session: GatewaySession, data: JSON) -> None:
        guild_id = int(data["guild_id"])
        guild = self.emu.guilds.get(guild_id)
        if guild is None:
            return
        wanted = {int(u) for u in data.get("user_ids") or []}
        query = str(data.get("query") or "").lower()
        members = [
            m.to_dict()
            for m in guild.members.values()
            if (not wanted or m.user.id in wanted) and m.user.username.lower().startswith(query)
        ]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: JSON = {
            "guild_id": str(guild_id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        self._dispatch_to(session, "GUILD_MEMBERS_CHUNK", chunk)
