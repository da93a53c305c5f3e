"""The marks an announcement carries so the bot can recognise its own posts without a database.

An episode's key is a short hash of its guid: the same in every database, unlike the row id.
Play buttons carry both (`narrator:play:<id>:<key>`; the id is fast, the key survives a lost
database), an announcement's Play button adds `:a` so an answer to a command is not mistaken for
an announcement, a digest's menu options carry `<id>:<key>`, and an announcement without a Play
button (no audio) carries the key in its footer or last line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import discord

from bot.rows import row_id

KEY_LENGTH = 16  # hex digits: 64 bits, so two episodes of one channel never share a key
_KEY = rf"[0-9a-f]{{{KEY_LENGTH}}}"
PLAY_TEMPLATE = rf"narrator:play:(?P<id>\d+)(?::(?P<key>{_KEY})(?P<announced>:a)?)?"
DIGEST_PREFIX = "narrator:digest:"
_PLAY = re.compile(PLAY_TEMPLATE)
_OPTION = re.compile(rf"(?P<id>\d+)(?::(?P<key>{_KEY}))?")
_TEXT_MARK = re.compile(rf"\bnarrator:(?P<key>{_KEY})\b")


def episode_key(guid: str) -> str:
    """The same episode (by guid) always gets the same key, whatever database it is in."""
    return hashlib.sha256(guid.encode()).hexdigest()[:KEY_LENGTH]


def play_custom_id(episode_id: int, key: str | None, *, announced: bool = False) -> str:
    if key is None:
        return f"narrator:play:{episode_id}"
    return f"narrator:play:{episode_id}:{key}" + (":a" if announced else "")


@dataclass(frozen=True)
class EpisodeRef:
    """What a button or menu option says about an episode: its row id and, when present, key."""

    id: int
    key: str | None = None


def parse_play(custom_id: str) -> tuple[EpisodeRef, bool] | None:
    """The episode a Play button names, and whether it is on an announcement."""
    match = _PLAY.fullmatch(custom_id)
    if match is None:
        return None
    return EpisodeRef(row_id(match["id"]), match["key"]), bool(match["announced"])


def option_value(episode_id: int, key: str) -> str:
    return f"{episode_id}:{key}"


def parse_option(value: str) -> EpisodeRef | None:
    match = _OPTION.fullmatch(value)
    return EpisodeRef(row_id(match["id"]), match["key"]) if match else None


def text_mark(key: str) -> str:
    """The mark an announcement without a Play button carries in its text."""
    return f"narrator:{key}"


def custom_ids(message: discord.Message) -> set[str]:
    """The custom ids of the components on a message."""
    ids: set[str] = set()
    for row in message.components:
        for child in getattr(row, "children", [row]):
            custom_id = getattr(child, "custom_id", None)
            if custom_id:
                ids.add(custom_id)
    return ids


def announced_keys(message: discord.Message) -> set[str]:
    """The keys of the episodes a message announces (empty for anything else).

    Only what the bot posts as an announcement counts: a Play button marked `:a`, a digest's
    menu, or the text mark of an announcement without audio.
    """
    keys: set[str] = set()
    for row in message.components:
        for child in getattr(row, "children", [row]):
            custom_id = getattr(child, "custom_id", None) or ""
            parsed = parse_play(custom_id)
            if parsed is not None and parsed[1] and parsed[0].key:
                keys.add(parsed[0].key)
            elif custom_id.startswith(DIGEST_PREFIX):
                for option in getattr(child, "options", ()):
                    ref = parse_option(option.value)
                    if ref is not None and ref.key:
                        keys.add(ref.key)
    texts = [message.content or ""]
    texts += [embed.footer.text or "" for embed in message.embeds if embed.footer]
    for text in texts:
        keys.update(m["key"] for m in _TEXT_MARK.finditer(text))
    return keys
