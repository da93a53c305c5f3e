"""Application command registration: global and guild tables, validated like Discord does."""

from __future__ import annotations

import copy

from aiohttp import web

from .errors import FormErrors, missing_access, unknown_command
from .models import JSON
from .rest_common import body, body_dict, emulator, no_content, ok, snowflake
from .validation import validate_command, validate_commands


def _table(request: web.Request) -> tuple[dict[int, JSON], int | None]:
    emu = emulator(request)
    if snowflake(request, "application_id") != emu.application_id:
        raise missing_access()
    if "guild_id" in request.match_info:
        guild_id = snowflake(request, "guild_id")
        emu.guild(guild_id)
        return emu.guild_commands.setdefault(guild_id, {}), guild_id
    return emu.global_commands, None


def _normalise_option(option: JSON) -> JSON:
    option.setdefault("description", "")
    if option.get("options"):
        option["options"] = [_normalise_option(o) for o in option["options"]]
    return option


def _build(request: web.Request, data: JSON, guild_id: int | None, existing: JSON | None) -> JSON:
    emu = emulator(request)
    command = copy.deepcopy(data)
    command.setdefault("type", 1)
    command.setdefault("description", "")
    command.setdefault("default_member_permissions", None)
    command.setdefault("nsfw", False)
    command.setdefault("contexts", None)
    command.setdefault("integration_types", [0])
    command["options"] = [_normalise_option(o) for o in command.get("options") or []]
    command["id"] = existing["id"] if existing else str(emu.ids.next())
    command["application_id"] = str(emu.application_id)
    command["version"] = str(emu.ids.next())
    if guild_id is not None:
        command["guild_id"] = str(guild_id)
    return command


def _same(table: dict[int, JSON], data: JSON) -> JSON | None:
    for cmd in table.values():
        if cmd["name"] == data.get("name") and cmd["type"] == data.get("type", 1):
            return cmd
    return None


async def list_commands(request: web.Request) -> web.Response:
    table, _ = _table(request)
    return ok(list(table.values()))


async def bulk_overwrite(request: web.Request) -> web.Response:
    emu = emulator(request)
    table, guild_id = _table(request)
    payload = body(request)
    validate_commands(payload)
    new = {}
    for data in payload:
        command = _build(request, data, guild_id, _same(table, data))
        new[int(command["id"])] = command
    table.clear()
    table.update(new)
    if guild_id is None:
        emu.command_put_count += 1
    else:
        emu.guild_command_put_count += 1
    emu.emit(
        "commands_registered",
        {"guild_id": guild_id, "names": [c["name"] for c in table.values()]},
    )
    return ok(list(table.values()))


async def upsert_command(request: web.Request) -> web.Response:
    emu = emulator(request)
    table, guild_id = _table(request)
    data = body_dict(request)
    errors = FormErrors()
    validate_command(data, errors, [])
    errors.raise_if_any()
    existing = _same(table, data)
    command = _build(request, data, guild_id, existing)
    table[int(command["id"])] = command
    emu.emit("commands_registered", {"guild_id": guild_id, "names": [command["name"]]})
    return ok(command, 200 if existing else 201)


def _command(request: web.Request) -> tuple[dict[int, JSON], JSON, int | None]:
    table, guild_id = _table(request)
    command = table.get(snowflake(request, "command_id"))
    if command is None:
        raise unknown_command()
    return table, command, guild_id


async def get_command(request: web.Request) -> web.Response:
    _, command, _ = _command(request)
    return ok(command)


async def edit_command(request: web.Request) -> web.Response:
    table, command, guild_id = _command(request)
    data = {**command, **body_dict(request)}
    errors = FormErrors()
    validate_command(data, errors, [])
    errors.raise_if_any()
    updated = _build(request, data, guild_id, command)
    table[int(updated["id"])] = updated
    return ok(updated)


async def delete_command(request: web.Request) -> web.Response:
    table, command, _ = _command(request)
    del table[int(command["id"])]
    return no_content()


def register(router: web.UrlDispatcher, prefix: str) -> None:
    for base in (
        f"{prefix}/applications/{{application_id}}/commands",
        f"{prefix}/applications/{{application_id}}/guilds/{{guild_id}}/commands",
    ):
        router.add_get(base, list_commands)
        router.add_put(base, bulk_overwrite)
        router.add_post(base, upsert_command)
        router.add_get(f"{base}/{{command_id}}", get_command)
        router.add_patch(f"{base}/{{command_id}}", edit_command)
        router.add_delete(f"{base}/{{command_id}}", delete_command)
