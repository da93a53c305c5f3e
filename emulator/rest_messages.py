"""Channel messages: create (with nonce dedup), read, history, edit, delete, crosspost, threads, incoming webhooks."""

from __future__ import annotations

from aiohttp import web

from .errors import ApiError, unknown_webhook
from .models import JSON, Channel, ChannelType
from .permissions import Permissions
from .ratelimits import RateLimiter, too_many_requests
from .rest_common import (
    body_dict,
    emulator,
    make_attachments,
    no_content,
    ok,
    snowflake,
    uploaded,
)
from .state import CHANNEL_FLAG_REQUIRE_TAG, MESSAGE_FLAG_CROSSPOSTED
from .validation import validate_message, validate_thread_name

MESSAGE_FLAG_HAS_THREAD = 1 << 5


def _not_own() -> ApiError:
    return ApiError(403, 50005, "Cannot edit a message authored by another user")


async def create_message(request: web.Request) -> web.Response:
    emu = emulator(request)
    channel = emu.channel(snowflake(request, "channel_id"))
    payload = body_dict(request)
    files = uploaded(request)
    validate_message(payload, has_files=bool(files))
    emu.check_can_send(channel, has_files=bool(files))
    existing = emu.nonce_hit(channel.id, payload)
    if existing is not None:
        return ok(existing)
    wait = emu.slowmode_wait(channel, emu.bot.id)
    if wait:
        return too_many_requests(
            wait,
            global_=False,
            bucket=RateLimiter.bucket_hash(request.method, "/channels/{channel_id}/messages"),
            code=20016,
            message="This action cannot be performed due to slowmode rate limit.",
        )
    attachments = make_attachments(emu, channel.id, payload, files)
    message = emu.build_message(channel, emu.bot, payload, attachments=attachments)
    emu.store_message(channel, message)
    return ok(message)


async def get_message(request: web.Request) -> web.Response:
    emu = emulator(request)
    channel = emu.channel(snowflake(request, "channel_id"))
    if channel.guild_id:
        emu.require(channel.id, Permissions.READ_MESSAGE_HISTORY)
    return ok(emu.message(channel.id, snowflake(request, "message_id")))


async def get_messages(request: web.Request) -> web.Response:
    emu = emulator(request)
    channel = emu.channel(snowflake(request, "channel_id"))
    if channel.guild_id:
        emu.require(channel.id, Permissions.READ_MESSAGE_HISTORY)
    limit = int(request.query.get("limit", 50))
    if not 1 <= limit <= 100:
        raise ApiError(
            400,
            50035,
            "Invalid Form Body",
            {
                "limit": {
                    "_errors": [
                        {"code": "NUMBER_TYPE_MAX", "message": "Must be between 1 and 100."}
                    ]
                }
            },
        )
    messages = sorted(emu.messages(channel.id), key=lambda m: int(m["id"]))
    if "before" in request.query:
        before = int(request.query["before"])
        messages = [m for m in messages if int(m["id"]) < before][-limit:]
    elif "after" in request.query:
        after = int(request.query["after"])
        messages = [m for m in messages if int(m["id"]) > after][:limit]
    elif "around" in request.query:
        around = int(request.query["around"])
        older = [m for m in messages if int(m["id"]) <= around][-(limit // 2 + 1) :]
        newer = [m for m in messages if int(m["id"]) > around][: limit - len(older)]
        messages = older + newer
    else:
        messages = messages[-limit:]
    return ok(list(reversed(messages)))  # newest first, as Discord returns them


async def edit_message(request: web.Request) -> web.Response:
    emu = emulator(request)
    channel = emu.channel(snowflake(request, "channel_id"))
    message = emu.message(channel.id, snowflake(request, "message_id"))
    payload = body_dict(request)
    if int(message["author"]["id"]) != emu.bot.id:
        raise _not_own()
    validate_message(payload, require_body=False)
    files = uploaded(request)
    if files or "attachments" in payload:
        payload["attachments"] = make_attachments(emu, channel.id, payload, files)
    _check_not_emptied(message, payload)
    return ok(emu.update_message(message, payload))


def _check_not_emptied(message: JSON, changes: JSON) -> None:
    merged = {**message, **{k: v for k, v in changes.items() if v is not None}}
    if "content" in changes and changes["content"] is None:
        merged["content"] = ""
    validate_message(
        {k: merged.get(k) for k in ("content", "embeds", "components", "attachments", "poll")},
        require_body=True,
    )


async def delete_message(request: web.Request) -> web.Response:
    emu = emulator(request)
    channel = emu.channel(snowflake(request, "channel_id"))
    message = emu.message(channel.id, snowflake(request, "message_id"))
    if int(message["author"]["id"]) != emu.bot.id and channel.guild_id:
        emu.require(channel.id, Permissions.MANAGE_MESSAGES)
    emu.delete_message(message)
    return no_content()


async def crosspost(request: web.Request) -> web.Response:
    emu = emulator(request)
    channel = emu.channel(snowflake(request, "channel_id"))
    message = emu.message(channel.id, snowflake(request, "message_id"))
    if channel.type != ChannelType.NEWS:
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    own = int(message["author"]["id"]) == emu.bot.id
    emu.require(channel.id, Permissions.SEND_MESSAGES if own else Permissions.MANAGE_MESSAGES)
    if int(message.get("flags") or 0) & MESSAGE_FLAG_CROSSPOSTED:
        raise ApiError(400, 40033, "This message has already been crossposted.")
    message["flags"] = int(message.get("flags") or 0) | MESSAGE_FLAG_CROSSPOSTED
    emu.dispatch("MESSAGE_UPDATE", message, channel.guild_id)
    emu.emit("crosspost", message)
    return ok(message)


async def trigger_typing(request: web.Request) -> web.Response:
    emu = emulator(request)
    channel = emu.channel(snowflake(request, "channel_id"))
    if channel.guild_id:
        emu.require(channel.id, Permissions.SEND_MESSAGES)
    return no_content()


def _thread_response(emu_thread: Channel, message: JSON | None = None) -> JSON:
    data = emu_thread.to_dict()
    if message is not None:
        data["message"] = message
    return data


async def start_thread(request: web.Request) -> web.Response:
    """POST /channels/{id}/threads: a forum post (with `message`) or a thread without a starter."""
    emu = emulator(request)
    parent = emu.channel(snowflake(request, "channel_id"))
    payload = body_dict(request)
    validate_thread_name(payload.get("name"))
    duration = int(payload.get("auto_archive_duration") or 1440)
    if parent.type == ChannelType.FORUM:
        starter = payload.get("message")
        if not isinstance(starter, dict):
            raise ApiError(
                400,
                50035,
                "Invalid Form Body",
                {
                    "message": {
                        "_errors": [
                            {"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}
                        ]
                    }
                },
            )
        files = uploaded(request)
        validate_message(starter, has_files=bool(files))
        emu.require(parent.id, Permissions.SEND_MESSAGES)
        tags = [int(t) for t in payload.get("applied_tags") or []]
        known = {int(t["id"]) for t in parent.available_tags}
        if parent.flags & CHANNEL_FLAG_REQUIRE_TAG and not tags:
            raise ApiError(400, 40067, "A tag is required to create a forum post in this channel")
        if any(t not in known for t in tags):
            raise ApiError(400, 50035, "Invalid Form Body", {"applied_tags": {"_errors": []}})
        thread = emu.create_thread(
            parent, payload["name"], owner_id=emu.bot.id, auto_archive_duration=duration
        )
        thread.applied_tags = tags
        attachments = make_attachments(emu, thread.id, starter, files)
        message = emu.build_message(
            thread, emu.bot, starter, attachments=attachments, message_id=thread.id
        )
        emu.store_message(thread, message)
        emu.emit("thread_create", _thread_response(thread, message))
        return ok(_thread_response(thread, message), 201)
    if parent.type not in (ChannelType.TEXT, ChannelType.NEWS):
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    kind = ChannelType(int(payload.get("type") or ChannelType.PRIVATE_THREAD))
    needed = (
        Permissions.CREATE_PRIVATE_THREADS
        if kind == ChannelType.PRIVATE_THREAD
        else Permissions.CREATE_PUBLIC_THREADS
    )
    emu.require(parent.id, needed)
    thread = emu.create_thread(
        parent, payload["name"], owner_id=emu.bot.id, type=kind, auto_archive_duration=duration
    )
    emu.emit("thread_create", _thread_response(thread))
    return ok(_thread_response(thread), 201)


async def start_thread_from_message(request: web.Request) -> web.Response:
    emu = emulator(request)
    parent = emu.channel(snowflake(request, "channel_id"))
    message = emu.message(parent.id, snowflake(request, "message_id"))
    payload = body_dict(request)
    validate_thread_name(payload.get("name"))
    emu.require(parent.id, Permissions.CREATE_PUBLIC_THREADS)
    if message.get("thread"):
        raise ApiError(400, 160004, "A thread has already been created for this message")
    kind = ChannelType.NEWS_THREAD if parent.type == ChannelType.NEWS else ChannelType.PUBLIC_THREAD
    thread = emu.create_thread(
        parent,
        payload["name"],
        owner_id=emu.bot.id,
        thread_id=int(message["id"]),
        type=kind,
        auto_archive_duration=int(payload.get("auto_archive_duration") or 1440),
    )
    message["thread"] = thread.to_dict()
    message["flags"] = int(message.get("flags") or 0) | MESSAGE_FLAG_HAS_THREAD
    emu.emit("thread_create", _thread_response(thread, message))
    return ok(_thread_response(thread), 201)


async def execute_incoming_webhook(
    request: web.Request, webhook_id: int, token: str
) -> web.Response:
    emu = emulator(request)
    webhook = emu.webhooks.get(webhook_id)
    if webhook is None or webhook.token != token:
        raise unknown_webhook()
    payload = body_dict(request)
    files = uploaded(request)
    validate_message(payload, has_files=bool(files))
    channel = emu.channel(webhook.channel_id)
    if "thread_id" in request.query:
        channel = emu.channel(int(request.query["thread_id"]))
    author = {
        "id": str(webhook.id),
        "username": payload.get("username") or webhook.name,
        "discriminator": "0000",
        "avatar": None,
        "bot": True,
    }
    if channel.type == ChannelType.FORUM:
        if not payload.get("thread_name"):
            raise ApiError(
                400,
                220001,
                "Webhooks posted to forum channels must have a thread_name or thread_id",
            )
        thread = emu.create_thread(channel, payload["thread_name"], owner_id=webhook.id)
        channel = thread
    attachments = make_attachments(emu, channel.id, payload, files)
    message = emu.build_message(
        channel,
        emu.bot,
        payload,
        attachments=attachments,
        webhook_id=webhook.id,
        extra={"author": author},
    )
    emu.store_message(channel, message)
    emu.emit("webhook_message", message)
    wait = request.query.get("wait", "false").lower() in ("1", "true")
    return ok(message) if wait else no_content()


def register(router: web.UrlDispatcher, prefix: str) -> None:
    c = f"{prefix}/channels/{{channel_id}}"
    router.add_post(f"{c}/messages", create_message)
    router.add_get(f"{c}/messages", get_messages)
    router.add_get(f"{c}/messages/{{message_id}}", get_message)
    router.add_patch(f"{c}/messages/{{message_id}}", edit_message)
    router.add_delete(f"{c}/messages/{{message_id}}", delete_message)
    router.add_post(f"{c}/messages/{{message_id}}/crosspost", crosspost)
    router.add_post(f"{c}/messages/{{message_id}}/threads", start_thread_from_message)
    router.add_post(f"{c}/threads", start_thread)
    router.add_post(f"{c}/typing", trigger_typing)
