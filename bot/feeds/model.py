"""The parsed shape of a podcast feed: frozen `Feed` and `Episode` records, and the parse error."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from bot.feeds.summary import summary_of

log = logging.getLogger(__name__)

# Caps applied to each field before anything else looks at it: no real feed comes near them, and
# past them a hostile value would only cost time and memory.
MAX_TITLE = 1_000
MAX_AUTHOR = 500
MAX_ID = 1_000
"""A longer guid is replaced by `sha1:` + its digest."""
MAX_KEY_BYTES = 2_000
"""UTF-8 bytes of a value the database indexes (an episode's id, its source key): PostgreSQL
refuses a b-tree entry over 2,704 bytes that does not compress, which failed every poll of the
feed. A longer id is replaced by its digest, as a long guid is; a longer key is dropped."""
MAX_URL = 8_000
"""A longer URL is dropped (browsers and CDNs give up near here too)."""
MAX_DESCRIPTION = 200_000
"""Characters of description markup kept; summaries show a few hundred."""
MAX_CHAPTERS = 1_000
MAX_ITEMS = 5_000
"""Items of one feed read: half from each end of the document, where the newest are whichever
order the feed keeps (the largest real feed in the corpus has 1,000). Past it, a 10 MB feed of
tiny items was 100,000 episodes to build, hold in memory and store at every poll."""
MAX_TRANSCRIPTS = 20
"""podcast:transcript links kept per episode (one per format and language is the norm)."""
MAX_AUTHORS = 20
MAX_KIND = 100
"""A MIME type, a language tag or a rel value."""


class FeedParseError(ValueError):
    """The document is not a feed we can read; the message is one sentence for the user."""


class Chapter(NamedTuple):
    """A chapter mark, `(start_seconds, title, url)`; `url` is the chapter's own link, if any."""

    start_seconds: int
    title: str
    url: str | None = None


class Transcript(NamedTuple):
    """One `podcast:transcript` link: the document is not fetched while parsing the feed."""

    url: str
    type: str | None = None
    """MIME type as given, lower-cased: text/vtt, application/x-subrip, text/plain, text/html..."""
    language: str | None = None
    rel: str | None = None
    """"captions" when the file is meant as closed captions."""


@dataclass(frozen=True, slots=True)
class Episode:
    """One item of a feed, with everything the announcer and the player need."""

    id: str
    """guid; else the link; else `hash:` + a digest of title, date and enclosure path."""
    title: str
    published: datetime | None = None
    """Aware, in UTC."""
    audio_url: str | None = None
    audio_type: str | None = None
    audio_length: int | None = None
    duration_seconds: int | None = None
    image: str | None = None
    """Episode-level artwork only; falling back to the feed's image is the caller's choice."""
    link: str | None = None
    author: str | None = None
    """The item's author line as the feed gives it (itunes:author, dc:creator, Atom author)."""
    authors: tuple[str, ...] = ()
    """Each person or group named as an author: the author fields split into names, and TYPE
    III's `“Title” by A and B` in the title; distinct (case-insensitive), in the order found."""
    chapters: tuple[Chapter, ...] = ()
    """Marks from the feed itself (Podlove Simple Chapters, else a TYPE III Outline), in order."""
    chapters_url: str | None = None
    """A podcast:chapters JSON document, not fetched here."""
    chapters_type: str | None = None
    """The podcast:chapters `type` (application/json+chapters), lower-cased."""
    transcript_url: str | None = None
    """The transcript a person can read in a browser first (see `transcripts` for all)."""
    transcripts: tuple[Transcript, ...] = ()
    """Every podcast:transcript with a usable URL, in document order."""
    source_url: str | None = None
    """The narrated article (TYPE III `Source:` / `Original text:` / `Original article:`)."""
    source_key: str | None = None
    """`bot.post_urls.canonical_key(source_url).key`, e.g. `lw:Dw8mskAvBX37MxvXo`."""
    first_published: date | None = None
    """When the narrated article itself was first published (TYPE III `First published:`)."""
    description: str = field(default="", repr=False)
    """The raw description (HTML or text) that `summary` is made from."""
    type3: bool = False
    """The description is TYPE III's, so its metadata blocks are left out of `summary`."""

    @property
    def summary(self) -> str:
        """Markdown, TYPE III boilerplate removed; cut it with `summarize` before display."""
        return summary_of(self.description, self.type3)


@dataclass(frozen=True, slots=True)
class Feed:
    """A parsed feed: channel metadata and its episodes in document order."""

    title: str
    link: str | None = None
    image: str | None = None
    author: str | None = None
    new_feed_url: str | None = None
    episodes: tuple[Episode, ...] = field(default_factory=tuple)
