"""Who may use an application command, decided as Discord decides before any interaction is sent.

A member who may not use a command does not see it in the client, so Discord never sends the
bot that interaction. The rules modelled:

* the command's `contexts` (or the legacy `dm_permission: false`): a guild-only command is not
  offered in DMs;
* a server admin's overwrites from Server Settings > Integrations (`set_command_permissions`):
  for the command itself, else for the whole app. A channel overwrite can take the command away
  in that channel; a member overwrite wins over role overwrites, and any allowed role wins over
  denied ones (@everyone, id = guild id, counts below every other role). An allow wins over
  `default_member_permissions`; that is why a bot must check permissions in code as well;
* otherwise `default_member_permissions`: the member needs every one of its bits in the channel
  ("0" means admins only).

Administrators (and the owner) may use every command.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .permissions import ALL_PERMISSIONS, Permissions

ROLE, USER, CHANNEL = 1, 2, 3
CONTEXT_GUILD, CONTEXT_BOT_DM, CONTEXT_PRIVATE_CHANNEL = 0, 1, 2


@dataclass(frozen=True)
class CommandOverwrite:
    """One line of a server's command permissions: a role, member or channel allowed or not."""

    id: int
    type: int  # ROLE, USER or CHANNEL
    permission: bool

    def to_dict(self) -> dict[str, object]:
        return {"id": str(self.id), "type": self.type, "permission": self.permission}


def context_allowed(command: dict[str, object], context: int) -> bool:
    contexts = command.get("contexts")
    if isinstance(contexts, list) and contexts:
        return context in [int(c) for c in contexts]
    return context == CONTEXT_GUILD or command.get("dm_permission") is not False


def _decide(
    overwrites: Iterable[CommandOverwrite],
    *,
    guild_id: int,
    channel_id: int,
    user_id: int,
    role_ids: Iterable[int],
) -> bool | None:
    """What one set of overwrites says: allowed, refused, or nothing (None)."""
    lines = list(overwrites)
    all_channels = guild_id - 1  # Discord's id for "every channel"
    channel = {o.id: o.permission for o in lines if o.type == CHANNEL}
    in_channel = channel.get(channel_id, channel.get(all_channels))
    if in_channel is False:
        return False
    for line in lines:
        if line.type == USER and line.id == user_id:
            return line.permission
    roles = {o.id: o.permission for o in lines if o.type == ROLE}
    member_roles = [roles[r] for r in role_ids if r in roles and r != guild_id]
    if member_roles:
        return any(member_roles)
    if guild_id in roles:
        return roles[guild_id]
    return None


def may_use(
    command: dict[str, object],
    *,
    guild_id: int,
    channel_id: int,
    user_id: int,
    role_ids: Iterable[int],
    permissions: int,
    command_overwrites: Iterable[CommandOverwrite] = (),
    app_overwrites: Iterable[CommandOverwrite] = (),
) -> bool:
    """Whether Discord offers this guild command to this member in this channel."""
    if permissions == ALL_PERMISSIONS or permissions & Permissions.ADMINISTRATOR:
        return True
    needed_here = Permissions.VIEW_CHANNEL | Permissions.USE_APPLICATION_COMMANDS
    if permissions & needed_here != needed_here:  # no slash commands where one cannot use them
        return False
    roles = list(role_ids)
    for overwrites in (command_overwrites, app_overwrites):
        decided = _decide(
            overwrites, guild_id=guild_id, channel_id=channel_id, user_id=user_id, role_ids=roles
        )
        if decided is not None:
            return decided
    needed = command.get("default_member_permissions")
    if needed is None:
        return True
    bits = int(str(needed))
    return bits != 0 and permissions & bits == bits
