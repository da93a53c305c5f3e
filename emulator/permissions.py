"""Permission bits and Discord's channel permission computation (base, then overwrites)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Permissions(enum.IntFlag):
    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    PRIORITY_SPEAKER = 1 << 8
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    VIEW_GUILD_INSIGHTS = 1 << 19
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MUTE_MEMBERS = 1 << 22
    DEAFEN_MEMBERS = 1 << 23
    MOVE_MEMBERS = 1 << 24
    USE_VAD = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    MANAGE_GUILD_EXPRESSIONS = 1 << 30
    USE_APPLICATION_COMMANDS = 1 << 31
    REQUEST_TO_SPEAK = 1 << 32
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    USE_EXTERNAL_STICKERS = 1 << 37
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EMBEDDED_ACTIVITIES = 1 << 39
    MODERATE_MEMBERS = 1 << 40
    SEND_VOICE_MESSAGES = 1 << 46
    SEND_POLLS = 1 << 49


ALL_PERMISSIONS = (1 << 51) - 1

# What a fresh server grants @everyone (close to Discord's defaults).
DEFAULT_EVERYONE = (
    Permissions.VIEW_CHANNEL
    | Permissions.SEND_MESSAGES
    | Permissions.SEND_MESSAGES_IN_THREADS
    | Permissions.CREATE_PUBLIC_THREADS
    | Permissions.EMBED_LINKS
    | Permissions.ATTACH_FILES
    | Permissions.ADD_REACTIONS
    | Permissions.READ_MESSAGE_HISTORY
    | Permissions.USE_EXTERNAL_EMOJIS
    | Permissions.CONNECT
    | Permissions.SPEAK
    | Permissions.USE_VAD
    | Permissions.USE_APPLICATION_COMMANDS
    | Permissions.CHANGE_NICKNAME
    | Permissions.CREATE_INSTANT_INVITE
)

# The bot's managed role: what a typical invite link for this kind of bot asks for.
DEFAULT_BOT = (
    DEFAULT_EVERYONE
    | Permissions.MANAGE_ROLES
    | Permissions.MANAGE_MESSAGES
    | Permissions.MANAGE_THREADS
    | Permissions.MENTION_EVERYONE
)


@dataclass
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


def base_permissions(
    *, is_owner: bool, everyone_permissions: int, role_permissions: Iterable[int]
) -> int:
    if is_owner:
        return ALL_PERMISSIONS
    perms = everyone_permissions
    for value in role_permissions:
        perms |= value
    if perms & Permissions.ADMINISTRATOR:
        return ALL_PERMISSIONS
    return perms


def apply_overwrites(
    base: int,
    *,
    guild_id: int,
    member_id: int,
    member_role_ids: Iterable[int],
    overwrites: Iterable[Overwrite],
) -> int:
    """Discord's order: @everyone overwrite, then all role overwrites together, then the member's."""
    if base & Permissions.ADMINISTRATOR or base == ALL_PERMISSIONS:
        return ALL_PERMISSIONS
    by_id = {ow.id: ow for ow in overwrites}
    perms = base
    everyone = by_id.get(guild_id)
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for role_id in member_role_ids:
        ow = by_id.get(role_id)
        if ow is not None and ow.type == 0:
            allow |= ow.allow
            deny |= ow.deny
    perms = (perms & ~deny) | allow
    member = by_id.get(member_id)
    if member is not None and member.type == 1:
        perms = (perms & ~member.deny) | member.allow
    if not perms & Permissions.VIEW_CHANNEL:
        return 0
    return perms
