"""Guild scheduled events and stage instances: the records, Discord's rules for them, and the
test API a test uses to play the members and moderators (press "Interested", cancel, start).

Rules kept (Discord's documented ones; error codes as Discord sends them where known):
* name 1-100 characters, description at most 1,000, privacy level 2 (guild only) only;
* entity type 1 (stage: a stage channel), 2 (voice: a voice channel) or 3 (external: no
  channel, `entity_metadata.location` 1-100 and an end time required);
* the start time is in the future when set, and the end time after the start;
* status moves SCHEDULED -> ACTIVE | CANCELED and ACTIVE -> COMPLETED only; a finished event
  (completed or canceled) cannot be edited (180000);
* at most 100 uncompleted events per guild (30038);
* the bot needs MANAGE_EVENTS (or CREATE_EVENTS, for its own events); a voice event also
  CONNECT, a stage event also MANAGE_CHANNELS, MUTE_MEMBERS and MOVE_MEMBERS, in the channel;
* a stage instance needs a stage channel without one (150006) and the same three permissions;
  one started for a stage event makes the event ACTIVE, and closing it completes the event.
Gateway: GUILD_SCHEDULED_EVENT_CREATE/UPDATE/DELETE/USER_ADD/USER_REMOVE (intent 1 << 16),
STAGE_INSTANCE_CREATE/UPDATE/DELETE (GUILDS).
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .errors import ApiError, FormErrors, missing_permissions
from .models import JSON, ChannelType
from .permissions import ALL_PERMISSIONS, Permissions

if TYPE_CHECKING:
    from .state import State

CREATE_EVENTS = 1 << 44
GUILD_ONLY = 2
MAX_UNCOMPLETED = 100
STAGE_MODERATOR = Permissions.MANAGE_CHANNELS | Permissions.MUTE_MEMBERS | Permissions.MOVE_MEMBERS
_IMAGE_TYPES = ("data:image/png;base64,", "data:image/jpeg;base64,", "data:image/gif;base64,")
_IMAGE_TYPES += ("data:image/webp;base64,",)
MAX_IMAGE_BYTES = 10 * 1024 * 1024


class EventStatus(enum.IntEnum):
    SCHEDULED = 1
    ACTIVE = 2
    COMPLETED = 3
    CANCELED = 4


class EntityType(enum.IntEnum):
    STAGE_INSTANCE = 1
    VOICE = 2
    EXTERNAL = 3


_NEXT_STATUS = {
    EventStatus.SCHEDULED: {EventStatus.ACTIVE, EventStatus.CANCELED},
    EventStatus.ACTIVE: {EventStatus.COMPLETED},
}
_CHANNEL_FOR = {EntityType.STAGE_INSTANCE: ChannelType.STAGE, EntityType.VOICE: ChannelType.VOICE}


@dataclass
class ScheduledEvent:
    id: int
    guild_id: int
    creator_id: int
    name: str
    start: datetime
    entity_type: EntityType
    channel_id: int | None = None
    description: str | None = None
    end: datetime | None = None
    status: EventStatus = EventStatus.SCHEDULED
    location: str | None = None
    image: str | None = None
    """The image's hash, as Discord gives it (the bytes are in `ScheduledEvents.images`)."""
    entity_id: int | None = None
    interested: list[int] = field(default_factory=list)
    """User ids, in the order they pressed "Interested"."""

    @property
    def finished(self) -> bool:
        return self.status in (EventStatus.COMPLETED, EventStatus.CANCELED)

    def to_dict(self, creator: JSON | None = None, *, with_user_count: bool = False) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "channel_id": str(self.channel_id) if self.channel_id else None,
            "creator_id": str(self.creator_id),
            "name": self.name,
            "description": self.description,
            "scheduled_start_time": self.start.isoformat(),
            "scheduled_end_time": self.end.isoformat() if self.end else None,
            "privacy_level": GUILD_ONLY,
            "status": int(self.status),
            "entity_type": int(self.entity_type),
            "entity_id": str(self.entity_id) if self.entity_id else None,
            "entity_metadata": {"location": self.location} if self.location else None,
            "image": self.image,
            "recurrence_rule": None,
        }
        if creator is not None:
            data["creator"] = creator
        if with_user_count:
            data["user_count"] = len(self.interested)
        return data


@dataclass
class StageInstance:
    id: int
    guild_id: int
    channel_id: int
    topic: str
    event_id: int | None = None

    def to_dict(self) -> JSON:
        return {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "channel_id": str(self.channel_id),
            "topic": self.topic,
            "privacy_level": GUILD_ONLY,
            "discoverable_disabled": True,
            "guild_scheduled_event_id": str(self.event_id) if self.event_id else None,
        }


def unknown_event() -> ApiError:
    return ApiError(404, 10070, "Unknown Guild Scheduled Event")


def unknown_stage_instance() -> ApiError:
    return ApiError(404, 10067, "Unknown Stage Instance")


def _parse_time(value: Any, path: str, errors: FormErrors) -> datetime | None:
    if not isinstance(value, str):
        errors.add([path], "DATE_TIME_TYPE_PARSE", "Could not parse the date-time.")
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        errors.add([path], "DATE_TIME_TYPE_PARSE", f"Could not parse {value[:40]}.")
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class ScheduledEvents:
    """Every guild's scheduled events and every stage instance of one emulator."""

    def __init__(self, emu: State) -> None:
        self.emu = emu
        self.events: dict[int, ScheduledEvent] = {}
        self.stages: dict[int, StageInstance] = {}  # channel id -> its open stage
        self.images: dict[str, bytes] = {}

    # -- reading -----------------------------------------------------------------------------
    def in_guild(self, guild_id: int) -> list[ScheduledEvent]:
        return [e for e in self.events.values() if e.guild_id == guild_id]

    def event(self, guild_id: int, event_id: int) -> ScheduledEvent:
        found = self.events.get(event_id)
        if found is None or found.guild_id != guild_id:
            raise unknown_event()
        return found

    def payload(self, event: ScheduledEvent, *, with_user_count: bool = False) -> JSON:
        creator = self.emu.users.get(event.creator_id)
        return event.to_dict(
            creator.to_dict() if creator else None, with_user_count=with_user_count
        )

    def guild_create_lists(self, guild_id: int) -> tuple[list[JSON], list[JSON]]:
        """(guild_scheduled_events, stage_instances) for a GUILD_CREATE."""
        events = [self.payload(e, with_user_count=True) for e in self.in_guild(guild_id)]
        stages = [s.to_dict() for s in self.stages.values() if s.guild_id == guild_id]
        return events, stages

    # -- the bot's requests ---------------------------------------------------------------
    def create(self, guild_id: int, payload: JSON) -> ScheduledEvent:
        self.emu.guild(guild_id)
        errors = FormErrors()
        kind = self._entity_type(payload.get("entity_type"), errors)
        name = payload.get("name")
        if name is None:
            errors.required(["name"])
        elif not isinstance(name, str) or not 1 <= len(name) <= 100:
            errors.length_range(["name"], 1, 100)
        self._check_common(payload, errors)
        start = _parse_time(payload.get("scheduled_start_time"), "scheduled_start_time", errors)
        end = None
        if payload.get("scheduled_end_time") is not None:
            end = _parse_time(payload["scheduled_end_time"], "scheduled_end_time", errors)
        errors.raise_if_any()
        assert kind is not None and start is not None and isinstance(name, str)
        channel_id, location = self._entity(guild_id, kind, payload, end, errors)
        self._check_times(start, end, errors, require_future=True)
        errors.raise_if_any()
        self._require(guild_id, channel_id, kind, own=True)
        uncompleted = [e for e in self.in_guild(guild_id) if not e.finished]
        if len(uncompleted) >= MAX_UNCOMPLETED:
            raise ApiError(
                400, 30038, "Maximum number of uncompleted guild scheduled events reached (100)"
            )
        event = ScheduledEvent(
            id=self.emu.ids.next(),
            guild_id=guild_id,
            creator_id=self.emu.bot.id,
            name=name,
            start=start,
            entity_type=kind,
            channel_id=channel_id,
            description=payload.get("description") or None,
            end=end,
            location=location,
            image=self._image(payload.get("image")),
        )
        self.events[event.id] = event
        self.emu.dispatch("GUILD_SCHEDULED_EVENT_CREATE", self.payload(event), guild_id)
        self.emu.emit("scheduled_event_create", self.payload(event))
        return event

    def modify(self, guild_id: int, event_id: int, payload: JSON) -> ScheduledEvent:
        event = self.event(guild_id, event_id)
        self._require(
            guild_id, event.channel_id, event.entity_type, own=event.creator_id == self.emu.bot.id
        )
        if event.finished:
            raise ApiError(400, 180000, "Cannot update a finished event")
        errors = FormErrors()
        if "name" in payload and (
            not isinstance(payload["name"], str) or not 1 <= len(payload["name"]) <= 100
        ):
            errors.length_range(["name"], 1, 100)
        self._check_common(payload, errors)
        kind = event.entity_type
        if "entity_type" in payload:
            kind = self._entity_type(payload["entity_type"], errors) or kind
        start, end = event.start, event.end
        if "scheduled_start_time" in payload:
            start = _parse_time(payload["scheduled_start_time"], "scheduled_start_time", errors)
        if "scheduled_end_time" in payload:
            end = (
                None
                if payload["scheduled_end_time"] is None
                else _parse_time(payload["scheduled_end_time"], "scheduled_end_time", errors)
            )
        status = event.status
        if "status" in payload:
            try:
                status = EventStatus(payload["status"])
            except ValueError:
                errors.add(["status"], "ENUM_TYPE_COERCE", "Value is not a valid enum value.")
        errors.raise_if_any()
        assert start is not None
        if status != event.status and status not in _NEXT_STATUS.get(event.status, set()):
            errors.add(
                ["status"],
                "GUILD_SCHEDULED_EVENT_INVALID_STATUS_TRANSITION",
                f"Cannot change the status from {event.status.name} to {status.name}.",
            )
        merged = {"channel_id": event.channel_id, **payload}
        if kind == EntityType.EXTERNAL and "entity_metadata" not in payload and event.location:
            merged["entity_metadata"] = {"location": event.location}
        channel_id, location = self._entity(guild_id, kind, merged, end, errors)
        if "scheduled_start_time" in payload:
            self._check_times(start, end, errors, require_future=status == EventStatus.SCHEDULED)
        elif end is not None and end <= start:
            self._check_times(start, end, errors, require_future=False)
        errors.raise_if_any()
        if channel_id != event.channel_id or kind != event.entity_type:
            self._require(guild_id, channel_id, kind, own=event.creator_id == self.emu.bot.id)
        event.name = payload.get("name", event.name)
        if "description" in payload:
            event.description = payload["description"] or None
        if "image" in payload:
            event.image = self._image(payload["image"])
        event.entity_type, event.channel_id, event.location = kind, channel_id, location
        event.start, event.end = start, end
        self._set_status(event, status)
        return event

    def delete(self, guild_id: int, event_id: int) -> None:
        event = self.event(guild_id, event_id)
        self._require(
            guild_id, event.channel_id, event.entity_type, own=event.creator_id == self.emu.bot.id
        )
        self.remove(event_id)

    def users(self, guild_id: int, event_id: int, query: dict[str, str]) -> list[JSON]:
        event = self.event(guild_id, event_id)
        limit = int(query.get("limit", 100))
        if not 1 <= limit <= 100:
            errors = FormErrors()
            errors.add(["limit"], "NUMBER_TYPE_MAX", "Must be between 1 and 100.")
            errors.raise_if_any()
        ids = sorted(event.interested)
        if "before" in query:
            ids = [i for i in ids if i < int(query["before"])][-limit:]
        else:
            ids = [i for i in ids if i > int(query.get("after", 0))][:limit]
        with_member = query.get("with_member", "false").lower() in ("true", "1")
        guild = self.emu.guild(guild_id)
        result: list[JSON] = []
        for user_id in ids:
            entry: JSON = {
                "guild_scheduled_event_id": str(event.id),
                "user": self.emu.users[user_id].to_dict(),
            }
            if with_member and user_id in guild.members:
                member = guild.members[user_id].to_dict()
                member.pop("user", None)
                entry["member"] = member
            result.append(entry)
        return result

    def open_stage(self, payload: JSON) -> StageInstance:
        errors = FormErrors()
        topic = payload.get("topic")
        if not isinstance(topic, str) or not 1 <= len(topic) <= 120:
            errors.length_range(["topic"], 1, 120)
        if payload.get("privacy_level", GUILD_ONLY) != GUILD_ONLY:
            errors.add(["privacy_level"], "ENUM_TYPE_COERCE", "Value is not a valid enum value.")
        try:
            channel = self.emu.channel(int(payload.get("channel_id") or 0))
        except (TypeError, ValueError):
            errors.required(["channel_id"])
            errors.raise_if_any()
            raise AssertionError("unreachable") from None
        errors.raise_if_any()
        assert isinstance(topic, str) and channel.guild_id is not None
        if channel.type != ChannelType.STAGE:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        self._require_in(channel.id, STAGE_MODERATOR)
        if channel.id in self.stages:
            raise ApiError(400, 150006, "Stage already open")
        event: ScheduledEvent | None = None
        if payload.get("guild_scheduled_event_id") is not None:
            event = self.event(channel.guild_id, int(payload["guild_scheduled_event_id"]))
            if event.channel_id != channel.id or event.status != EventStatus.SCHEDULED:
                raise ApiError(400, 180002, "Failed to create stage needed for stage event")
        stage = StageInstance(
            self.emu.ids.next(), channel.guild_id, channel.id, topic, event.id if event else None
        )
        self.stages[channel.id] = stage
        self.emu.dispatch("STAGE_INSTANCE_CREATE", stage.to_dict(), channel.guild_id)
        if event is not None:
            event.entity_id = stage.id
            self._set_status(event, EventStatus.ACTIVE)
        return stage

    def stage(self, channel_id: int) -> StageInstance:
        stage = self.stages.get(channel_id)
        if stage is None:
            raise unknown_stage_instance()
        return stage

    def edit_stage(self, channel_id: int, payload: JSON) -> StageInstance:
        stage = self.stage(channel_id)
        self._require_in(channel_id, STAGE_MODERATOR)
        if "topic" in payload:
            topic = payload["topic"]
            if not isinstance(topic, str) or not 1 <= len(topic) <= 120:
                errors = FormErrors()
                errors.length_range(["topic"], 1, 120)
                errors.raise_if_any()
            stage.topic = topic
        self.emu.dispatch("STAGE_INSTANCE_UPDATE", stage.to_dict(), stage.guild_id)
        return stage

    def close_stage(self, channel_id: int) -> None:
        stage = self.stage(channel_id)
        self._require_in(channel_id, STAGE_MODERATOR)
        del self.stages[channel_id]
        self.emu.dispatch("STAGE_INSTANCE_DELETE", stage.to_dict(), stage.guild_id)
        event = self.events.get(stage.event_id or 0)
        if event is not None and event.status == EventStatus.ACTIVE:
            self._set_status(event, EventStatus.COMPLETED)  # ending the stage ends its event

    # -- the test API: what members and moderators do in the Discord client ----------------
    def add_interest(self, event_id: int, user_id: int) -> None:
        """A member presses "Interested" (the member is added to the guild if needed)."""
        event = self.events[event_id]
        if event.finished or user_id in event.interested:
            return
        guild = self.emu.guild(event.guild_id)
        if user_id not in guild.members:
            self.emu.add_member(event.guild_id, user_id)
        event.interested.append(user_id)
        data = {
            "guild_scheduled_event_id": str(event.id),
            "user_id": str(user_id),
            "guild_id": str(event.guild_id),
        }
        self.emu.dispatch("GUILD_SCHEDULED_EVENT_USER_ADD", data, event.guild_id)

    def remove_interest(self, event_id: int, user_id: int) -> None:
        event = self.events[event_id]
        if user_id not in event.interested:
            return
        event.interested.remove(user_id)
        data = {
            "guild_scheduled_event_id": str(event.id),
            "user_id": str(user_id),
            "guild_id": str(event.guild_id),
        }
        self.emu.dispatch("GUILD_SCHEDULED_EVENT_USER_REMOVE", data, event.guild_id)

    def set_status(self, event_id: int, status: EventStatus) -> None:
        """A moderator starts, ends or cancels the event in the client (transitions checked)."""
        event = self.events[event_id]
        if status not in _NEXT_STATUS.get(event.status, set()):
            raise ValueError(f"{event.status.name} -> {status.name} is not allowed")
        self._set_status(event, status)

    def set_start(self, event_id: int, start: datetime) -> None:
        """A moderator moves a scheduled event's start time in the client (the future only)."""
        event = self.events[event_id]
        if event.status != EventStatus.SCHEDULED or start <= datetime.now(UTC):
            raise ValueError("only a scheduled event's start moves, and only to the future")
        event.start = start
        self.emu.dispatch("GUILD_SCHEDULED_EVENT_UPDATE", self.payload(event), event.guild_id)
        self.emu.emit("scheduled_event_update", self.payload(event))

    def remove(self, event_id: int) -> None:
        """The event is deleted (by the bot, or by a moderator in the client)."""
        event = self.events.pop(event_id)
        self.emu.dispatch("GUILD_SCHEDULED_EVENT_DELETE", self.payload(event), event.guild_id)
        self.emu.emit("scheduled_event_delete", self.payload(event))

    # -- rules ---------------------------------------------------------------------------------
    def _set_status(self, event: ScheduledEvent, status: EventStatus) -> None:
        event.status = status
        self.emu.dispatch("GUILD_SCHEDULED_EVENT_UPDATE", self.payload(event), event.guild_id)
        self.emu.emit("scheduled_event_update", self.payload(event))

    @staticmethod
    def _entity_type(value: Any, errors: FormErrors) -> EntityType | None:
        try:
            return EntityType(value)
        except ValueError:
            if value is None:
                errors.required(["entity_type"])
            else:
                errors.add(["entity_type"], "ENUM_TYPE_COERCE", "Value is not a valid enum value.")
            return None

    @staticmethod
    def _check_common(payload: JSON, errors: FormErrors) -> None:
        description = payload.get("description")
        if description is not None and (
            not isinstance(description, str) or len(description) > 1000
        ):
            errors.max_length(["description"], 1000)
        if payload.get("privacy_level", GUILD_ONLY) != GUILD_ONLY:
            errors.add(["privacy_level"], "ENUM_TYPE_COERCE", "Value is not a valid enum value.")
        image = payload.get("image")
        if image is not None and (not isinstance(image, str) or not image.startswith(_IMAGE_TYPES)):
            errors.add(["image"], "IMAGE_INVALID", "Invalid image data")

    def _entity(
        self,
        guild_id: int,
        kind: EntityType,
        payload: JSON,
        end: datetime | None,
        errors: FormErrors,
    ) -> tuple[int | None, str | None]:
        """(channel id, location) for the entity type, adding errors when they do not fit."""
        if kind == EntityType.EXTERNAL:
            metadata = payload.get("entity_metadata")
            location = metadata.get("location") if isinstance(metadata, dict) else None
            if not isinstance(location, str) or not 1 <= len(location) <= 100:
                errors.length_range(["entity_metadata", "location"], 1, 100)
            if end is None:
                errors.required(["scheduled_end_time"])
            if payload.get("channel_id") is not None and "entity_type" not in payload:
                errors.add(["channel_id"], "CHANNEL_ID_NOT_ALLOWED", "Must be null.")
            return None, location if isinstance(location, str) else None
        raw = payload.get("channel_id")
        try:
            channel = self.emu.channel(int(raw)) if raw is not None else None
        except (TypeError, ValueError, ApiError):
            channel = None
        if channel is None or channel.guild_id != guild_id:
            if raw is None:
                errors.required(["channel_id"])
            else:
                errors.add(["channel_id"], "CHANNEL_TYPE_INVALID", "Unknown channel.")
            return None, None
        if channel.type != _CHANNEL_FOR[kind]:
            errors.add(
                ["channel_id"],
                "GUILD_SCHEDULED_EVENT_CHANNEL_TYPE_INVALID",
                f"A {kind.name.lower()} event needs a {_CHANNEL_FOR[kind].name.lower()} channel.",
            )
        return channel.id, None

    @staticmethod
    def _check_times(
        start: datetime, end: datetime | None, errors: FormErrors, *, require_future: bool
    ) -> None:
        if require_future and start <= datetime.now(UTC):
            errors.add(
                ["scheduled_start_time"],
                "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
                "Cannot schedule event in the past.",
            )
        if end is not None and end <= start:
            errors.add(
                ["scheduled_end_time"],
                "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
                "Cannot schedule event to end before starting.",
            )

    def _image(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        try:
            data = base64.b64decode(value.partition(",")[2], validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, 50035, "Invalid Form Body", {"image": {"_errors": [
                {"code": "IMAGE_INVALID", "message": "Invalid image data"}]}}) from None  # fmt: skip
        if not data or len(data) > MAX_IMAGE_BYTES:
            raise ApiError(400, 50035, "Invalid Form Body", {"image": {"_errors": [
                {"code": "IMAGE_INVALID", "message": "Invalid image data"}]}})  # fmt: skip
        digest = hashlib.md5(data).hexdigest()
        self.images[digest] = data
        return digest

    def _require(
        self, guild_id: int, channel_id: int | None, kind: EntityType, *, own: bool
    ) -> None:
        manage = Permissions.MANAGE_EVENTS | (CREATE_EVENTS if own else 0)
        if channel_id is None:
            perms = self.emu.permissions_for(None, self.emu.bot.id, guild_id)
            if perms != ALL_PERMISSIONS and not perms & manage:
                raise missing_permissions()
            return
        extra = STAGE_MODERATOR if kind == EntityType.STAGE_INSTANCE else Permissions.CONNECT
        self._require_in(channel_id, extra)
        perms = self.emu.bot_permissions(channel_id)
        if perms != ALL_PERMISSIONS and not perms & manage:
            raise missing_permissions()

    def _require_in(self, channel_id: int, needed: int) -> None:
        perms = self.emu.bot_permissions(channel_id)
        if perms != ALL_PERMISSIONS and perms & needed != needed:
            self.emu.require(channel_id, needed)  # 50001 without VIEW_CHANNEL, else 50013
            raise missing_permissions()
