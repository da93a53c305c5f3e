"""Who a message pings: its content's mentions, filtered by the `allowed_mentions` it was sent with.

Discord's rules: without `allowed_mentions` every mention in the content pings; with it, only
the kinds listed in `parse` ("everyone", "users", "roles") and the ids listed in `users` and
`roles` do, and only when they also appear in the content. The emulator assumes the author may
mention @everyone and any role (the worst case), so a test sees every ping the payload allows.
Mentions inside embeds never ping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
_EVERYONE = re.compile(r"@(everyone|here)\b")


@dataclass(frozen=True)
class Pings:
    """Who was notified by one message."""

    everyone: bool = False
    users: frozenset[int] = field(default_factory=frozenset)
    roles: frozenset[int] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return self.everyone or bool(self.users) or bool(self.roles)

    def names(self) -> set[str]:
        """ "@everyone", "user:<id>", "role:<id>": one set to compare in a test."""
        return (
            ({"@everyone"} if self.everyone else set())
            | {f"user:{u}" for u in self.users}
            | {f"role:{r}" for r in self.roles}
        )


def _ids(value: Any) -> set[int] | None:
    if not isinstance(value, list):
        return None
    return {int(v) for v in value if str(v).isdigit()}


def pings(content: str, allowed: Any, *, replied_user_id: int | None = None) -> Pings:
    """The pings of a message with `content` sent with `allowed` (the payload's allowed_mentions,
    None when it had none)."""
    users_in = {int(u) for u in _USER.findall(content)}
    roles_in = {int(r) for r in _ROLE.findall(content)}
    everyone_in = bool(_EVERYONE.search(content))
    if not isinstance(allowed, dict):
        return Pings(
            everyone_in,
            frozenset(users_in | ({replied_user_id} if replied_user_id else set())),
            frozenset(roles_in),
        )
    parse = set(allowed.get("parse") or [])
    listed_users = _ids(allowed.get("users")) or set()
    listed_roles = _ids(allowed.get("roles")) or set()
    users = users_in if "users" in parse else users_in & listed_users
    roles = roles_in if "roles" in parse else roles_in & listed_roles
    if replied_user_id and allowed.get("replied_user"):
        users = users | {replied_user_id}
    return Pings("everyone" in parse and everyone_in, frozenset(users), frozenset(roles))
