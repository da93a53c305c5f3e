"""Secrets inside URLs, hidden wherever a URL is shown (messages, logs, metrics, check-config).

A feed URL may carry a password (`user:password@`) or a signed query (`?token=`); the bot uses it
as given but shows it with those parts replaced. Standard library only, so every layer can use it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

HIDDEN = "[redacted]"

# A URL in running text (log lines, error messages): scheme, then anything but space and quotes.
_URL_IN_TEXT = re.compile(r"""\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>"'`]+""")
_USERINFO = re.compile(r"(?<=://)[^/?#@\s]*@")


def redact_url(url: str) -> str:
    """`url` without its user name, password and query: what may be shown of a feed's address."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: hide everything after the host part
        return _USERINFO.sub(f"{HIDDEN}@", url.split("?", 1)[0]) + (
            f"?{HIDDEN}" if "?" in url else ""
        )
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{HIDDEN}@{netloc.rpartition('@')[2]}"
    query = HIDDEN if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_urls_in(text: str) -> str:
    """Every URL in `text` redacted as `redact_url` does (for error texts and log lines)."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
