"""Injecting interactions the way Discord sends them (slash, autocomplete, clicks, modals) and recording replies."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .command_permissions import (
    CONTEXT_BOT_DM,
    CONTEXT_GUILD,
    CommandOverwrite,
    context_allowed,
    may_use,
)
from .models import JSON
from .permissions import Permissions

if TYPE_CHECKING:
    from .server import DiscordEmulator

ATTACHMENT_SIZE_LIMIT = 26214400
SNOWFLAKE_OPTION_TYPES = {6, 7, 8, 9, 11}
SELECT_TYPES = {3, 5, 6, 7, 8}
MESSAGE_FLAG_EPHEMERAL = 1 << 6


class InteractionRefused(LookupError):
    """Discord would never send this interaction: the member cannot see or use what it names
    (a command they lack the permissions for, a component that is not on the message, another
    member's ephemeral message, a menu value that is not one of its options...)."""


@dataclass
class Interaction:
    """One injected interaction and everything the bot did with it."""

    id: int
    token: str
    type: int
    guild_id: int | None
    channel_id: int
    user_id: int
    data: JSON
    payload: JSON
    message: JSON | None = None
    created: float = field(default_factory=time.monotonic)
    responses: list[JSON] = field(default_factory=list)  # accepted callback bodies
    rejected: list[tuple[int, JSON]] = field(default_factory=list)  # (error code, body)
    followups: list[JSON] = field(default_factory=list)
    original: JSON | None = None
    edits: list[JSON] = field(default_factory=list)  # webhook edits of the original, in order
    modal: JSON | None = None
    choices: list[JSON] | None = None
    deferred_loading: bool = False
    _first: asyncio.Future[JSON] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    _followup_event: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def acknowledged(self) -> bool:
        return bool(self.responses)

    @property
    def ephemeral(self) -> bool:
        body = self.responses[0] if self.responses else {}
        return bool(int((body.get("data") or {}).get("flags") or 0) & 64)

    async def wait_response(self, timeout: float = 10) -> JSON:
        """The first accepted callback body: `{"type": 4, "data": {...}}`."""
        return await asyncio.wait_for(asyncio.shield(self._first), timeout)

    async def wait_followup(self, count: int = 1, timeout: float = 10) -> JSON:
        async def _wait() -> JSON:
            while len(self.followups) < count:
                self._followup_event.clear()
                await self._followup_event.wait()
            return self.followups[count - 1]

        return await asyncio.wait_for(_wait(), timeout)

    async def wait_answer(self, timeout: float = 10) -> tuple[str, JSON]:
        """After a deferred response: ("edit", message) or ("followup", message), whichever the
        bot sends first."""

        async def _wait() -> tuple[str, JSON]:
            while not self.edits and not self.followups:
                self._followup_event.clear()
                await self._followup_event.wait()
            return ("edit", self.edits[0]) if self.edits else ("followup", self.followups[0])

        return await asyncio.wait_for(_wait(), timeout)

    def record_edit(self, message: JSON) -> None:
        self.edits.append(message)
        self._followup_event.set()

    def record_response(self, body: JSON) -> None:
        self.responses.append(body)
        if not self._first.done():
            self._first.set_result(body)

    def record_followup(self, message: JSON) -> None:
        self.followups.append(message)
        self._followup_event.set()


def _id_of(value: Any) -> int:
    return int(getattr(value, "id", value))


def _find_component(components: list[JSON], custom_id: str) -> JSON | None:
    for comp in components:
        if comp.get("custom_id") == custom_id:
            return comp
        for key in ("components", "accessory", "component"):
            child = comp.get(key)
            children = (
                child if isinstance(child, list) else [child] if isinstance(child, dict) else []
            )
            found = _find_component(children, custom_id)
            if found is not None:
                return found
    return None


class InteractionsMixin:
    """Methods of DiscordEmulator that play the user's side of interactions."""

    interactions: dict[int, Interaction]
    command_overwrites: dict[tuple[int, int], list[CommandOverwrite]]

    def _emu(self) -> DiscordEmulator:
        return self  # type: ignore[return-value]

    # -- envelope -------------------------------------------------------------------------
    def _new_interaction(
        self,
        type_: int,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        data: JSON,
        message: JSON | None = None,
    ) -> Interaction:
        emu = self._emu()
        channel = emu.channel(channel_id)
        ix_id = emu.ids.next()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(120)
        payload: JSON = {
            "id": str(ix_id),
            "application_id": str(emu.application_id),
            "type": type_,
            "data": data,
            "channel_id": str(channel_id),
            "channel": channel.to_dict(emu.users),
            "token": token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "app_permissions": str(emu.bot_permissions(channel_id) if guild_id else 0),
        }
        if guild_id is not None:
            guild = emu.guild(guild_id)
            if user_id not in guild.members:
                emu.add_member(guild_id, user_id)
            member = guild.members[user_id].to_dict()
            member["permissions"] = str(emu.permissions_for(channel_id, user_id))
            payload.update(
                {
                    "guild_id": str(guild_id),
                    "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
                    "guild_locale": "en-US",
                    "member": member,
                    "authorizing_integration_owners": {"0": str(guild_id)},
                    "context": 0,
                }
            )
        else:
            payload.update(
                {
                    "user": emu.users[user_id].to_dict(),
                    "authorizing_integration_owners": {"0": str(user_id)},
                    "context": 1,
                }
            )
        if message is not None:
            payload["message"] = message
        ix = Interaction(ix_id, token, type_, guild_id, channel_id, user_id, data, payload, message)
        self.interactions[ix_id] = ix
        emu.dispatch("INTERACTION_CREATE", payload, guild_id)
        emu.emit("interaction_create", payload)
        return ix

    # -- application commands ---------------------------------------------------------------
    def _lookup_command(self, guild_id: int | None, name: str, cmd_type: int = 1) -> JSON:
        emu = self._emu()
        tables = []
        if guild_id is not None:
            tables.append(emu.guild_commands.get(guild_id, {}))
        tables.append(emu.global_commands)
        for table in tables:
            for cmd in table.values():
                if cmd["name"] == name and int(cmd.get("type", 1)) == cmd_type:
                    return cmd
        raise LookupError(f"command {name!r} is not registered (sync the command tree first)")

    def set_command_permissions(
        self, guild_id: int, command: str | None, overwrites: list[CommandOverwrite]
    ) -> None:
        """What a server admin sets in Server Settings > Integrations: who may use one command
        (by name), or with `command=None` the whole app. Bots cannot set these themselves."""
        emu = self._emu()
        target = (
            emu.application_id
            if command is None
            else int(self._lookup_command(guild_id, command)["id"])
        )
        self.command_overwrites[(guild_id, target)] = list(overwrites)

    def may_use_command(
        self, guild_id: int | None, channel_id: int, user_id: int, name: str
    ) -> bool:
        """Whether Discord offers the command `name` to this user here (see command_permissions)."""
        emu = self._emu()
        command = self._lookup_command(guild_id, name.split()[0])
        if guild_id is None:
            return context_allowed(command, CONTEXT_BOT_DM)
        if not context_allowed(command, CONTEXT_GUILD):
            return False
        guild = emu.guild(guild_id)
        member = guild.members.get(user_id)
        return may_use(
            command,
            guild_id=guild_id,
            channel_id=channel_id,
            user_id=user_id,
            role_ids=member.role_ids if member else [],
            permissions=emu.permissions_for(channel_id, user_id, guild_id),
            command_overwrites=self.command_overwrites.get((guild_id, int(command["id"])), ()),
            app_overwrites=self.command_overwrites.get((guild_id, emu.application_id), ()),
        )

    def _check_command(
        self, guild_id: int | None, channel_id: int, user_id: int, name: str
    ) -> None:
        if not self.may_use_command(guild_id, channel_id, user_id, name):
            where = "in a DM" if guild_id is None else f"in channel {channel_id}"
            raise InteractionRefused(
                f"user {user_id} cannot use /{name} {where}: Discord does not offer it to them"
            )

    def _resolve(
        self, guild_id: int | None, channel_id: int, opt_type: int, value: int, resolved: JSON
    ) -> None:
        emu = self._emu()
        if opt_type in (6, 9) and value in emu.users:
            resolved.setdefault("users", {})[str(value)] = emu.users[value].to_dict()
            guild = emu.guilds.get(guild_id) if guild_id else None
            if guild and value in guild.members:
                member = guild.members[value].to_dict()
                member.pop("user")
                member["permissions"] = str(emu.permissions_for(channel_id, value))
                resolved.setdefault("members", {})[str(value)] = member
        elif opt_type in (8, 9) and guild_id is not None:
            role = emu.role(guild_id, value)
            resolved.setdefault("roles", {})[str(value)] = role.to_dict()
        elif opt_type == 7:
            ch = emu.channel(value)
            info = {
                "id": str(ch.id),
                "name": ch.name,
                "type": int(ch.type),
                "permissions": str(emu.bot_permissions(ch.id)),
                "parent_id": str(ch.parent_id) if ch.parent_id else None,
                "guild_id": str(ch.guild_id) if ch.guild_id else None,
            }
            if ch.is_thread:
                info["thread_metadata"] = ch.to_dict()["thread_metadata"]
            resolved.setdefault("channels", {})[str(value)] = info

    def _command_data(
        self,
        guild_id: int | None,
        channel_id: int,
        name: str,
        options: dict[str, Any] | None,
        focused: str | None = None,
    ) -> JSON:
        parts = name.split()
        cmd = self._lookup_command(guild_id, parts[0])
        defs: list[JSON] = cmd.get("options") or []
        path: list[JSON] = []
        for part in parts[1:]:
            sub = next((o for o in defs if o["name"] == part and o["type"] in (1, 2)), None)
            if sub is None:
                raise LookupError(f"/{parts[0]} has no subcommand {part!r}")
            path.append(sub)
            defs = sub.get("options") or []
        resolved: JSON = {}
        leaf: list[JSON] = []
        for opt_name, raw in (options or {}).items():
            spec = next((o for o in defs if o["name"] == opt_name), None)
            if spec is None:
                raise LookupError(f"/{name} has no option {opt_name!r}")
            opt_type = int(spec["type"])
            value: Any
            if opt_name == focused:
                value = str(raw)
            elif opt_type in SNOWFLAKE_OPTION_TYPES:
                value = str(_id_of(raw))
                self._resolve(guild_id, channel_id, opt_type, int(value), resolved)
            elif opt_type == 4:
                value = int(raw)
            elif opt_type == 10:
                value = float(raw)
            elif opt_type == 5:
                value = bool(raw)
            else:
                value = str(raw)
            entry: JSON = {"name": opt_name, "type": opt_type, "value": value}
            if opt_name == focused:
                entry["focused"] = True
            leaf.append(entry)
        nested = leaf
        for sub in reversed(path):
            nested = [{"name": sub["name"], "type": sub["type"], "options": nested}]
        data: JSON = {"id": cmd["id"], "name": cmd["name"], "type": 1, "options": nested}
        if resolved:
            data["resolved"] = resolved
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return data

    async def slash(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        options: dict[str, Any] | None = None,
    ) -> Interaction:
        self._check_command(guild_id, channel_id, user_id, name)
        data = self._command_data(guild_id, channel_id, name, options)
        return self._new_interaction(2, guild_id, channel_id, user_id, data)

    async def autocomplete(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        options: dict[str, Any],
        focused: str,
        timeout: float = 10,
    ) -> list[JSON]:
        self._check_command(guild_id, channel_id, user_id, name)
        data = self._command_data(guild_id, channel_id, name, options, focused)
        ix = self._new_interaction(4, guild_id, channel_id, user_id, data)
        body = await ix.wait_response(timeout)
        return list((body.get("data") or {}).get("choices") or [])

    async def click(
        self, message_id: int, custom_id: str, user_id: int, values: list[str] | None = None
    ) -> Interaction:
        """A member clicks a component of a message, or picks menu options: only what Discord
        would let through (see InteractionRefused); `forged_click` skips those checks."""
        emu = self._emu()
        message = emu.find_message(int(message_id))
        if message is None:
            raise LookupError(f"no message {message_id} recorded")
        component = _find_component(message.get("components") or [], custom_id)
        if component is None:
            raise InteractionRefused(f"message {message_id} has no component {custom_id!r}")
        self._check_click(message, component, user_id, values)
        data: JSON = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] != 2:
            data["values"] = list(values or [])
        guild_id = int(message["guild_id"]) if message.get("guild_id") else None
        channel_id = int(message["channel_id"])
        return self._new_interaction(3, guild_id, channel_id, user_id, data, message=message)

    def _check_click(
        self, message: JSON, component: JSON, user_id: int, values: list[str] | None
    ) -> None:
        emu = self._emu()
        message_id = message["id"]
        author = int((message.get("author") or {}).get("id") or 0)
        if author not in (emu.bot.id, emu.application_id):
            raise InteractionRefused(f"message {message_id} is not the app's: no interaction")
        if component.get("disabled"):
            raise InteractionRefused(f"component {component.get('custom_id')!r} is disabled")
        if int(message.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL:
            meta = message.get("interaction_metadata") or {}
            owner = int((meta.get("user") or {}).get("id") or 0)
            if owner != user_id:
                raise InteractionRefused(
                    f"message {message_id} is ephemeral: only user {owner} sees it"
                )
        channel = emu.channel(int(message["channel_id"]))
        if channel.guild_id is None:
            if user_id not in channel.recipient_ids:
                raise InteractionRefused(f"user {user_id} is not in that DM")
        else:
            if user_id not in emu.guild(channel.guild_id).members:
                raise InteractionRefused(f"user {user_id} is not a member of that server")
            if not emu.permissions_for(channel.id, user_id) & Permissions.VIEW_CHANNEL:
                raise InteractionRefused(f"user {user_id} cannot see channel {channel.id}")
        if component["type"] in SELECT_TYPES:
            chosen = list(values or [])
            low, high = int(component.get("min_values", 1)), int(component.get("max_values", 1))
            if not low <= len(chosen) <= high:
                raise InteractionRefused(f"pick {low} to {high} options, not {len(chosen)}")
            if component["type"] == 3:
                offered = {str(o.get("value")) for o in component.get("options") or []}
                strange = [v for v in chosen if v not in offered]
                if strange:
                    raise InteractionRefused(f"{strange} are not options of that menu")

    async def forged_click(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        custom_id: str,
        *,
        component_type: int = 2,
        values: list[str] | None = None,
        message: JSON | None = None,
    ) -> Interaction:
        """A component interaction Discord would refuse (a custom_id on no message the member
        can click, values that are no options): only for proving the bot's own checks hold."""
        data: JSON = {"custom_id": custom_id, "component_type": component_type}
        if component_type != 2:
            data["values"] = list(values or [])
        emu = self._emu()
        if message is None:
            # A stand-in: a message of the bot's that carries the forged component (discord.py
            # only dispatches a click whose component is on the interaction's message).
            component: JSON = {"type": component_type, "custom_id": custom_id}
            if component_type == 2:
                component.update(style=1, label="Forged")
            elif component_type == 3:
                component["options"] = [{"label": v, "value": v} for v in values or ["-"]]
            channel = emu.channel(channel_id)
            message = emu.build_message(
                channel,
                emu.bot,
                {"content": "", "components": [{"type": 1, "components": [component]}]},
            )
            emu.store_message(channel, message, hidden=True)  # found, but in no channel list
        return self._new_interaction(3, guild_id, channel_id, user_id, data, message=message)

    async def submit_modal(
        self,
        from_ix: Interaction,
        custom_id: str | None,
        values: dict[str, Any],
        user_id: int | None = None,
    ) -> Interaction:
        modal = from_ix.modal
        if modal is None:
            raise LookupError("that interaction was not answered with a modal")
        custom_id = custom_id or modal["custom_id"]

        def answer(comp: JSON) -> JSON:
            item: JSON = {"type": comp["type"], "custom_id": comp.get("custom_id")}
            if "id" in comp:
                item["id"] = comp["id"]
            value = values.get(str(comp.get("custom_id")), "")
            if comp["type"] == 4:
                item["value"] = str(value)
            else:
                item["values"] = list(value) if isinstance(value, list | tuple) else [value]
            return item

        components: list[JSON] = []
        for top in modal.get("components") or []:
            if top.get("type") == 1:
                components.append({"type": 1, "components": [answer(c) for c in top["components"]]})
            elif top.get("type") == 18:
                components.append(
                    {"type": 18, "id": top.get("id"), "component": answer(top["component"])}
                )
        data: JSON = {"custom_id": custom_id, "components": components}
        return self._new_interaction(
            5,
            from_ix.guild_id,
            from_ix.channel_id,
            user_id or from_ix.user_id,
            data,
            message=from_ix.message,
        )
