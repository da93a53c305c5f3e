"""An episode's summary: its description as Markdown, without TYPE III boilerplate.

Computed when first asked for and cached, because a poll parses every item of a feed but only
new episodes are announced; converting hundreds of show notes nobody reads would dominate the
parse time.
"""

from __future__ import annotations

import functools
import logging

from bot.feeds.markdown import render, summarize, to_lines
from bot.feeds.type3 import clean

log = logging.getLogger(__name__)

__all__ = ["summarize", "summary_of"]


@functools.lru_cache(maxsize=512)
def summary_of(description: str, type3: bool = False) -> str:
    """Markdown for a description (HTML or text), TYPE III boilerplate and metadata removed."""
    return render(clean(to_lines(description), type3=type3).lines)
