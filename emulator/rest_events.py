"""Guild scheduled events, stage instances and stage voice states (speaker, request to speak)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from .errors import ApiError, FormErrors, missing_permissions
from .models import ChannelType
from .permissions import ALL_PERMISSIONS, Permissions
from .rest_common import body_dict, emulator, no_content, ok, snowflake


def _with_user_count(request: web.Request) -> bool:
    return request.query.get("with_user_count", "false").lower() in ("true", "1")


async def list_events(request: web.Request) -> web.Response:
    emu = emulator(request)
    guild_id = snowflake(request, "guild_id")
    emu.guild(guild_id)
    count = _with_user_count(request)
    events = emu.scheduled.in_guild(guild_id)
    return ok([emu.scheduled.payload(e, with_user_count=count) for e in events])


async def create_event(request: web.Request) -> web.Response:
    emu = emulator(request)
    event = emu.scheduled.create(snowflake(request, "guild_id"), body_dict(request))
    return ok(emu.scheduled.payload(event))


async def get_event(request: web.Request) -> web.Response:
    emu = emulator(request)
    event = emu.scheduled.event(snowflake(request, "guild_id"), snowflake(request, "event_id"))
    return ok(emu.scheduled.payload(event, with_user_count=_with_user_count(request)))


async def modify_event(request: web.Request) -> web.Response:
    emu = emulator(request)
    event = emu.scheduled.modify(
        snowflake(request, "guild_id"), snowflake(request, "event_id"), body_dict(request)
    )
    return ok(emu.scheduled.payload(event))


async def delete_event(request: web.Request) -> web.Response:
    emu = emulator(request)
    emu.scheduled.delete(snowflake(request, "guild_id"), snowflake(request, "event_id"))
    return no_content()


async def event_users(request: web.Request) -> web.Response:
    emu = emulator(request)
    users = emu.scheduled.users(
        snowflake(request, "guild_id"), snowflake(request, "event_id"), dict(request.query)
    )
    return ok(users)


async def create_stage(request: web.Request) -> web.Response:
    emu = emulator(request)
    return ok(emu.scheduled.open_stage(body_dict(request)).to_dict())


async def get_stage(request: web.Request) -> web.Response:
    emu = emulator(request)
    return ok(emu.scheduled.stage(snowflake(request, "channel_id")).to_dict())


async def edit_stage(request: web.Request) -> web.Response:
    emu = emulator(request)
    emu.scheduled.edit_stage(snowflake(request, "channel_id"), body_dict(request))
    return no_content()


async def delete_stage(request: web.Request) -> web.Response:
    emu = emulator(request)
    emu.scheduled.close_stage(snowflake(request, "channel_id"))
    return no_content()


def _has(perms: int, bit: int) -> bool:
    return perms == ALL_PERMISSIONS or bool(perms & bit)


def _unknown_voice_state() -> ApiError:
    return ApiError(404, 10065, "Unknown Voice State")


async def edit_my_voice_state(request: web.Request) -> web.Response:
    """A member in a stage: `suppress: false` makes it a speaker (MUTE_MEMBERS), a
    `request_to_speak_timestamp` raises its hand (REQUEST_TO_SPEAK)."""
    return _edit_stage_voice(request, emulator(request).bot.id, own=True)


async def edit_voice_state(request: web.Request) -> web.Response:
    """A moderator moves someone between audience and speakers (`suppress`, MUTE_MEMBERS)."""
    return _edit_stage_voice(request, snowflake(request, "user_id"), own=False)


def _edit_stage_voice(request: web.Request, user_id: int, *, own: bool) -> web.Response:
    emu = emulator(request)
    guild = emu.guild(snowflake(request, "guild_id"))
    payload = body_dict(request)
    state = guild.voice_states.get(user_id)
    if state is None or state.channel_id is None:
        raise _unknown_voice_state()
    if payload.get("channel_id") is not None and int(payload["channel_id"]) != state.channel_id:
        errors = FormErrors()
        errors.add(["channel_id"], "VOICE_STATE_CHANNEL_MISMATCH", "Not in that channel.")
        errors.raise_if_any()
    channel = emu.channel(state.channel_id)
    if channel.type != ChannelType.STAGE:
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    perms = emu.bot_permissions(channel.id)
    if "suppress" in payload:
        if payload["suppress"] is False and not _has(perms, Permissions.MUTE_MEMBERS):
            raise missing_permissions()
        state.suppress = bool(payload["suppress"])
        if not state.suppress:
            state.request_to_speak_timestamp = None
    if own and "request_to_speak_timestamp" in payload:
        raised = payload["request_to_speak_timestamp"]
        if raised is not None and not _has(perms, Permissions.REQUEST_TO_SPEAK):
            raise missing_permissions()
        state.request_to_speak_timestamp = (
            None if raised is None else str(raised) or datetime.now(UTC).isoformat()
        )
    emu.dispatch("VOICE_STATE_UPDATE", state.to_dict(guild.members.get(user_id)), guild.id)
    emu.emit(
        "stage_voice_state", {"guild_id": guild.id, "user_id": user_id, "suppress": state.suppress}
    )
    return no_content()


def register(router: web.UrlDispatcher, prefix: str) -> None:
    events = f"{prefix}/guilds/{{guild_id}}/scheduled-events"
    router.add_get(events, list_events)
    router.add_post(events, create_event)
    router.add_get(f"{events}/{{event_id}}", get_event)
    router.add_patch(f"{events}/{{event_id}}", modify_event)
    router.add_delete(f"{events}/{{event_id}}", delete_event)
    router.add_get(f"{events}/{{event_id}}/users", event_users)
    router.add_post(f"{prefix}/stage-instances", create_stage)
    router.add_get(f"{prefix}/stage-instances/{{channel_id}}", get_stage)
    router.add_patch(f"{prefix}/stage-instances/{{channel_id}}", edit_stage)
    router.add_delete(f"{prefix}/stage-instances/{{channel_id}}", delete_stage)
    router.add_patch(f"{prefix}/guilds/{{guild_id}}/voice-states/@me", edit_my_voice_state)
    router.add_patch(f"{prefix}/guilds/{{guild_id}}/voice-states/{{user_id}}", edit_voice_state)
