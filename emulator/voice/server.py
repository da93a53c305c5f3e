"""The voice side of the emulator: a TLS voice gateway (v8) plus UDP RTP receivers, per "voice node".

Each node is one fake voice server: a TLS websocket port and a UDP port on 127.0.0.1. Two nodes are
started so that `move_server` can send the bot somewhere else mid-play. Received audio is kept per
guild in a `VoiceReceiver`.

DAVE: SESSION_DESCRIPTION says `dave_protocol_version: 1` (`dave_protocol_version = 0` for plain
voice, as stage channels allow) and an IDENTIFY that does not offer it is closed with 4017. The
MLS traffic of each channel goes through its `DaveGroup`; the UDP thread decrypts DAVE frames
with a listener's davey session before recording them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import mls
from . import protocol as p
from .dave import DaveGroup
from .receiver import RtpPacket, SpeakingEvent, VoiceReceiver
from .tls import TestTLS

if TYPE_CHECKING:
    from ..server import DiscordEmulator

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
POKE_INTERVAL = 0.25  # s; wakes discord.py's socket-reader thread out of a stale 30 s select()
POKE = b"\x80\x00" + b"\x00" * 10


@dataclass
class VoiceSession:
    """One IDENTIFYed voice session (survives a RESUME onto a new websocket)."""

    guild_id: int
    user_id: int
    session_id: str
    token: str
    ssrc: int
    key: bytes
    node: int
    channel_id: int | None
    mode: str | None = None
    client_address: tuple[str, int] | None = None  # what SELECT_PROTOCOL said
    udp_peer: tuple[str, int] | None = None  # where IP discovery actually came from
    dave_protocol_version: int = 0
    connection: VoiceConnection | None = None


class VoiceConnection:
    """One voice websocket; JSON frames carry an increasing `seq` (which the client echoes as seq_ack)."""

    def __init__(self, server: VoiceServer, ws: web.WebSocketResponse, node: int) -> None:
        self.server = server
        self.ws = ws
        self.node = node
        self.seq = 0
        self.session: VoiceSession | None = None
        self.received: list[dict[str, Any]] = []
        self.seq_acks: list[int] = []
        self.close_code: int | None = None
        self._outbox: list[tuple[bool, int, Any]] = []
        self._writing = False

    async def send(self, op: int, data: Any) -> None:
        self.seq += 1
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(json.dumps({"op": op, "d": data, "seq": self.seq}))

    async def send_binary(self, op: int, body: bytes) -> None:
        """Server-to-client binary frame: `seq (u16 BE) | op (u8) | body`."""
        self.seq += 1
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_bytes(struct.pack(">HB", self.seq & 0xFFFF, op) + body)

    def post_json(self, op: int, data: Any) -> None:
        """Queues a frame from synchronous code; frames go out in the order they were posted."""
        self._outbox.append((False, op, data))
        self._write_soon()

    def post_binary(self, op: int, body: bytes) -> None:
        self._outbox.append((True, op, body))
        self._write_soon()

    def _write_soon(self) -> None:
        if not self._writing:
            self._writing = True
            self.server.spawn(self._write())

    async def _write(self) -> None:
        try:
            while self._outbox:
                binary, op, data = self._outbox.pop(0)
                await (self.send_binary(op, data) if binary else self.send(op, data))
        finally:
            self._writing = False

    def close(self, code: int, message: str = "") -> None:
        """Closes without waiting for the client's answer (discord.py uses autoclose=False)."""
        if self.close_code is None:
            self.close_code = code
        self.server.spawn(self.ws.close(code=code, message=message.encode()))


@dataclass
class _GuildVoice:
    guild_id: int
    receiver: VoiceReceiver
    token: str | None = None
    node: int = 0
    channel_id: int | None = None
    session: VoiceSession | None = None
    keys: list[bytes] = field(default_factory=list)


class _UdpNode:
    """A UDP socket read by its own thread, so arrival times are exact whatever the event loop does."""

    def __init__(self, server: VoiceServer, index: int) -> None:
        self.server = server
        self.index = index
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self.ws_port = 0
        self.peers: dict[tuple[str, int], float] = {}
        self.unknown_packets = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"voice-udp-{index}", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"{HOST}:{self.ws_port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(2)
        self.sock.close()

    def _run(self) -> None:
        next_poke = time.monotonic()
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(4096)
            except TimeoutError:
                pass
            except OSError:
                if self._stop.is_set():
                    return
            else:
                now = time.monotonic()
                self.peers[addr] = now
                try:
                    self._handle(data, addr, now)
                except Exception:  # a bad datagram must not kill the receiver
                    log.exception("voice UDP node %d: bad datagram from %s", self.index, addr)
            now = time.monotonic()
            if now >= next_poke and self.server.pokes:
                next_poke = now + POKE_INTERVAL
                for peer, seen in list(self.peers.items()):
                    if now - seen > 120:
                        self.peers.pop(peer, None)
                        continue
                    with contextlib.suppress(OSError):
                        self.sock.sendto(POKE, peer)

    def _handle(self, data: bytes, addr: tuple[str, int], now: float) -> None:
        if p.is_discovery_request(data):
            ssrc = int.from_bytes(data[4:8], "big")
            session = self.server._by_ssrc.get(ssrc)
            if self.server.lose_discovery_replies > 0:
                self.server.lose_discovery_replies -= 1
                if session is not None:
                    self.server.receiver(session.guild_id).record_event(
                        "ip_discovery_lost", node=self.index, ssrc=ssrc
                    )
                return
            self.sock.sendto(p.discovery_reply(data, addr), addr)
            if session is not None:
                session.udp_peer = addr
                self.server.receiver(session.guild_id).record_event(
                    "ip_discovery", node=self.index, ssrc=ssrc, address=addr
                )
            return
        parsed = p.parse_rtp(data)
        if parsed is None:
            self.unknown_packets += 1
            return
        seq, ts, ssrc, header_len = parsed
        session = self.server._by_ssrc.get(ssrc)
        if session is None:
            self.unknown_packets += 1
            return
        guild = self.server._guilds[session.guild_id]
        payload = p.decrypt_rtpsize(data, header_len, session.key)
        if payload is None:  # sent between a new READY and its SESSION_DESCRIPTION: older key
            for key in reversed(guild.keys):
                payload = p.decrypt_rtpsize(data, header_len, key)
                if payload is not None:
                    break
        if payload is None:
            guild.receiver.decrypt_failures += 1
            return
        e2ee = payload.endswith(p.DAVE_MAGIC) and session.channel_id is not None
        if e2ee:
            group = self.server._groups.get(session.channel_id or 0)
            plain = group.decrypt(session.user_id, payload) if group is not None else None
            if plain is None:  # no listener could decrypt it: nobody hears this frame
                guild.receiver.dave_failures += 1
                return
            payload = plain
        nonce = int.from_bytes(data[-4:], "big")
        guild.receiver.packets.append(
            RtpPacket(seq, ts, ssrc, nonce, now, payload, self.index, session.channel_id, e2ee)
        )


class VoiceServer:
    """The fake Discord voice infrastructure for one `DiscordEmulator` (see `enable_voice`)."""

    def __init__(
        self,
        emu: DiscordEmulator,
        cert_dir: Path,
        *,
        nodes: int = 2,
        heartbeat_interval: int = 13750,
    ) -> None:
        self.emu = emu
        self.tls = TestTLS(Path(cert_dir))
        self.heartbeat_interval = heartbeat_interval
        # -- knobs tests may turn --
        self.ack_heartbeats = True
        self.pokes = True  # the UDP poke that keeps discord.py's reconnects fast (reference §2.9)
        self.refuse_identify: int | None = None  # e.g. 4017: close every IDENTIFY with this code
        self.lose_discovery_replies = 0  # that many IP-discovery replies are "lost on the way"
        # that many IDENTIFYs are swallowed: the socket stays open and nothing answers (no READY)
        self.swallow_identifies = 0
        self.dave_protocol_version = 1  # DAVE on, as on Discord; 0: plain (stage channels)
        self.dave_required = True  # close 4017 when IDENTIFY does not offer DAVE
        self.modes = list(p.MODES)
        # --
        self.nodes = [_UdpNode(self, i) for i in range(nodes)]
        self.connections: set[VoiceConnection] = set()
        self._guilds: dict[int, _GuildVoice] = {}
        self._by_ssrc: dict[int, VoiceSession] = {}
        self.external = mls.ExternalSender()
        self._groups: dict[int, DaveGroup] = {}
        self._next_ssrc = 1000 + secrets.randbelow(1000)
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def ca_file(self) -> Path:
        return self.tls.ca_file

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        ctx = self.tls.server_context()
        for node in self.nodes:
            site = web.TCPSite(self._runner, HOST, 0, ssl_context=ctx)
            await site.start()
            server = site._server
            assert server is not None
            node.ws_port = getattr(server, "sockets", [])[0].getsockname()[1]
            node.start()

    async def stop(self) -> None:
        for conn in list(self.connections):
            conn.close(1001, "emulator stopping")
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for node in self.nodes:
            node.stop()

    def spawn(self, awaitable: Any) -> None:
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- queries ------------------------------------------------------------------------------
    def receiver(self, guild_id: int) -> VoiceReceiver:
        """The recording of everything the bot sent to `guild_id`'s voice (created on first use)."""
        return self._guild(guild_id).receiver

    def session(self, guild_id: int) -> VoiceSession | None:
        """The guild's current voice session (None before IDENTIFY or after the bot left)."""
        guild = self._guilds.get(guild_id)
        return guild.session if guild is not None else None

    def endpoint(self, guild_id: int) -> str:
        return self.nodes[self._guild(guild_id).node].endpoint

    def members(self, channel_id: int) -> list[int]:
        """User ids in a voice channel, the bot included once it has joined."""
        channel = self.emu.channel(channel_id)
        guild = self.emu.guild(channel.guild_id or 0)
        return [uid for uid, vs in guild.voice_states.items() if vs.channel_id == channel_id]

    def bot_channel(self, guild_id: int) -> int | None:
        state = self.emu.guild(guild_id).voice_states.get(self.emu.bot.id)
        return state.channel_id if state is not None else None

    def dave(self, channel_id: int) -> DaveGroup:
        """The DAVE group of a voice channel (created on first use)."""
        group = self._groups.get(channel_id)
        if group is None:
            channel = self.emu.channel(channel_id)
            receiver = self.receiver(channel.guild_id or 0)
            group = self._groups[channel_id] = DaveGroup(
                channel_id, self.external, self.emu.bot.id, receiver.record_event
            )
        return group

    def on_member_voice_state(self, guild_id: int, user_id: int, channel_id: int | None) -> None:
        """A human joined, moved or left voice: its simulated client joins or leaves DAVE groups."""
        for cid, group in self._groups.items():
            if cid != channel_id and user_id in group.members:
                group.remove(user_id)
        if channel_id is None or self.dave_protocol_version == 0:
            return
        group = self.dave(channel_id)
        if user_id not in group.members:
            group.add_listener(user_id)

    def _guild(self, guild_id: int) -> _GuildVoice:
        guild = self._guilds.get(guild_id)
        if guild is None:
            guild = self._guilds[guild_id] = _GuildVoice(guild_id, VoiceReceiver(guild_id))
        return guild

    # -- the main-gateway hook (called by DiscordEmulator.handle_bot_voice_state) --------------
    def on_bot_voice_request(self, guild_id: int, channel_id: int | None) -> None:
        """Op 4 from the bot; runs just *before* the emulator queues the VOICE_STATE_UPDATE echo.

        discord.py 2.7.1 needs two different orders: a re-request for the same channel (its 4015
        resume) only completes if VOICE_SERVER_UPDATE comes first, while a join or a channel move
        only updates `VoiceClient.channel` if VOICE_STATE_UPDATE comes first.
        """
        guild = self._guild(guild_id)
        previous = guild.channel_id
        guild.channel_id = channel_id
        if previous is not None and previous != channel_id and previous in self._groups:
            self._groups[previous].remove(self.emu.bot.id)
        if channel_id is None:
            return
        if guild.token is None or previous is None:
            guild.token = secrets.token_hex(8)
        if previous == channel_id:
            self._send_server_update(guild)
        else:
            asyncio.get_running_loop().call_soon(self._send_server_update, guild)
        if previous is not None and previous != channel_id and guild.session is not None:
            # Discord moves a member by ending its voice session with 4014; discord.py then
            # reconnects with the server update it has just been sent.
            conn = guild.session.connection
            guild.session.channel_id = channel_id
            if conn is not None:
                self._later(0.05, conn.close, p.CLOSE_DISCONNECTED, "moved")

    def _send_server_update(self, guild: _GuildVoice) -> None:
        endpoint = self.nodes[guild.node].endpoint
        guild.receiver.record_event(
            "voice_server_update", token=guild.token, endpoint=endpoint, node=guild.node
        )
        self.emu.send_voice_server_update(guild.guild_id, guild.token or "", endpoint)

    def _later(self, delay: float, fn: Any, *args: Any) -> None:
        asyncio.get_running_loop().call_later(delay, fn, *args)

    # -- faults -------------------------------------------------------------------------------
    async def close(self, guild_id: int, code: int, message: str = "") -> None:
        """Close the guild's voice websocket with `code` as Discord would.

        4006: discord.py backs off (0-2 s), leaves and re-joins. 4015: it RESUMEs (we answer
        RESUMED + SESSION_DESCRIPTION). 4014/4022: the bot was kicked, so the main gateway first
        sends VOICE_STATE_UPDATE with channel_id null. 4017: "DAVE required" (it retries forever).
        """
        guild = self._guild(guild_id)
        session = guild.session
        if session is None or session.connection is None:
            raise RuntimeError(f"no voice websocket open for guild {guild_id}")
        conn = session.connection
        guild.receiver.record_event("close", code=code, by="server", node=session.node)
        if code in p.KICK_CODES:
            guild.receiver.record_event("kicked", channel_id=guild.channel_id)
            guild.channel_id = None
            if session.channel_id in self._groups:
                self._groups[session.channel_id].remove(self.emu.bot.id)
            self.emu.set_voice_state(guild_id, self.emu.bot.id, None)
            await asyncio.sleep(0.02)  # let the gateway frame go out first
        conn.close(code, message)  # a no-op if the bot has already hung up

    async def move_server(self, guild_id: int) -> str:
        """Voice-server migration: a new VOICE_SERVER_UPDATE (new token, the next node) mid-session.
        Returns the new endpoint. discord.py closes its old websocket and re-IDENTIFYs there."""
        guild = self._guild(guild_id)
        if guild.channel_id is None:
            raise RuntimeError(f"the bot is not in a voice channel in guild {guild_id}")
        guild.node = (guild.node + 1) % len(self.nodes)
        guild.token = secrets.token_hex(8)
        self._send_server_update(guild)
        return self.nodes[guild.node].endpoint

    # -- the voice websocket ---------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        port = sockname[1] if sockname else 0
        node = next((n.index for n in self.nodes if n.ws_port == port), 0)
        ws = web.WebSocketResponse(timeout=2.0, max_msg_size=0)
        await ws.prepare(request)
        conn = VoiceConnection(self, ws, node)
        self.connections.add(conn)
        await conn.send(p.OP_HELLO, {"heartbeat_interval": self.heartbeat_interval})
        try:
            async for msg in ws:
                if msg.type == WSMsgType.BINARY:
                    self._on_binary(conn, bytes(msg.data))
                    continue
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    payload = json.loads(msg.data)
                    op = int(payload["op"])
                except (ValueError, KeyError, TypeError):
                    conn.close(p.CLOSE_DECODE_ERROR, "Failed to decode payload")
                    break
                conn.received.append(payload)
                await self._on_op(conn, op, payload.get("d") or {})
        finally:
            self.connections.discard(conn)
            session = conn.session
            if session is not None:
                code = conn.close_code if conn.close_code is not None else ws.close_code
                by = "server" if conn.close_code is not None else "client"
                if by == "client":
                    self.receiver(session.guild_id).record_event(
                        "close", code=code, by="client", node=node
                    )
                if session.connection is conn:
                    session.connection = None
                    if session.channel_id in self._groups:  # it re-keys when it comes back
                        self._groups[session.channel_id].mark_stale(session.user_id)
        return ws

    async def _on_op(self, conn: VoiceConnection, op: int, d: dict[str, Any]) -> None:
        if op == p.OP_HEARTBEAT:
            if isinstance(d, dict) and "seq_ack" in d:
                conn.seq_acks.append(int(d["seq_ack"]))
            if conn.session is not None:
                self.receiver(conn.session.guild_id).record_event("heartbeat", node=conn.node)
            if self.ack_heartbeats:
                await conn.send(p.OP_HEARTBEAT_ACK, {"t": d.get("t") if isinstance(d, dict) else d})
            return
        if op == p.OP_IDENTIFY:
            await self._identify(conn, d)
            return
        if op == p.OP_RESUME:
            await self._resume(conn, d)
            return
        session = conn.session
        if session is None:
            conn.close(p.CLOSE_NOT_AUTHENTICATED, "Not authenticated")
            return
        receiver = self.receiver(session.guild_id)
        if op == p.OP_SELECT_PROTOCOL:
            data = d.get("data") or {}
            mode = data.get("mode")
            receiver.record_event("select_protocol", mode=mode, node=conn.node, **_addr(data))
            if mode != p.SUPPORTED_MODE:
                conn.close(p.CLOSE_UNKNOWN_ENCRYPTION, "Unknown encryption mode")
                return
            session.mode = mode
            session.client_address = (str(data.get("address")), int(data.get("port") or 0))
            await self._session_description(conn, session)
        elif op == p.OP_DAVE_TRANSITION_READY and session.channel_id in self._groups:
            self._groups[session.channel_id].on_transition_ready(
                session.user_id, int(d.get("transition_id", 0))
            )
        elif op == p.OP_MLS_INVALID_COMMIT_WELCOME and session.channel_id in self._groups:
            self._groups[session.channel_id].on_invalid(
                session.user_id, int(d.get("transition_id", 0))
            )
        elif op == p.OP_SPEAKING:
            receiver.speaking.append(
                SpeakingEvent(time.monotonic(), int(d.get("speaking", 0)), d.get("ssrc"), conn.node)
            )
        else:
            receiver.record_event("unknown_op", op=op, node=conn.node)

    async def _identify(self, conn: VoiceConnection, d: dict[str, Any]) -> None:
        if conn.session is not None:
            conn.close(p.CLOSE_ALREADY_AUTHENTICATED, "Already authenticated")
            return
        try:
            guild_id = int(d["server_id"])
            user_id = int(d["user_id"])
        except (KeyError, TypeError, ValueError):
            conn.close(p.CLOSE_DECODE_ERROR, "Bad IDENTIFY")
            return
        guild = self._guilds.get(guild_id)
        if guild is None or guild.token is None or d.get("token") != guild.token:
            conn.close(p.CLOSE_AUTH_FAILED, "Authentication failed")
            return
        guild.receiver.record_event(
            "identify",
            node=conn.node,
            user_id=user_id,
            session_id=d.get("session_id"),
            max_dave_protocol_version=d.get("max_dave_protocol_version"),
        )
        offered = d.get("max_dave_protocol_version") or 0
        if self.dave_protocol_version > 0 and self.dave_required and offered < 1:
            guild.receiver.record_event(
                "close", code=p.CLOSE_DAVE_REQUIRED, by="server", node=conn.node
            )
            conn.close(p.CLOSE_DAVE_REQUIRED, "DAVE protocol required")
            return
        if self.refuse_identify is not None:
            guild.receiver.record_event(
                "close", code=self.refuse_identify, by="server", node=conn.node
            )
            conn.close(self.refuse_identify, "Refused by the test")
            return
        if self.swallow_identifies > 0:  # a reconnect Discord never answers
            self.swallow_identifies -= 1
            guild.receiver.record_event("identify_swallowed", node=conn.node)
            return
        ssrc = self._next_ssrc
        self._next_ssrc += 1
        session = VoiceSession(
            guild_id,
            user_id,
            str(d.get("session_id")),
            guild.token,
            ssrc,
            os.urandom(32),
            conn.node,
            guild.channel_id,
            connection=conn,
        )
        guild.keys = [*guild.keys[-3:], session.key]
        guild.session = session
        conn.session = session
        self._by_ssrc[ssrc] = session
        ready = {
            "ssrc": ssrc,
            "ip": HOST,
            "port": self.nodes[conn.node].port,
            "modes": list(self.modes),
            "heartbeat_interval": self.heartbeat_interval,
        }
        guild.receiver.record_event("ready", node=conn.node, ssrc=ssrc)
        await conn.send(p.OP_READY, ready)

    async def _resume(self, conn: VoiceConnection, d: dict[str, Any]) -> None:
        try:
            guild_id = int(d["server_id"])
        except (KeyError, TypeError, ValueError):
            conn.close(p.CLOSE_DECODE_ERROR, "Bad RESUME")
            return
        guild = self._guilds.get(guild_id)
        session = guild.session if guild is not None else None
        ok = (
            guild is not None
            and session is not None
            and d.get("token") == guild.token
            and str(d.get("session_id")) == session.session_id
            and session.mode is not None
        )
        receiver = self.receiver(guild_id)
        receiver.record_event("resume", node=conn.node, ok=ok, seq_ack=d.get("seq_ack"))
        if not ok or session is None:
            conn.close(p.CLOSE_SESSION_INVALID, "Session no longer valid")
            return
        old = session.connection
        if old is not None and old is not conn:
            old.close(4009, "Session superseded")
        session.connection = conn
        conn.session = session
        await conn.send(p.OP_RESUMED, None)
        # discord.py waits for a secret key on the new socket, so RESUMED alone would hang it.
        await self._session_description(conn, session)

    def _on_binary(self, conn: VoiceConnection, data: bytes) -> None:
        """Client-to-server binary frames: `op (u8) | body` (op 26 key package, op 28 commit)."""
        session = conn.session
        if session is None or not data:
            return
        op, body = data[0], data[1:]
        self.receiver(session.guild_id).record_event("binary", op=op, size=len(data))
        if session.channel_id is None or session.dave_protocol_version == 0:
            return
        group = self.dave(session.channel_id)
        if op == p.OP_MLS_KEY_PACKAGE:
            group.on_key_package(session.user_id, body)
        elif op == p.OP_MLS_COMMIT_WELCOME:
            group.on_commit_welcome(session.user_id, body)

    async def _session_description(self, conn: VoiceConnection, session: VoiceSession) -> None:
        session.dave_protocol_version = self.dave_protocol_version
        self.receiver(session.guild_id).record_event(
            "session_description", node=conn.node, ssrc=session.ssrc
        )
        await conn.send(
            p.OP_SESSION_DESCRIPTION,
            {
                "mode": session.mode,
                "secret_key": list(session.key),
                "dave_protocol_version": self.dave_protocol_version,
                "audio_codec": "opus",
                "video_codec": "H264",
                "media_session_id": secrets.token_hex(16),
            },
        )
        if self.dave_protocol_version > 0 and session.channel_id is not None:
            group = self.dave(session.channel_id)
            for uid in self.members(session.channel_id):  # humans already in the channel
                if uid != session.user_id and uid not in group.members:
                    group.add_listener(uid)
            group.add_bot(conn.post_json, conn.post_binary)


def _addr(data: dict[str, Any]) -> dict[str, Any]:
    return {"address": data.get("address"), "port": data.get("port")}
