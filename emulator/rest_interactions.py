"""Interaction callbacks (3 s window, one ack), followups and `@original`, on the webhook routes."""

from __future__ import annotations

import time

from aiohttp import web

from .errors import (
    ApiError,
    FormErrors,
    already_acknowledged,
    unknown_interaction,
    unknown_message,
    unknown_webhook,
)
from .interactions import Interaction
from .models import JSON
from .rest_common import body_dict, emulator, make_attachments, no_content, ok, snowflake, uploaded
from .rest_messages import execute_incoming_webhook
from .state import MESSAGE_FLAG_EPHEMERAL, MESSAGE_FLAG_LOADING
from .validation import validate_choices, validate_message

CALLBACK_PONG, CALLBACK_MESSAGE, CALLBACK_DEFER, CALLBACK_DEFER_UPDATE = 1, 4, 5, 6
CALLBACK_UPDATE, CALLBACK_AUTOCOMPLETE, CALLBACK_MODAL = 7, 8, 9


def _invalid_token() -> ApiError:
    return ApiError(401, 50027, "Invalid Webhook Token")


def _interaction_meta(ix: Interaction, emu_user: JSON) -> JSON:
    meta: JSON = {
        "id": str(ix.id),
        "type": ix.type,
        "user": emu_user,
        "authorizing_integration_owners": ix.payload.get("authorizing_integration_owners", {}),
    }
    if ix.type == 2:
        meta["name"] = ix.data.get("name")
    if ix.message is not None:
        meta["interacted_message_id"] = ix.message["id"]
    return meta


def _new_message(
    request: web.Request, ix: Interaction, payload: JSON, *, loading: bool = False
) -> JSON:
    emu = emulator(request)
    channel = emu.channel(ix.channel_id)
    files = uploaded(request)
    attachments = make_attachments(emu, channel.id, payload, files)
    flags = int(payload.get("flags") or 0)
    if loading:
        flags |= MESSAGE_FLAG_LOADING
    message = emu.build_message(
        channel,
        emu.bot,
        {**payload, "flags": flags},
        attachments=attachments,
        webhook_id=emu.application_id,
        extra={
            "application_id": str(emu.application_id),
            "interaction_metadata": _interaction_meta(ix, emu.users[ix.user_id].to_dict()),
            "type": 20 if ix.type == 2 else 0,
        },
    )
    return emu.store_message(channel, message, hidden=bool(flags & MESSAGE_FLAG_EPHEMERAL))


async def callback(request: web.Request) -> web.Response:
    emu = emulator(request)
    ix = emu.interactions.get(snowflake(request, "interaction_id"))
    if ix is None or ix.token != request.match_info["interaction_token"]:
        raise unknown_interaction()
    payload = body_dict(request)
    kind = int(payload.get("type") or 0)
    data: JSON = payload.get("data") or {}
    if ix.acknowledged:
        ix.rejected.append((40060, payload))
        raise already_acknowledged()
    if time.monotonic() - ix.created > emu.interaction_ack_timeout:
        ix.rejected.append((10062, payload))
        raise unknown_interaction()
    message: JSON | None = None
    loading = False
    if kind == CALLBACK_MESSAGE:
        validate_message(data, has_files=bool(uploaded(request)))
        message = _new_message(request, ix, data)
        ix.original = message
    elif kind == CALLBACK_DEFER:
        loading = True
        message = _new_message(request, ix, {"flags": int(data.get("flags") or 0)}, loading=True)
        ix.original = message
        ix.deferred_loading = True
    elif kind in (CALLBACK_UPDATE, CALLBACK_DEFER_UPDATE):
        if ix.message is None:
            raise ApiError(
                400,
                50035,
                "Invalid Form Body",
                {
                    "type": {
                        "_errors": [
                            {
                                "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                "message": "Interaction has no message",
                            }
                        ]
                    }
                },
            )
        target = emu.find_message(int(ix.message["id"]))
        if target is None:
            raise unknown_message()
        if kind == CALLBACK_UPDATE:
            validate_message(data, require_body=False)
            if "attachments" in data or uploaded(request):
                data["attachments"] = make_attachments(emu, ix.channel_id, data, uploaded(request))
            emu.update_message(target, data)
        message = target
        ix.original = target
    elif kind == CALLBACK_AUTOCOMPLETE:
        errors = FormErrors()
        validate_choices(data.get("choices"), errors, ["data", "choices"])
        errors.raise_if_any()
        ix.choices = list(data.get("choices") or [])
    elif kind == CALLBACK_MODAL:
        _validate_modal(data)
        ix.modal = data
    elif kind != CALLBACK_PONG:
        raise ApiError(
            400,
            50035,
            "Invalid Form Body",
            {
                "type": {
                    "_errors": [
                        {
                            "code": "BASE_TYPE_CHOICES",
                            "message": "Value must be one of {1, 4, 5, 6, 7, 8, 9}.",
                        }
                    ]
                }
            },
        )
    ix.record_response(payload)
    emu.emit("interaction_response", {"interaction_id": str(ix.id), "type": kind, "data": data})
    reply: JSON = {
        "interaction": {
            "id": str(ix.id),
            "type": ix.type,
            "response_message_loading": loading,
            "response_message_ephemeral": bool(
                int((message or {}).get("flags") or data.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL
            ),
        },
        "resource": {"type": kind},
    }
    if message is not None:
        reply["interaction"]["response_message_id"] = message["id"]
        reply["resource"]["message"] = message
    return ok(reply)


def _validate_modal(data: JSON) -> None:
    errors = FormErrors()
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= 100:
        errors.length_range(["data", "custom_id"], 1, 100)
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= 45:
        errors.length_range(["data", "title"], 1, 45)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errors.length_range(["data", "components"], 1, 5)
    errors.raise_if_any()


def _app_interaction(request: web.Request) -> Interaction:
    emu = emulator(request)
    token = request.match_info["webhook_token"]
    ix = next((i for i in emu.interactions.values() if i.token == token), None)
    if ix is None:
        raise unknown_webhook()
    if time.monotonic() - ix.created > emu.interaction_token_ttl:
        raise _invalid_token()
    if not ix.acknowledged:
        raise unknown_webhook()
    return ix


async def execute_webhook(request: web.Request) -> web.Response:
    emu = emulator(request)
    webhook_id = snowflake(request, "webhook_id")
    if webhook_id != emu.application_id:
        return await execute_incoming_webhook(
            request, webhook_id, request.match_info["webhook_token"]
        )
    ix = _app_interaction(request)
    payload = body_dict(request)
    validate_message(payload, has_files=bool(uploaded(request)))
    original = ix.original
    if ix.deferred_loading and original is not None:
        # The first followup after a "thinking" defer replaces the loading message.
        ix.deferred_loading = False
        payload = {**payload}
        if uploaded(request) or payload.get("attachments"):
            payload["attachments"] = make_attachments(
                emu, ix.channel_id, payload, uploaded(request)
            )
        payload.pop("flags", None)
        message = emu.update_message(original, payload)
    else:
        message = _new_message(request, ix, payload)
    ix.record_followup(message)
    emu.emit("followup", message)
    return ok(message)


def _target(request: web.Request, ix: Interaction) -> JSON:
    raw = request.match_info["message_id"]
    if raw == "@original":
        if ix.original is None:
            raise unknown_message()
        return ix.original
    wanted = int(raw)
    for message in (ix.original, *ix.followups):
        if message is not None and int(message["id"]) == wanted:
            return message
    raise unknown_message()


async def get_webhook_message(request: web.Request) -> web.Response:
    emu = emulator(request)
    if snowflake(request, "webhook_id") != emu.application_id:
        raise unknown_webhook()
    ix = _app_interaction(request)
    return ok(_target(request, ix))


async def edit_webhook_message(request: web.Request) -> web.Response:
    emu = emulator(request)
    if snowflake(request, "webhook_id") != emu.application_id:
        raise unknown_webhook()
    ix = _app_interaction(request)
    message = _target(request, ix)
    payload = body_dict(request)
    validate_message(payload, require_body=False)
    if uploaded(request) or "attachments" in payload:
        payload["attachments"] = make_attachments(emu, ix.channel_id, payload, uploaded(request))
    if message is ix.original:
        ix.deferred_loading = False
    updated = emu.update_message(message, payload)
    if message is ix.original:
        ix.record_edit(updated)
    return ok(updated)


async def delete_webhook_message(request: web.Request) -> web.Response:
    emu = emulator(request)
    if snowflake(request, "webhook_id") != emu.application_id:
        raise unknown_webhook()
    ix = _app_interaction(request)
    message = _target(request, ix)
    emu.delete_message(message)
    return no_content()


def register(router: web.UrlDispatcher, prefix: str) -> None:
    router.add_post(
        f"{prefix}/interactions/{{interaction_id}}/{{interaction_token}}/callback", callback
    )
    hook = f"{prefix}/webhooks/{{webhook_id}}/{{webhook_token}}"
    router.add_post(hook, execute_webhook)
    router.add_get(f"{hook}/messages/{{message_id}}", get_webhook_message)
    router.add_patch(f"{hook}/messages/{{message_id}}", edit_webhook_message)
    router.add_delete(f"{hook}/messages/{{message_id}}", delete_webhook_message)
