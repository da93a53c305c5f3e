"""Small helpers shared by the REST route modules: body access, ids, attachments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import FormErrors, entity_too_large, json_response
from .models import JSON

if TYPE_CHECKING:
    from .server import DiscordEmulator
    from .state import StoredFile

EMULATOR_KEY: web.AppKey[DiscordEmulator] = web.AppKey("discord_emulator")
JSON_BODY_KEY: web.RequestKey[Any] = web.RequestKey("json_body")
UPLOAD_LIMIT = 10 * 1024 * 1024
"""Discord's limit on a message's files for a bot in a server without boosts (all emulated ones)."""
FILES_KEY: web.RequestKey[list[tuple[int, str, bytes, str]]] = web.RequestKey("files")


def emulator(request: web.Request) -> DiscordEmulator:
    return request.app[EMULATOR_KEY]


def body(request: web.Request) -> Any:
    return request.get(JSON_BODY_KEY)


def body_dict(request: web.Request) -> JSON:
    data = request.get(JSON_BODY_KEY)
    if data is None:
        return {}
    if not isinstance(data, dict):
        errors = FormErrors()
        errors.add([], "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        errors.raise_if_any()
    return data  # type: ignore[return-value]


def uploaded(request: web.Request) -> list[tuple[int, str, bytes, str]]:
    """(index, filename, data, content_type) for each `files[n]` part."""
    return request.get(FILES_KEY) or []


def snowflake(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    try:
        return int(raw)
    except ValueError:
        errors = FormErrors()
        errors.add([name], "NUMBER_TYPE_COERCE", f'Value "{raw}" is not snowflake.')
        errors.raise_if_any()
        raise AssertionError("unreachable") from None


def ok(data: Any, status: int = 200) -> web.Response:
    return json_response(data, status)


def no_content() -> web.Response:
    return web.Response(status=204)


def make_attachments(
    emu: DiscordEmulator, channel_id: int, payload: JSON, files: list[tuple[int, str, bytes, str]]
) -> list[JSON]:
    from .state import StoredFile

    if sum(len(data) for _, _, data, _ in files) > UPLOAD_LIMIT:
        raise entity_too_large()
    described = {int(a["id"]): a for a in payload.get("attachments") or [] if "id" in a}
    result: list[JSON] = []
    for index, filename, data, content_type in files:
        meta = described.get(index, {})
        name = meta.get("filename") or filename
        attachment_id = emu.ids.next()
        stored: StoredFile = StoredFile(name, data, content_type)
        emu.files[attachment_id] = stored
        url = f"{emu.base_url}/attachments/{channel_id}/{attachment_id}/{name}"
        att: JSON = {
            "id": str(attachment_id),
            "filename": name,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }
        if meta.get("description"):
            att["description"] = meta["description"]
        result.append(att)
    # Attachments kept from an earlier version of the message on edit.
    for att in payload.get("attachments") or []:
        if isinstance(att.get("id"), str) and att.get("url"):
            result.append(att)
    return result
