"""DiscordEmulator: the aiohttp app (REST + gateway) around the in-memory state, plus test helpers."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from . import rest_commands, rest_core, rest_events, rest_interactions, rest_messages
from .command_permissions import CommandOverwrite
from .errors import ApiError, invalid_json, json_response, not_found_route, unauthorized
from .faults import FaultInjector
from .gateway import Gateway, GatewaySession
from .interactions import Interaction, InteractionsMixin
from .models import JSON
from .ratelimits import RateLimiter, too_many_requests
from .rest_common import EMULATOR_KEY, FILES_KEY, JSON_BODY_KEY
from .scheduled_events import ScheduledEvents
from .state import RecordedRequest, State

if TYPE_CHECKING:
    from .voice import VoiceServer  # emulator.voice hook

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
_UNAUTHENTICATED = (f"{API_PREFIX}/interactions/", f"{API_PREFIX}/webhooks/")


@dataclass
class VoiceJoin:
    """What the bot asked for with gateway op 4; handed to `voice_handler` (the voice-server seam)."""

    guild_id: int
    channel_id: int | None
    user_id: int
    session_id: str
    self_mute: bool
    self_deaf: bool


VoiceHandler = Callable[[VoiceJoin], Awaitable[None] | None]


class DiscordEmulator(InteractionsMixin, State):
    def __init__(
        self,
        token: str = "test-token",
        *,
        bot_name: str = "Narrator",
        heartbeat_interval: int = 41250,
        zlib_stream: bool = True,
        rate_limit: int = 50,
        rate_limit_window: float = 1.0,
        enforce_rate_limits: bool = False,
        recommended_shards: int = 1,
        max_concurrency: int = 1,
    ) -> None:
        State.__init__(self, token, bot_name)
        self.interactions: dict[int, Interaction] = {}
        # (guild id, command id or the application id for the whole app) -> a server admin's
        # command permissions (Server Settings > Integrations); see set_command_permissions
        self.command_overwrites: dict[tuple[int, int], list[CommandOverwrite]] = {}
        self.heartbeat_interval = heartbeat_interval
        self.zlib_stream = zlib_stream
        self.recommended_shards = recommended_shards
        # GET /gateway/bot's session_start_limit.max_concurrency: shards that may IDENTIFY
        # together (Discord grants 16 and more to large bots)
        self.max_concurrency = max_concurrency
        self.interaction_ack_timeout = 3.0
        self.interaction_token_ttl = 15 * 60.0
        self.faults = FaultInjector()
        self.limiter = RateLimiter(rate_limit, rate_limit_window, enforce=enforce_rate_limits)
        self.gateway = Gateway(self)
        self.guild_command_put_count = 0
        self.voice_requests: list[JSON] = []
        self.voice_handler: VoiceHandler | None = None
        self.voice: VoiceServer | None = None  # emulator.voice hook: set by enable_voice()
        self.scheduled = ScheduledEvents(self)  # scheduled events, stage instances
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0

    # -- lifecycle --------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        app[EMULATOR_KEY] = self
        app.router.add_get("/", self.gateway.handle)
        rest_core.register(app.router, API_PREFIX)
        rest_commands.register(app.router, API_PREFIX)
        rest_messages.register(app.router, API_PREFIX)
        rest_interactions.register(app.router, API_PREFIX)
        rest_events.register(app.router, API_PREFIX)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.host = host
        self.port = sockets[0].getsockname()[1] if sockets else port
        self.base_url = f"http://{host}:{self.port}"
        for webhook in self.webhooks.values():
            webhook.local_url = f"{self.base_url}{API_PREFIX}/webhooks/{webhook.id}/{webhook.token}"

    async def stop(self) -> None:
        if self.voice is not None:  # emulator.voice hook
            await self.voice.stop()
        await self.gateway.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordEmulator:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    # -- gateway ----------------------------------------------------------------------------
    def dispatch(self, event: str, data: JSON, guild_id: int | None = None) -> None:
        self.gateway.dispatch(event, data, guild_id)

    @property
    def gateway_sessions(self) -> list[GatewaySession]:
        return list(self.gateway.sessions.values())

    @property
    def identify_count(self) -> int:
        return self.gateway.identify_count

    @property
    def resume_count(self) -> int:
        return self.gateway.resume_count

    def live_shards(self) -> list[int]:
        """The shard ids with a connected gateway session, in order (several processes each
        connect their own; an unsharded session counts as shard 0)."""
        return sorted(s.shard[0] if s.shard else 0 for s in self.gateway.live_sessions())

    async def wait_until_ready(self, timeout: float = 30) -> None:
        await asyncio.wait_for(self.gateway.ready.wait(), timeout)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10) -> None:
        async def _poll() -> None:
            # Predicates read arbitrary state, so there is no single event to wait on.
            while not predicate():  # noqa: ASYNC110
                await asyncio.sleep(0.01)

        await asyncio.wait_for(_poll(), timeout)

    async def close_gateway(self, code: int = 4000, message: str = "") -> None:
        await self.gateway.close(code, message)

    async def invalidate_session(self, resumable: bool = False) -> None:
        await self.gateway.invalidate_session(resumable)

    async def send_reconnect(self) -> None:
        await self.gateway.send_reconnect()

    # -- voice seam -------------------------------------------------------------------------
    # emulator.voice hook: enable_voice / voice_ca_file, and the on_bot_voice_request call below.
    async def enable_voice(self, cert_dir: Path, **options: Any) -> VoiceServer:
        """Starts the TLS voice gateway + UDP (emulator.voice); `cert_dir` receives the CA PEM."""
        from .voice import VoiceServer

        if self.voice is None:
            self.voice = VoiceServer(self, cert_dir, **options)
            await self.voice.start()
        return self.voice

    @property
    def voice_ca_file(self) -> Path | None:
        """The CA a bot process must trust (`SSL_CERT_FILE`) to reach the voice gateway."""
        return self.voice.ca_file if self.voice is not None else None

    def handle_bot_voice_state(self, session: GatewaySession, data: JSON) -> None:
        self.voice_requests.append(data)
        guild_id = int(data["guild_id"])
        channel_id = int(data["channel_id"]) if data.get("channel_id") else None
        if self.voice is not None:  # emulator.voice hook: VOICE_SERVER_UPDATE before the state echo
            self.voice.on_bot_voice_request(guild_id, channel_id)
        state = self.set_voice_state(
            guild_id, self.bot.id, channel_id, session_id=session.session_id
        )
        state.self_mute = bool(data.get("self_mute"))
        state.self_deaf = bool(data.get("self_deaf"))
        self.emit(
            "voice_state", {"guild_id": guild_id, "channel_id": channel_id, "user_id": self.bot.id}
        )
        if self.voice_handler is not None:
            join = VoiceJoin(
                guild_id,
                channel_id,
                self.bot.id,
                session.session_id,
                state.self_mute,
                state.self_deaf,
            )
            result = self.voice_handler(join)
            if inspect.isawaitable(result):
                self.spawn(result)

    def send_voice_server_update(self, guild_id: int, token: str, endpoint: str | None) -> None:
        """For the voice-server module: tells the bot where to open its voice websocket."""
        data = {"guild_id": str(guild_id), "token": token, "endpoint": endpoint}
        self.dispatch("VOICE_SERVER_UPDATE", data, guild_id)

    # -- assertions that read like what a user sees -----------------------------------------
    @property
    def commands(self) -> list[JSON]:
        return list(self.global_commands.values())

    def requests_to(self, method: str, route: str) -> list[RecordedRequest]:
        from .faults import normalise

        wanted = normalise(route)
        return [
            r
            for r in self.requests
            if r.method == method.upper()
            and normalise(r.route if "{" in route else r.path) == wanted
        ]

    # -- the HTTP pipeline ---------------------------------------------------------------------
    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else request.path
        template = template.removeprefix(API_PREFIX)
        path = request.path.removeprefix(API_PREFIX)
        record = RecordedRequest(
            request.method, path, None, query=dict(request.query), route=template
        )
        self.requests.append(record)
        response: web.StreamResponse
        try:
            await self._read_body(request, record)
            authorized = request.headers.get("Authorization") == f"Bot {self.token}"
            if not authorized and not request.path.startswith(_UNAUTHENTICATED):
                raise unauthorized()
            if request.match_info.http_exception is not None:
                exc = request.match_info.http_exception
                if exc.status == 405:
                    raise ApiError(405, 0, "405: Method Not Allowed")
                raise not_found_route()
            response = await self._handle(request, handler, template, path)
        except ApiError as exc:
            response = exc.response()
        record.status = response.status
        if response.status >= 400:
            log.debug("%s %s -> %s", request.method, path, response.status)
        return response

    async def _handle(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        template: str,
        path: str,
    ) -> web.StreamResponse:
        bucket = RateLimiter.bucket_hash(request.method, template)
        fault = self.faults.take(("rate_limit", "server_error"), request.method, template, path)
        if fault is not None:
            self.emit("fault", {"kind": fault.kind, "method": request.method, "path": path})
            if fault.kind == "rate_limit":
                return too_many_requests(fault.retry_after, global_=fault.global_, bucket=bucket)
            if fault.html is not None:
                return web.Response(text=fault.html, status=fault.status, content_type="text/html")
            body = fault.body if fault.body is not None else {"message": "Internal Server Error"}
            return json_response(
                {"code": 0, **body} if isinstance(body, dict) else body, fault.status
            )
        headers, exceeded = self.limiter.headers(request, template)
        if exceeded and self.limiter.enforce:
            return too_many_requests(self.limiter.window, global_=False, bucket=bucket)
        response = await handler(request)
        after = self.faults.take(("after_commit",), request.method, template, path)
        if after is not None:
            self.emit("fault", {"kind": after.kind, "method": request.method, "path": path})
            if after.drop_connection and request.transport is not None:
                request.transport.abort()
            if after.body is not None:
                return json_response(after.body, after.status)
            return json_response({"message": "Internal Server Error", "code": 0}, after.status)
        response.headers.update(headers)
        return response

    async def _read_body(self, request: web.Request, record: RecordedRequest) -> None:
        if not request.can_read_body:
            return
        if request.content_type == "multipart/form-data":
            files: list[tuple[int, str, bytes, str]] = []
            reader = await request.multipart()
            index = 0
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                raw = await part.read()
                if part.name == "payload_json":
                    request[JSON_BODY_KEY] = self._parse_json(raw)
                elif part.name and part.name.startswith("files["):
                    try:
                        index = int(part.name[6:-1])
                    except ValueError:
                        index += 1
                    content_type = part.headers.get("Content-Type", "application/octet-stream")
                    files.append((index, part.filename or f"file{index}", bytes(raw), content_type))
            request[FILES_KEY] = files
        else:
            raw = await request.read()
            if raw:
                request[JSON_BODY_KEY] = self._parse_json(raw)
        record.json = request.get(JSON_BODY_KEY)

    @staticmethod
    def _parse_json(raw: bytes | bytearray) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            raise invalid_json() from None
