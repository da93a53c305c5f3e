"""Which forum post (or article) an episode narrates: its source URL and canonical post key."""

from __future__ import annotations

import logging
import re

from bot.feeds.model import MAX_KEY_BYTES
from bot.post_urls import EA_HOSTS, LW_HOSTS, PostUrlError, canonical_key

log = logging.getLogger(__name__)

_FORUM_PREFIXES = ("lw:", "ea:", "lw-tag:", "ea-tag:")


def source_key(url: str) -> str | None:
    """The canonical key of a source URL (`lw:<id>`, `ea:<id>`, a normalised URL), else None.

    None too for a key too long to index (MAX_KEY_BYTES): 2,000 CJK characters in a link are an
    18,000-character key once percent-encoded."""
    try:
        key = canonical_key(url).key
    except (PostUrlError, ValueError) as error:
        log.debug("no post key for %r: %s", url, error)
        return None
    if len(key.encode("utf-8", "replace")) > MAX_KEY_BYTES:
        log.debug("no post key for %r: its key is %d characters long", url[:100], len(key))
        return None
    return key


def source_of(
    labelled: str | None, link: str | None, guid: str | None
) -> tuple[str | None, str | None]:
    """(source URL, key): the labelled URL; else `<link>` or the guid when it is a forum post."""
    if labelled:
        return labelled, source_key(labelled)
    for candidate in (link, guid) if link != guid else (link,):
        if candidate and candidate.startswith(("http://", "https://")) and _on_forum(candidate):
            key = source_key(candidate)
            if key is not None and key.startswith(_FORUM_PREFIXES):
                return candidate, key
    return None, None


_HOST = re.compile(r"https?://(?:[^@/?#]*@)?(?:www\.)?([^/:?#]+)", re.IGNORECASE)


def _on_forum(url: str) -> bool:
    """A cheap pre-check (a regex, not urlsplit: it runs for every item of every poll)."""
    found = _HOST.match(url)
    host = found.group(1).lower().rstrip(".") if found else ""
    return host in LW_HOSTS or host in EA_HOSTS
