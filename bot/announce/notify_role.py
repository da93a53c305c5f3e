"""Which role a feed may mention and /notify may hand out: a role that does nothing but mention.

/notify gives the role a feed here mentions to any member who asks (and takes it back), with the
bot's own Manage Roles. A role that grants a permission @everyone lacks, or that any channel
treats differently (opens a members-only room, closes a channel as a Muted role does), would be
handed to whoever asks: a member with Manage Server but not Manage Roles named the Admins role in
/feed add and every member took Admins with /notify on. So /feed add takes only a role that just
mentions (and one the admin could mention themselves), and /notify checks again at each use: a
role config.toml names, or one given permissions since, is not handed out or taken back.
"""

from __future__ import annotations

from collections.abc import Iterable

import discord

from bot import outgoing

SHOWN_PERMISSIONS = 3  # permissions named in the sentence, at most


def extra_permissions(role: int, everyone: int) -> int:
    """The permission bits `role` grants beyond what @everyone already has."""
    return role & ~everyone


DISCORD_NAMES = {  # discord.py's flag names that Discord's settings call otherwise
    "manage_guild": "Manage Server",
    "read_messages": "View Channels",
    "moderate_members": "Timeout Members",
    "mention_everyone": "Mention @everyone, @here and All Roles",
}


def _permission_names(bits: int) -> list[str]:
    return [
        DISCORD_NAMES.get(name, name.replace("_", " ").title())
        for name, on in discord.Permissions(bits)
        if on
    ]


def _shown(role: discord.Role) -> str:
    return outgoing.escape(outgoing.clip(f"@{role.name}", 100)) or "that role"


def _channels_overwriting(role: discord.Role, channels: Iterable[discord.abc.GuildChannel]) -> int:
    return sum(1 for c in channels if not c.overwrites_for(role).is_empty())


def why_not_handed_out(role: discord.Role) -> str | None:
    """Why /notify must not give `role` to (or take it from) any member who asks, or None."""
    shown = _shown(role)
    if role.is_default() or role.managed:
        return f"{shown} is not a role I can hand out: pick a role made for episode mentions."
    extra = extra_permissions(role.permissions.value, role.guild.default_role.permissions.value)
    if extra:
        names = _permission_names(extra)
        listed = ", ".join(names[:SHOWN_PERMISSIONS]) + (
            ", …" if len(names) > SHOWN_PERMISSIONS else ""
        )
        return (
            f"{shown} grants permissions of its own ({listed}), so anyone could take them with "
            "/notify: give the feed a role that only mentions."
        )
    if _channels_overwriting(role, role.guild.channels):
        return (
            f"{shown} opens or closes channels of its own, so anyone could change their access "
            "with /notify: give the feed a role that only mentions."
        )
    return None


def why_not_mentioned(role: discord.Role, *, may_mention_everyone: bool) -> str | None:
    """Why a member may not have a feed mention `role` (/feed add), or None: a role that does
    more than mention, or one they could not mention themselves."""
    if reason := why_not_handed_out(role):
        return reason
    if not role.mentionable and not may_mention_everyone:
        return (
            f"You can't mention {_shown(role)} yourself, so a feed can't either: make it "
            "mentionable, or have someone who may mention every role add the feed."
        )
    return None
