"""All emulator state, in memory: entities, messages, commands, and the helpers that change them."""

from __future__ import annotations

import asyncio
import inspect
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import (
    ApiError,
    cannot_dm,
    cannot_send_here,
    missing_access,
    missing_permissions,
    unknown_channel,
    unknown_guild,
    unknown_message,
    unknown_role,
    unknown_user,
)
from .mentions import Pings, pings
from .models import (
    JSON,
    MESSAGEABLE_TYPES,
    Channel,
    ChannelType,
    Guild,
    Member,
    Role,
    User,
    VoiceState,
    Webhook,
    iso,
    snowflake_iso,
)
from .permissions import (
    ALL_PERMISSIONS,
    DEFAULT_BOT,
    DEFAULT_EVERYONE,
    Overwrite,
    Permissions,
    apply_overwrites,
    base_permissions,
)
from .snowflake import GUILD_SHARD_SPREAD, SnowflakeGenerator

NONCE_WINDOW_SECONDS = 300.0
MESSAGE_FLAG_CROSSPOSTED = 1 << 0
MESSAGE_FLAG_EPHEMERAL = 1 << 6
MESSAGE_FLAG_LOADING = 1 << 7
CHANNEL_FLAG_REQUIRE_TAG = 1 << 4

EventCallback = Callable[[str, JSON], Any]


@dataclass
class RecordedRequest:
    method: str
    path: str
    json: Any
    status: int = 0
    query: dict[str, str] = field(default_factory=dict)
    route: str = ""
    at: float = field(default_factory=time.monotonic)


@dataclass
class StoredFile:
    filename: str
    data: bytes
    content_type: str


class State:
    def __init__(self, token: str, bot_name: str = "Narrator") -> None:
        self.token = token
        self.ids = SnowflakeGenerator()
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.webhooks: dict[int, Webhook] = {}
        self.bot = self.add_user(bot_name, bot=True)
        self.application_id = self.bot.id
        self.owner = self.add_user("owner")
        self.requests: list[RecordedRequest] = []
        self.files: dict[int, StoredFile] = {}
        self.global_commands: dict[int, JSON] = {}
        self.guild_commands: dict[int, dict[int, JSON]] = {}
        self.command_put_count = 0
        self._messages: dict[int, dict[int, JSON]] = {}  # channel id -> message id -> message
        self._message_channel: dict[int, int] = {}
        self._hidden_messages: dict[int, JSON] = {}  # ephemeral: not visible in the channel
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._last_sent: dict[tuple[int, int], float] = {}  # (channel, author) -> when (slowmode)
        self._dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.pings: dict[int, Pings] = {}  # message id -> who it notified (see emulator.mentions)
        self._listeners: list[EventCallback] = []
        self._tasks: set[asyncio.Future[Any]] = set()
        self.base_url = ""

    # -- hooks the server fills in ---------------------------------------------------------
    def dispatch(self, event: str, data: JSON, guild_id: int | None = None) -> None:
        """Send a gateway dispatch to every connected session (overridden by the emulator)."""

    def on_event(self, callback: EventCallback) -> None:
        self._listeners.append(callback)

    def emit(self, kind: str, payload: JSON) -> None:
        """Tell `on_event` listeners about an observable bot action; async listeners run as tasks."""
        for callback in list(self._listeners):
            result = callback(kind, payload)
            if inspect.isawaitable(result):
                self.spawn(result)

    def spawn(self, awaitable: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- entities ------------------------------------------------------------------------
    def add_user(self, username: str, *, bot: bool = False, dms_open: bool = True) -> User:
        user = User(self.ids.next(), username, bot=bot, dms_open=dms_open)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, *, owner_id: int | None = None) -> Guild:
        guild_id = self.ids.next(
            residue=(len(self.guilds) % GUILD_SHARD_SPREAD, GUILD_SHARD_SPREAD)
        )
        guild = Guild(guild_id, name, owner_id or self.owner.id)
        guild.roles[guild_id] = Role(
            guild_id, guild_id, "@everyone", permissions=int(DEFAULT_EVERYONE), position=0
        )
        bot_role = Role(
            self.ids.next(),
            guild_id,
            self.bot.username,
            permissions=int(DEFAULT_BOT),
            position=1,
            managed_bot_id=self.bot.id,
        )
        guild.roles[bot_role.id] = bot_role
        guild.bot_role_id = bot_role.id
        self.guilds[guild_id] = guild
        guild.members[self.bot.id] = Member(guild_id, self.bot, [bot_role.id])
        guild.members[guild.owner_id] = Member(guild_id, self.users[guild.owner_id])
        self.dispatch("GUILD_CREATE", self.guild_create_payload(guild_id), guild_id)
        return guild

    def guild(self, guild_id: int) -> Guild:
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise unknown_guild() from None

    def add_channel(
        self,
        guild_id: int,
        name: str,
        type: ChannelType = ChannelType.TEXT,
        *,
        parent_id: int | None = None,
        topic: str | None = None,
        bitrate: int = 64000,
        user_limit: int = 0,
    ) -> Channel:
        guild = self.guild(guild_id)
        channel = Channel(
            self.ids.next(),
            ChannelType(type),
            name,
            guild_id=guild_id,
            position=len(guild.channel_ids),
            parent_id=parent_id,
            topic=topic,
            bitrate=bitrate,
            user_limit=user_limit,
        )
        self.channels[channel.id] = channel
        guild.channel_ids.append(channel.id)
        self._messages[channel.id] = {}
        self.dispatch("CHANNEL_CREATE", channel.to_dict(), guild_id)
        return channel

    def channel(self, channel_id: int) -> Channel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise unknown_channel() from None

    def add_role(
        self,
        guild_id: int,
        name: str,
        *,
        permissions: int = 0,
        mentionable: bool = False,
        color: int = 0,
        position: int | None = None,
    ) -> Role:
        """A new role sits just below the bot's role unless `position` says otherwise."""
        guild = self.guild(guild_id)
        bot_role = guild.roles[guild.bot_role_id]
        if position is None:
            position = bot_role.position
            for role in guild.roles.values():
                if role.position >= position and role.id != guild.id:
                    role.position += 1
        role = Role(self.ids.next(), guild_id, name, int(permissions), position, mentionable, color)
        guild.roles[role.id] = role
        self.dispatch(
            "GUILD_ROLE_CREATE", {"guild_id": str(guild_id), "role": role.to_dict()}, guild_id
        )
        return role

    def role(self, guild_id: int, role_id: int) -> Role:
        try:
            return self.guild(guild_id).roles[role_id]
        except KeyError:
            raise unknown_role() from None

    def add_member(self, guild_id: int, user_id: int, roles: list[int] | None = None) -> Member:
        guild = self.guild(guild_id)
        member = Member(guild_id, self.users[user_id], list(roles or []))
        guild.members[user_id] = member
        return member

    def _overwrite(self, channel_id: int, target_id: int) -> Overwrite:
        channel = self.channel(channel_id)
        for ow in channel.overwrites:
            if ow.id == target_id:
                return ow
        guild = self.guild(channel.guild_id or 0)
        kind = 0 if target_id in guild.roles else 1
        ow = Overwrite(target_id, kind)
        channel.overwrites.append(ow)
        return ow

    def deny(self, channel_id: int, target_id: int, permissions: int) -> None:
        ow = self._overwrite(channel_id, target_id)
        ow.deny |= int(permissions)
        ow.allow &= ~int(permissions)
        self._channel_updated(channel_id)

    def allow(self, channel_id: int, target_id: int, permissions: int) -> None:
        ow = self._overwrite(channel_id, target_id)
        ow.allow |= int(permissions)
        ow.deny &= ~int(permissions)
        self._channel_updated(channel_id)

    def _channel_updated(self, channel_id: int) -> None:
        """Discord tells connected clients about overwrite changes, so their caches stay true."""
        channel = self.channel(channel_id)
        self.dispatch("CHANNEL_UPDATE", channel.to_dict(), channel.guild_id)

    def add_webhook(self, channel_id: int, name: str = "Captain Hook") -> Webhook:
        channel = self.channel(channel_id)
        webhook = Webhook(
            self.ids.next(), secrets.token_urlsafe(51)[:68], channel_id, channel.guild_id, name
        )
        webhook.local_url = f"{self.base_url}/api/v10/webhooks/{webhook.id}/{webhook.token}"
        self.webhooks[webhook.id] = webhook
        return webhook

    # -- permissions -----------------------------------------------------------------------
    def permissions_for(
        self, channel_id: int | None, user_id: int, guild_id: int | None = None
    ) -> int:
        channel = self.channels.get(channel_id) if channel_id else None
        if channel is not None and channel.guild_id is None:
            return int(DEFAULT_EVERYONE)
        gid = channel.guild_id if channel else guild_id
        if gid is None:
            return 0
        guild = self.guild(gid)
        member = guild.members.get(user_id)
        if member is None:
            return 0
        base = base_permissions(
            is_owner=guild.owner_id == user_id,
            everyone_permissions=guild.roles[guild.id].permissions,
            role_permissions=(
                guild.roles[r].permissions for r in member.role_ids if r in guild.roles
            ),
        )
        if channel is None:
            return base
        source = (
            self.channels[channel.parent_id] if channel.is_thread and channel.parent_id else channel
        )
        overwrites = list(source.overwrites)
        if source.parent_id and source.parent_id in self.channels and not overwrites:
            overwrites = list(self.channels[source.parent_id].overwrites)  # synced with category
        return apply_overwrites(
            base,
            guild_id=guild.id,
            member_id=user_id,
            member_role_ids=member.role_ids,
            overwrites=overwrites,
        )

    def bot_permissions(self, channel_id: int) -> int:
        return self.permissions_for(channel_id, self.bot.id)

    def require(self, channel_id: int, *needed: int) -> None:
        perms = self.bot_permissions(channel_id)
        if perms == ALL_PERMISSIONS:
            return
        if not perms & Permissions.VIEW_CHANNEL:
            raise missing_access()
        for bit in needed:
            if not perms & bit:
                raise missing_permissions()

    def top_role_position(self, guild_id: int, user_id: int) -> int:
        guild = self.guild(guild_id)
        member = guild.members.get(user_id)
        if member is None:
            return -1
        return max(
            (guild.roles[r].position for r in member.role_ids if r in guild.roles), default=0
        )

    # -- voice -----------------------------------------------------------------------------
    def set_voice_state(
        self, guild_id: int, user_id: int, channel_id: int | None, *, session_id: str | None = None
    ) -> VoiceState:
        guild = self.guild(guild_id)
        if user_id not in guild.members:
            self.add_member(guild_id, user_id)
        state = VoiceState(guild_id, user_id, channel_id, session_id or secrets.token_hex(16))
        before = guild.voice_states.get(user_id)
        if before is not None and before.channel_id == channel_id:  # same stage: same role
            state.suppress = before.suppress
            state.request_to_speak_timestamp = before.request_to_speak_timestamp
        elif (joined := self.channels.get(channel_id or 0)) and joined.type == ChannelType.STAGE:
            state.suppress = True  # everyone joins a stage in the audience
        if channel_id is None:
            guild.voice_states.pop(user_id, None)
        else:
            guild.voice_states[user_id] = state
        self.dispatch("VOICE_STATE_UPDATE", state.to_dict(guild.members[user_id]), guild_id)
        voice = getattr(self, "voice", None)  # emulator.voice hook: humans are DAVE listeners
        if voice is not None and user_id != self.bot.id:
            voice.on_member_voice_state(guild_id, user_id, channel_id)
        return state

    # -- gateway payloads --------------------------------------------------------------------
    def guild_create_payload(self, guild_id: int) -> JSON:
        guild = self.guild(guild_id)
        channels = [self.channels[c] for c in guild.channel_ids]
        member_ids = {self.bot.id, *guild.voice_states}
        scheduled = getattr(self, "scheduled", None)  # emulator.scheduled_events hook
        events, stages = scheduled.guild_create_lists(guild_id) if scheduled else ([], [])
        data = guild.summary()
        data.update(
            {
                "unavailable": False,
                "joined_at": guild.members[self.bot.id].joined_at,
                "large": False,
                "member_count": len(guild.members),
                "channels": [c.to_dict() for c in channels if not c.is_thread],
                "threads": [c.to_dict() for c in channels if c.is_thread and not c.archived],
                "members": [guild.members[m].to_dict() for m in member_ids if m in guild.members],
                "voice_states": [
                    {k: v for k, v in vs.to_dict().items() if k != "guild_id"}
                    for vs in guild.voice_states.values()
                ],
                "presences": [],
                "stage_instances": stages,
                "guild_scheduled_events": events,
                "soundboard_sounds": [],
            }
        )
        return data

    # -- DMs -------------------------------------------------------------------------------
    def open_dm(self, user_id: int) -> Channel:
        if user_id not in self.users:
            raise unknown_user()
        channel_id = self._dm_channels.get(user_id)
        if channel_id is not None:
            return self.channels[channel_id]
        channel = Channel(self.ids.next(), ChannelType.DM, "", recipient_ids=[user_id])
        self.channels[channel.id] = channel
        self._messages[channel.id] = {}
        self._dm_channels[user_id] = channel.id
        return channel

    def dms(self, user_id: int) -> list[JSON]:
        channel_id = self._dm_channels.get(user_id)
        return self.messages(channel_id) if channel_id else []

    # -- messages --------------------------------------------------------------------------
    def messages(self, channel_id: int) -> list[JSON]:
        return list(self._messages.get(channel_id, {}).values())

    def threads(self, channel_id: int) -> list[JSON]:
        """Threads (or forum posts) under a channel, each with `message`: its first message."""
        found = []
        for channel in self.channels.values():
            if channel.is_thread and channel.parent_id == channel_id:
                data = channel.to_dict()
                msgs = self.messages(channel.id)
                starter = (
                    self.find_message(channel.id) if channel.id in self._message_channel else None
                )
                data["message"] = starter or (msgs[0] if msgs else None)
                data["messages"] = msgs
                found.append(data)
        return found

    def find_message(self, message_id: int) -> JSON | None:
        channel_id = self._message_channel.get(message_id)
        if channel_id is not None:
            return self._messages[channel_id].get(message_id)
        return self._hidden_messages.get(message_id)

    def message(self, channel_id: int, message_id: int) -> JSON:
        msg = self._messages.get(channel_id, {}).get(message_id)
        if msg is None:
            hidden = self._hidden_messages.get(message_id)
            if hidden is not None and int(hidden["channel_id"]) == channel_id:
                return hidden
            raise unknown_message()
        return msg

    def check_can_send(self, channel: Channel, *, has_files: bool = False) -> None:
        if channel.type == ChannelType.DM:
            recipient = self.users[channel.recipient_ids[0]]
            if not recipient.dms_open:
                raise cannot_dm()
            return
        if channel.type not in MESSAGEABLE_TYPES:
            raise cannot_send_here()
        needed = (
            Permissions.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permissions.SEND_MESSAGES
        )
        self.require(channel.id, needed, *((Permissions.ATTACH_FILES,) if has_files else ()))
        if channel.is_thread and (channel.locked or channel.archived):
            moderator = self.bot_permissions(channel.id) & Permissions.MANAGE_THREADS
            if channel.locked and not moderator:
                if channel.archived:
                    raise ApiError(400, 50083, "Thread is archived")
                raise ApiError(400, 160005, "Thread is locked")
            if channel.archived:  # a message in an archived thread unarchives it
                self.archive_thread(channel.id, False)

    def slowmode_wait(self, channel: Channel, author_id: int) -> float:
        """Seconds `author_id` must still wait to post in `channel` (slowmode), else 0 and the
        post counts. Manage Messages or Manage Channel(s) exempt a member, bots included."""
        if not channel.rate_limit_per_user:
            return 0.0
        exempt = Permissions.MANAGE_MESSAGES | Permissions.MANAGE_CHANNELS
        if self.permissions_for(channel.id, author_id) & exempt:
            return 0.0
        now = time.monotonic()
        last = self._last_sent.get((channel.id, author_id))
        if last is not None and now - last < channel.rate_limit_per_user:
            return channel.rate_limit_per_user - (now - last)
        self._last_sent[(channel.id, author_id)] = now
        return 0.0

    def nonce_hit(self, channel_id: int, payload: JSON) -> JSON | None:
        nonce = payload.get("nonce")
        if nonce is None or not payload.get("enforce_nonce"):
            return None
        hit = self._nonces.get((channel_id, str(nonce)))
        if hit is None or time.monotonic() - hit[1] > NONCE_WINDOW_SECONDS:
            return None
        return self.find_message(hit[0])

    def build_message(
        self,
        channel: Channel,
        author: User,
        payload: JSON,
        *,
        attachments: list[JSON] | None = None,
        message_id: int | None = None,
        webhook_id: int | None = None,
        extra: JSON | None = None,
    ) -> JSON:
        content = payload.get("content") or ""
        embeds = [{"type": "rich", **e} for e in payload.get("embeds") or []]
        own = channel.guild_id and author.id == self.bot.id and webhook_id is None
        if own and not self.bot_permissions(channel.id) & Permissions.EMBED_LINKS:
            embeds = []  # Discord silently drops embeds without EMBED_LINKS
        msg_id = message_id or self.ids.next()
        pinged = self._record_pings(msg_id, content, payload)
        mentions = [self.users[u].to_dict() for u in sorted(pinged.users) if u in self.users]
        message: JSON = {
            "id": str(msg_id),
            "type": 0,
            "channel_id": str(channel.id),
            "author": author.to_dict(),
            "content": content,
            "timestamp": snowflake_iso(msg_id),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts", False)),
            "mention_everyone": pinged.everyone,
            "mentions": mentions,
            "mention_roles": [str(r) for r in sorted(pinged.roles)],
            "mention_channels": [],
            "attachments": attachments or [],
            "embeds": embeds,
            "components": payload.get("components") or [],
            "pinned": False,
            "flags": int(payload.get("flags") or 0),
        }
        if channel.guild_id:
            message["guild_id"] = str(channel.guild_id)
        if payload.get("nonce") is not None:
            message["nonce"] = payload["nonce"]
        if payload.get("message_reference"):
            message["message_reference"] = payload["message_reference"]
            message["type"] = 19
        if webhook_id is not None:
            message["webhook_id"] = str(webhook_id)
        if payload.get("poll"):
            message["poll"] = payload["poll"]
        if extra:
            message.update(extra)
        return message

    def store_message(self, channel: Channel, message: JSON, *, hidden: bool = False) -> JSON:
        msg_id = int(message["id"])
        if hidden:
            self._hidden_messages[msg_id] = message
            return message
        self._messages.setdefault(channel.id, {})[msg_id] = message
        self._message_channel[msg_id] = channel.id
        channel.last_message_id = msg_id
        if channel.is_thread:
            channel.message_count += 1
        nonce = message.get("nonce")
        if nonce is not None:
            self._nonces[(channel.id, str(nonce))] = (msg_id, time.monotonic())
        self.dispatch("MESSAGE_CREATE", message, channel.guild_id)
        kind = "dm" if channel.type == ChannelType.DM else "message_create"
        self.emit(kind, message)
        return message

    def _record_pings(self, message_id: int, content: str, payload: JSON) -> Pings:
        reference = payload.get("message_reference") or {}
        replied_id = reference.get("message_id") if isinstance(reference, dict) else None
        replied = self.find_message(int(replied_id)) if replied_id else None
        replied_user = int(replied["author"]["id"]) if replied else None
        pinged = pings(content, payload.get("allowed_mentions"), replied_user_id=replied_user)
        self.pings[message_id] = pinged
        return pinged

    def pinged(self, message_id: int) -> Pings:
        """Who the message notified when it was sent (nobody for an unknown id)."""
        return self.pings.get(message_id, Pings())

    def update_message(self, message: JSON, changes: JSON) -> JSON:
        if int(message.get("flags") or 0) & MESSAGE_FLAG_LOADING and changes.get("content"):
            # The first answer after "thinking" is the interaction's message: it notifies as a
            # new message would (an ordinary edit notifies no one).
            pinged = self._record_pings(int(message["id"]), changes["content"], changes)
            message["mention_everyone"] = pinged.everyone
            message["mentions"] = [
                self.users[u].to_dict() for u in sorted(pinged.users) if u in self.users
            ]
            message["mention_roles"] = [str(r) for r in sorted(pinged.roles)]
        for key in ("content", "embeds", "components", "flags", "attachments", "poll"):
            if key in changes and changes[key] is not None:
                message[key] = changes[key]
            elif key in changes and key in ("content",):
                message[key] = ""
        if "embeds" in changes and changes["embeds"] is not None:
            message["embeds"] = [{"type": "rich", **e} for e in changes["embeds"]]
        message["flags"] = int(message.get("flags") or 0) & ~MESSAGE_FLAG_LOADING
        message["edited_timestamp"] = iso()
        hidden = int(message["id"]) in self._hidden_messages
        if not hidden:
            self.dispatch("MESSAGE_UPDATE", message, _guild_of(message))
        self.emit("message_update", message)
        return message

    def delete_message(self, message: JSON) -> None:
        msg_id = int(message["id"])
        channel_id = int(message["channel_id"])
        self._hidden_messages.pop(msg_id, None)
        if self._messages.get(channel_id, {}).pop(msg_id, None) is not None:
            self._message_channel.pop(msg_id, None)
            data = {"id": str(msg_id), "channel_id": str(channel_id)}
            if message.get("guild_id"):
                data["guild_id"] = message["guild_id"]
            self.dispatch("MESSAGE_DELETE", data, _guild_of(message))
        self.emit("message_delete", message)

    # -- threads -----------------------------------------------------------------------------
    def create_thread(
        self,
        parent: Channel,
        name: str,
        *,
        owner_id: int,
        thread_id: int | None = None,
        type: ChannelType = ChannelType.PUBLIC_THREAD,
        auto_archive_duration: int = 1440,
    ) -> Channel:
        thread = Channel(
            thread_id or self.ids.next(),
            type,
            name,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=owner_id,
            auto_archive_duration=auto_archive_duration,
        )
        self.channels[thread.id] = thread
        self._messages[thread.id] = {}
        if parent.guild_id:
            self.guild(parent.guild_id).channel_ids.append(thread.id)
        data = thread.to_dict()
        data["newly_created"] = True
        self.dispatch("THREAD_CREATE", data, parent.guild_id)
        return thread

    def require_tag(self, forum_id: int, *names: str, required: bool = True) -> list[int]:
        """A forum whose posts must carry one of its tags (Discord answers 40067 without one);
        `names` are added to its tags. `required=False` is the admin turning the rule off."""
        forum = self.channel(forum_id)
        ids = []
        for name in names:
            tag_id = self.ids.next()
            ids.append(tag_id)
            forum.available_tags.append(
                {"id": str(tag_id), "name": name, "moderated": False}
                | {"emoji_id": None, "emoji_name": None}
            )
        if required:
            forum.flags |= CHANNEL_FLAG_REQUIRE_TAG
        else:
            forum.flags &= ~CHANNEL_FLAG_REQUIRE_TAG
        self._channel_updated(forum_id)
        return ids

    def convert_channel(self, channel_id: int, type: ChannelType) -> None:
        """An admin turns a text channel into an announcement channel or back (the only
        conversion Discord offers); CHANNEL_UPDATE carries the new type."""
        channel = self.channel(channel_id)
        kinds = {ChannelType.TEXT, ChannelType.NEWS}
        if channel.type not in kinds or type not in kinds:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        channel.type = ChannelType(type)
        self._channel_updated(channel_id)

    def set_slowmode(self, channel_id: int, seconds: int) -> None:
        self.channel(channel_id).rate_limit_per_user = seconds
        self._channel_updated(channel_id)

    def lock_thread(self, thread_id: int, locked: bool = True) -> None:
        """A moderator locks a thread: only Manage Threads may post there (or unarchive it)."""
        thread = self.channel(thread_id)
        thread.locked = locked
        self.dispatch("THREAD_UPDATE", thread.to_dict(), thread.guild_id)

    def delete_channel(self, channel_id: int, *, heard: bool = True) -> None:
        """Delete a channel; `heard=False` sends no CHANNEL_DELETE (a deletion the bot missed,
        as while it was down): its cache still holds the channel, Discord answers 404."""
        channel = self.channels.pop(channel_id)
        if channel.guild_id:
            self.guild(channel.guild_id).channel_ids.remove(channel_id)
        if heard:
            event = "THREAD_DELETE" if channel.is_thread else "CHANNEL_DELETE"
            self.dispatch(event, channel.to_dict(), channel.guild_id)

    def remove_bot(self, guild_id: int) -> None:
        """The bot is kicked (or the server removes it): GUILD_DELETE without `unavailable`; its
        REST calls on the server's channels answer 403 Missing Access from then on."""
        guild = self.guild(guild_id)
        self.dispatch("GUILD_DELETE", {"id": str(guild_id)}, guild_id)
        del guild.members[self.bot.id]

    def invite_bot(self, guild_id: int) -> None:
        """The bot is invited back: a fresh member with its managed role, and GUILD_CREATE
        without `unavailable` (a join, not an outage ending: discord.py's on_guild_join)."""
        guild = self.guild(guild_id)
        guild.members[self.bot.id] = Member(guild_id, self.bot, [guild.bot_role_id])
        payload = self.guild_create_payload(guild_id)
        del payload["unavailable"]
        self.dispatch("GUILD_CREATE", payload, guild_id)

    def archive_thread(self, thread_id: int, archived: bool = True) -> None:
        """What Discord does after `auto_archive_duration` without activity (or a moderator)."""
        thread = self.channel(thread_id)
        thread.archived = archived
        if archived:
            thread.archive_timestamp = datetime.now(UTC).isoformat()
        self.dispatch("THREAD_UPDATE", thread.to_dict(), thread.guild_id)


def _guild_of(message: JSON) -> int | None:
    gid = message.get("guild_id")
    return int(gid) if gid else None
