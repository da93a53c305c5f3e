"""In-memory entities (users, guilds, roles, channels, members) and their Discord JSON shapes."""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from typing import Any

from .permissions import Overwrite
from .snowflake import snowflake_time_ms

JSON = dict[str, Any]


class ChannelType(enum.IntEnum):
    TEXT = 0
    DM = 1
    VOICE = 2
    CATEGORY = 4
    NEWS = 5
    ANNOUNCEMENT = 5
    NEWS_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    STAGE = 13
    FORUM = 15


THREAD_TYPES = {ChannelType.NEWS_THREAD, ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD}
MESSAGEABLE_TYPES = {
    ChannelType.TEXT,
    ChannelType.DM,
    ChannelType.VOICE,
    ChannelType.NEWS,
    ChannelType.STAGE,
    *THREAD_TYPES,
}


def iso(ts: datetime.datetime | None = None) -> str:
    return (ts or datetime.datetime.now(datetime.UTC)).isoformat()


def snowflake_iso(snowflake: int) -> str:
    ms = snowflake_time_ms(snowflake)
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat()


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    dms_open: bool = True

    def to_dict(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    mentionable: bool = False
    color: int = 0
    hoist: bool = False
    managed_bot_id: int | None = None

    def to_dict(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed_bot_id is not None,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.managed_bot_id is not None:
            data["tags"] = {"bot_id": str(self.managed_bot_id)}
        return data


@dataclass
class Member:
    guild_id: int
    user: User
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso)

    def to_dict(self) -> JSON:
        return {
            "user": self.user.to_dict(),
            "nick": self.nick,
            "avatar": None,
            "roles": [str(r) for r in self.role_ids],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }


@dataclass
class Channel:
    id: int
    type: ChannelType
    name: str
    guild_id: int | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    bitrate: int = 64000
    user_limit: int = 0
    overwrites: list[Overwrite] = field(default_factory=list)
    recipient_ids: list[int] = field(default_factory=list)
    owner_id: int | None = None  # threads
    last_message_id: int | None = None
    message_count: int = 0
    archived: bool = False
    archive_timestamp: str | None = None  # when it was last archived (or created)
    auto_archive_duration: int = 1440
    locked: bool = False  # threads: only members with Manage Threads may post or unarchive
    flags: int = 0  # CHANNEL_FLAG_REQUIRE_TAG on a forum
    available_tags: list[JSON] = field(default_factory=list)  # forums
    applied_tags: list[int] = field(default_factory=list)  # forum posts
    rate_limit_per_user: int = 0  # slowmode, seconds

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    def to_dict(self, users: dict[int, User] | None = None) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "type": int(self.type),
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "flags": self.flags,
        }
        if self.type == ChannelType.DM:
            recipients = [users[u].to_dict() for u in self.recipient_ids if users and u in users]
            data["recipients"] = recipients
            return data
        data.update(
            {
                "guild_id": str(self.guild_id),
                "name": self.name,
                "parent_id": str(self.parent_id) if self.parent_id else None,
                "rate_limit_per_user": self.rate_limit_per_user,
            }
        )
        if self.is_thread:
            data.update(
                {
                    "owner_id": str(self.owner_id),
                    "message_count": self.message_count,
                    "total_message_sent": self.message_count,
                    "member_count": 1,
                    "thread_metadata": {
                        "archived": self.archived,
                        "auto_archive_duration": self.auto_archive_duration,
                        "archive_timestamp": self.archive_timestamp or snowflake_iso(self.id),
                        "locked": self.locked,
                        "create_timestamp": snowflake_iso(self.id),
                    },
                    "applied_tags": [str(t) for t in self.applied_tags],
                }
            )
            return data
        data.update(
            {
                "position": self.position,
                "permission_overwrites": [ow.to_dict() for ow in self.overwrites],
                "nsfw": self.nsfw,
            }
        )
        if self.type in (ChannelType.TEXT, ChannelType.NEWS, ChannelType.FORUM):
            data["topic"] = self.topic
            data["default_auto_archive_duration"] = 1440
        if self.type in (ChannelType.VOICE, ChannelType.STAGE):
            data.update(
                {
                    "bitrate": self.bitrate,
                    "user_limit": self.user_limit,
                    "rtc_region": None,
                    "video_quality_mode": 1,
                }
            )
        if self.type == ChannelType.FORUM:
            data.update(
                {
                    "available_tags": self.available_tags,
                    "default_reaction_emoji": None,
                    "default_thread_rate_limit_per_user": 0,
                    "default_sort_order": None,
                    "default_forum_layout": 0,
                }
            )
        return data


@dataclass
class VoiceState:
    guild_id: int
    user_id: int
    channel_id: int | None
    session_id: str
    self_mute: bool = False
    self_deaf: bool = False
    suppress: bool = False
    """In a stage channel: in the audience (True) or a speaker (False)."""
    request_to_speak_timestamp: str | None = None

    def to_dict(self, member: Member | None = None) -> JSON:
        data: JSON = {
            "guild_id": str(self.guild_id),
            "channel_id": str(self.channel_id) if self.channel_id else None,
            "user_id": str(self.user_id),
            "session_id": self.session_id,
            "deaf": False,
            "mute": False,
            "self_deaf": self.self_deaf,
            "self_mute": self.self_mute,
            "self_video": False,
            "suppress": self.suppress,
            "request_to_speak_timestamp": self.request_to_speak_timestamp,
        }
        if member is not None:
            data["member"] = member.to_dict()
        return data


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)
    voice_states: dict[int, VoiceState] = field(default_factory=dict)
    bot_role_id: int = 0

    def summary(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "features": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "nsfw_level": 0,
            "roles": [r.to_dict() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
        }


@dataclass
class Webhook:
    id: int
    token: str
    channel_id: int
    guild_id: int | None
    name: str
    local_url: str = ""

    @property
    def url(self) -> str:
        """Production form; discord.py's Webhook.from_url accepts it and still hits Route.BASE."""
        return f"https://discord.com/api/webhooks/{self.id}/{self.token}"

    def to_dict(self) -> JSON:
        return {
            "id": str(self.id),
            "type": 1,
            "token": self.token,
            "channel_id": str(self.channel_id),
            "guild_id": str(self.guild_id) if self.guild_id else None,
            "name": self.name,
            "avatar": None,
            "application_id": None,
        }
