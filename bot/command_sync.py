"""Register slash commands only when the command set changed (Discord rate-limits registration)."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from discord import app_commands

from bot.db import Database

log = logging.getLogger(__name__)

HASH_KEY = "command_hash"


def command_set_hash(tree: app_commands.CommandTree[Any], application_id: int | None) -> str:
    payload = sorted((cmd.to_dict(tree) for cmd in tree.get_commands()), key=lambda c: c["name"])
    blob = json.dumps({"application_id": application_id, "commands": payload}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


async def sync_if_changed(
    tree: app_commands.CommandTree[Any], db: Database, application_id: int | None, *, force: bool
) -> bool:
    """Sync global commands when forced or when their hash differs; returns whether it synced.

    Processes of a cluster start together: one at a time checks and registers (an advisory
    lock), so the others find the hash already stored and register nothing.
    """
    digest = command_set_hash(tree, application_id)
    async with db.exclusive("command-sync"):
        if not force and await db.get_meta(HASH_KEY) == digest:
            log.info("Slash commands unchanged since the last registration; not syncing")
            return False
        synced = await tree.sync()
        await db.set_meta(HASH_KEY, digest)
    log.info("Registered %d slash commands", len(synced))
    return True
