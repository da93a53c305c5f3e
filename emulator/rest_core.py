"""Login, gateway discovery, and the read/write routes for users, guilds, channels, members and DMs."""

from __future__ import annotations

import time
from datetime import datetime

from aiohttp import web

from .errors import ApiError, missing_permissions, unknown_member, unknown_user
from .models import JSON, ChannelType
from .permissions import Permissions
from .rest_common import body_dict, emulator, no_content, ok, snowflake


async def get_me(request: web.Request) -> web.Response:
    emu = emulator(request)
    return ok(
        {**emu.bot.to_dict(), "verified": True, "mfa_enabled": False, "flags": 0, "bot": True}
    )


async def get_user(request: web.Request) -> web.Response:
    emu = emulator(request)
    user = emu.users.get(snowflake(request, "user_id"))
    if user is None:
        raise unknown_user()
    return ok(user.to_dict())


async def application_info(request: web.Request) -> web.Response:
    emu = emulator(request)
    owner = emu.owner.to_dict()
    return ok(
        {
            "id": str(emu.application_id),
            "name": emu.bot.username,
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": owner,
            "team": None,
            "verify_key": "0" * 64,
            "flags": 0,
            "summary": "",
            "bot": emu.bot.to_dict(),
            "interactions_endpoint_url": None,
            "tags": [],
            "approximate_guild_count": len(emu.guilds),
        }
    )


async def gateway(request: web.Request) -> web.Response:
    return ok({"url": emulator(request).gateway_url.rstrip("/")})


async def gateway_bot(request: web.Request) -> web.Response:
    emu = emulator(request)
    return ok(
        {
            "url": emu.gateway_url.rstrip("/"),
            "shards": emu.recommended_shards,
            "session_start_limit": {
                "total": 1000,
                "remaining": max(0, 1000 - emu.identify_count),
                "reset_after": 14_400_000,
                "max_concurrency": emu.max_concurrency,
            },
        }
    )


async def get_channel(request: web.Request) -> web.Response:
    emu = emulator(request)
    channel = emu.channel(snowflake(request, "channel_id"))
    if channel.guild_id:
        emu.require(channel.id)
    return ok(channel.to_dict(emu.users))


async def get_guild(request: web.Request) -> web.Response:
    emu = emulator(request)
    guild = emu.guild(snowflake(request, "guild_id"))
    data = guild.summary()
    if request.query.get("with_counts", "").lower() in ("1", "true"):
        data["approximate_member_count"] = len(guild.members)
        data["approximate_presence_count"] = 0
    return ok(data)


async def get_guild_channels(request: web.Request) -> web.Response:
    emu = emulator(request)
    guild = emu.guild(snowflake(request, "guild_id"))
    channels = [emu.channels[c] for c in guild.channel_ids]
    return ok([c.to_dict() for c in channels if not c.is_thread])


async def get_active_threads(request: web.Request) -> web.Response:
    """GET /guilds/{id}/threads/active: every unarchived thread (and forum post) in the guild."""
    emu = emulator(request)
    guild_id = snowflake(request, "guild_id")
    emu.guild(guild_id)
    threads = [
        c.to_dict()
        for c in emu.channels.values()
        if c.is_thread and c.guild_id == guild_id and not c.archived
    ]
    return ok({"threads": threads, "members": []})


async def get_public_archived_threads(request: web.Request) -> web.Response:
    """GET /channels/{id}/threads/archived/public: newest archived first, `before` a timestamp."""
    emu = emulator(request)
    parent = emu.channel(snowflake(request, "channel_id"))
    if parent.guild_id:
        emu.require(parent.id, Permissions.READ_MESSAGE_HISTORY)
    try:
        limit = int(request.query.get("limit", 50))
        before = (
            datetime.fromisoformat(request.query["before"]) if "before" in request.query else None
        )
    except ValueError:
        raise ApiError(400, 50035, "Invalid Form Body") from None
    if not 2 <= limit <= 100:
        raise ApiError(400, 50035, "Invalid Form Body")
    archived = [
        c.to_dict()
        for c in emu.channels.values()
        if c.parent_id == parent.id
        and c.archived
        and c.type in (ChannelType.PUBLIC_THREAD, ChannelType.NEWS_THREAD)
    ]
    archived.sort(key=lambda t: t["thread_metadata"]["archive_timestamp"], reverse=True)
    if before is not None:
        archived = [
            t
            for t in archived
            if datetime.fromisoformat(t["thread_metadata"]["archive_timestamp"]) < before
        ]
    return ok({"threads": archived[:limit], "members": [], "has_more": len(archived) > limit})


async def get_roles(request: web.Request) -> web.Response:
    emu = emulator(request)
    guild = emu.guild(snowflake(request, "guild_id"))
    return ok([r.to_dict() for r in guild.roles.values()])


async def get_member(request: web.Request) -> web.Response:
    emu = emulator(request)
    guild = emu.guild(snowflake(request, "guild_id"))
    member = guild.members.get(snowflake(request, "user_id"))
    if member is None:
        raise unknown_member()
    return ok(member.to_dict())


def _check_role_change(request: web.Request) -> tuple[int, int, int]:
    emu = emulator(request)
    guild_id = snowflake(request, "guild_id")
    guild = emu.guild(guild_id)
    user_id = snowflake(request, "user_id")
    role = emu.role(guild_id, snowflake(request, "role_id"))
    if user_id not in guild.members:
        raise unknown_member()
    perms = emu.permissions_for(None, emu.bot.id, guild_id)
    if not perms & Permissions.MANAGE_ROLES:
        raise missing_permissions()
    if role.managed_bot_id is not None or role.id == guild_id:
        raise missing_permissions()
    if guild.owner_id != emu.bot.id and role.position >= emu.top_role_position(
        guild_id, emu.bot.id
    ):
        raise missing_permissions()
    return guild_id, user_id, role.id


def _member_update(
    request: web.Request, guild_id: int, user_id: int, kind: str, role_id: int
) -> None:
    emu = emulator(request)
    member = emu.guild(guild_id).members[user_id]
    data: JSON = {"guild_id": str(guild_id), **member.to_dict()}
    emu.dispatch("GUILD_MEMBER_UPDATE", data, guild_id)
    emu.emit(kind, {"guild_id": guild_id, "user_id": user_id, "role_id": role_id})


async def add_member_role(request: web.Request) -> web.Response:
    emu = emulator(request)
    guild_id, user_id, role_id = _check_role_change(request)
    member = emu.guild(guild_id).members[user_id]
    if role_id not in member.role_ids:
        member.role_ids.append(role_id)
    _member_update(request, guild_id, user_id, "role_add", role_id)
    return no_content()


async def remove_member_role(request: web.Request) -> web.Response:
    emu = emulator(request)
    guild_id, user_id, role_id = _check_role_change(request)
    member = emu.guild(guild_id).members[user_id]
    if role_id in member.role_ids:
        member.role_ids.remove(role_id)
    _member_update(request, guild_id, user_id, "role_remove", role_id)
    return no_content()


async def open_dm(request: web.Request) -> web.Response:
    emu = emulator(request)
    payload = body_dict(request)
    try:
        user_id = int(payload["recipient_id"])
    except (KeyError, TypeError, ValueError):
        raise ApiError(
            400,
            50035,
            "Invalid Form Body",
            {
                "recipient_id": {
                    "_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]
                }
            },
        ) from None
    channel = emu.open_dm(user_id)
    return ok(channel.to_dict(emu.users))


async def get_attachment(request: web.Request) -> web.StreamResponse:
    emu = emulator(request)
    stored = emu.files.get(snowflake(request, "attachment_id"))
    if stored is None:
        return web.Response(status=404, text="Not Found")
    return web.Response(body=stored.data, content_type=stored.content_type)


async def health(request: web.Request) -> web.Response:
    return ok({"ok": True, "time": time.time()})


def register(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_get(f"{prefix}/users/@me", get_me)
    router.add_get(f"{prefix}/users/{{user_id}}", get_user)
    router.add_post(f"{prefix}/users/@me/channels", open_dm)
    router.add_get(f"{prefix}/oauth2/applications/@me", application_info)
    router.add_get(f"{prefix}/applications/@me", application_info)
    router.add_get(f"{prefix}/gateway", gateway)
    router.add_get(f"{prefix}/gateway/bot", gateway_bot)
    router.add_get(f"{prefix}/channels/{{channel_id}}", get_channel)
    router.add_get(f"{prefix}/guilds/{{guild_id}}", get_guild)
    router.add_get(f"{prefix}/guilds/{{guild_id}}/channels", get_guild_channels)
    router.add_get(f"{prefix}/guilds/{{guild_id}}/roles", get_roles)
    router.add_get(f"{prefix}/guilds/{{guild_id}}/threads/active", get_active_threads)
    router.add_get(
        f"{prefix}/channels/{{channel_id}}/threads/archived/public", get_public_archived_threads
    )
    router.add_get(f"{prefix}/guilds/{{guild_id}}/members/{{user_id}}", get_member)
    m = f"{prefix}/guilds/{{guild_id}}/members/{{user_id}}/roles/{{role_id}}"
    router.add_put(m, add_member_role)
    router.add_delete(m, remove_member_role)
    router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", get_attachment)
    router.add_get("/health", health)
