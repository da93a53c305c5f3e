"""config.toml -> typed, frozen settings; an unknown key, a wrong type or a bad value is an error.

The token and the Discord endpoints are not in the file: they come from the environment
(see `Environment`), so a config file can be shared without leaking anything.
"""

from __future__ import annotations

import functools
import os
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.redact import redact_urls_in

Check = Callable[[Any], str | None]

# The settings that hold secrets, written once; check-config (bot/__main__.py) shows them so.
# Never shown: a webhook URL carries its token.
SECRET_SETTINGS = frozenset({"requests.webhook_url"})
# Shown with only their password masked: where the data is matters when checking.
MASKED_URLS = frozenset({"database.url"})
# Feed URLs may carry credentials or a signed query: shown without them.
REDACTED_URLS = frozenset({"feeds.url"})
# Never echoed in a configuration error: a secret, or a URL that may carry a password.
SECRET_KEYS = SECRET_SETTINGS | MASKED_URLS


class ConfigError(Exception):
    """A configuration problem, phrased as one line that names the key."""


def _at_least(minimum: float) -> Check:
    return lambda v: None if v >= minimum else f"must be at least {minimum}"


def _between(low: float, high: float) -> Check:
    return lambda v: None if low <= v <= high else f"must be between {low} and {high}"


def _one_of(*choices: str) -> Check:
    return lambda v: None if v in choices else "must be one of " + ", ".join(map(repr, choices))


def _snowflakes(v: tuple[int, ...]) -> str | None:
    bad = [x for x in v if x <= 0]
    return f"must hold Discord ids (positive whole numbers), got {bad[0]}" if bad else None


def _snowflake_or_zero(v: int) -> str | None:
    return None if v >= 0 else "must be a Discord id, or 0 for none"


def _http_url(v: str) -> str | None:
    try:
        parts = urlsplit(v)
    except ValueError:  # "http://[::1" and the like
        return "must be an http(s) URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http(s) URL"
    return None


def _optional_http_url(v: str) -> str | None:
    return None if v == "" else _http_url(v)


def _database_url(v: str) -> str | None:
    try:
        if v == "" or urlsplit(v).scheme in ("postgresql", "postgres"):
            return None
    except ValueError:
        pass
    return "must be a postgresql:// URL, or empty for the SQLite file at path"


def _shard_ids(v: tuple[int, ...]) -> str | None:
    if any(x < 0 for x in v):
        return "must hold shard numbers (0, 1, 2...)"
    return "must not name a shard twice" if len(set(v)) != len(v) else None


def _checked(default: Any = MISSING, *, check: Check | None = None) -> Any:
    meta = {"check": check} if check else {}
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple or a default_factory for mutable defaults")
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class DiscordSettings:
    # Seconds discord.py waits for guilds to stream in before firing on_ready.
    guild_ready_timeout: float = _checked(2.0, check=_between(0.0, 60.0))
    # Gateway shards of the whole bot; 0 = as many as Discord recommends (GET /gateway/bot).
    shard_count: int = _checked(1, check=_between(0, 1024))
    # The shards this process runs, when several processes share the bot (NARRATOR_SHARDS);
    # empty = all of them. Needs a shard_count above 0.
    shard_ids: tuple[int, ...] = _checked((), check=_shard_ids)
    # Seconds to wait for Discord to accept a connection and to answer; a silent Discord is then
    # reported and retried with backoff.
    connect_timeout: float = _checked(10.0, check=_between(1.0, 120.0))

    def __post_init__(self) -> None:
        if not self.shard_ids:
            return
        if self.shard_count == 0:
            raise ConfigError(
                "discord.shard_ids: needs a fixed discord.shard_count (the shards of the whole "
                "bot), not 0"
            )
        beyond = [x for x in self.shard_ids if x >= self.shard_count]
        if beyond:
            raise ConfigError(
                f"discord.shard_ids: shard {beyond[0]} does not exist with "
                f"discord.shard_count = {self.shard_count} (shards are 0 to {self.shard_count - 1})"
            )

    @property
    def own_shards(self) -> tuple[int, ...] | None:
        """The shards this process runs, or None for all of them."""
        return tuple(sorted(self.shard_ids)) or None


@dataclass(frozen=True)
class ClusterSettings:
    # Seconds a process's claim on a feed poll or a channel's deliveries lasts; a process that
    # dies holding one is replaced by another after at most this long. Keep it above
    # announce.fetch_timeout, so a slow poll is not taken over while it still runs.
    lease_seconds: float = _checked(30.0, check=_between(2.0, 600.0))


@dataclass(frozen=True)
class DatabaseSettings:
    # Path of the SQLite file; relative paths are relative to the config file.
    path: str = "data/narrator.sqlite3"
    # A PostgreSQL URL to use instead of the file; DATABASE_URL in the environment wins.
    url: str = _checked("", check=_database_url)


@dataclass(frozen=True)
class LoggingSettings:
    level: str = _checked("INFO", check=_one_of("DEBUG", "INFO", "WARNING", "ERROR"))
    format: str = _checked("text", check=_one_of("text", "json"))


def _address(v: str) -> str | None:
    return None if v and " " not in v and "/" not in v else "must be a host name or IP address"


@dataclass(frozen=True)
class HealthSettings:
    # Where /healthz and /metrics are served; port 0 = no HTTP endpoint at all.
    address: str = _checked("127.0.0.1", check=_address)
    port: int = _checked(0, check=_between(0, 65535))


@dataclass(frozen=True)
class AnnounceSettings:
    # On a feed's first poll, how many of its newest episodes to post (0 = none).
    first_poll_backlog: int = _checked(1, check=_at_least(0))
    # More new episodes than this in one poll become a single digest message.
    digest_threshold: int = _checked(5, check=_at_least(1))
    # Where feed failures and digests are reported; 0 = the feed's own channel.
    admin_channel_id: int = _checked(0, check=_snowflake_or_zero)
    # Publish posts in announcement channels to following servers.
    publish_to_followers: bool = False
    # Admins hear that a feed is failing after this many failed polls in a row.
    notify_after_failures: int = _checked(3, check=_at_least(1))
    # Seconds a feed fetch may take, and the largest feed body accepted, in bytes.
    fetch_timeout: float = _checked(20.0, check=_between(1.0, 300.0))
    max_feed_bytes: int = _checked(10_000_000, check=_at_least(10_000))
    # Let feeds live on loopback or private networks (off: /feed add cannot probe your network).
    allow_private_addresses: bool = False
    # Feed subscriptions one server may make with /feed add (all servers share one poll schedule).
    max_feeds_per_server: int = _checked(50, check=_between(1, 10_000))
    # A feed whose host took longer than this many seconds to answer a poll is polled in the slow
    # lane for a day: slow feeds' polls take at most 3 of the 10 run at once (bot/announce/lanes.py).
    slow_poll_seconds: float = _checked(5.0, check=_between(0.1, 300.0))


@dataclass(frozen=True)
class FollowSettings:
    # Follows (/follow) one member may hold, across servers.
    max_per_member: int = _checked(25, check=_between(1, 1000))
    # Direct messages the bot sends for follows, on average per second, and at most at once.
    # Discord limits how fast a bot opens DMs; one process sends them all (a claim), so this is
    # the whole bot's pace.
    dms_per_second: float = _checked(1.0, check=_between(0.01, 50.0))
    dm_burst: int = _checked(5, check=_between(1, 50))


def _domains(v: tuple[str, ...]) -> str | None:
    bad = [d for d in v if not d or "/" in d or " " in d or d != d.lower()]
    return (
        f"must hold lower-case domain names like 'lesswrong.com', got {bad[0]!r}" if bad else None
    )


@dataclass(frozen=True)
class RequestSettings:
    # Channel where moderators review narration requests; 0 = no review queue.
    review_channel_id: int = _checked(0, check=_snowflake_or_zero)
    # Role allowed to approve/reject requests (Manage Server always can); 0 = none.
    reviewer_role_id: int = _checked(0, check=_snowflake_or_zero)
    # How many requests one member may make per hour.
    per_member_per_hour: int = _checked(5, check=_at_least(1))
    # How many open requests one member may have at once.
    max_open_per_member: int = _checked(10, check=_at_least(1))
    # Only these sites may be requested (empty = any site), and never these.
    allowed_domains: tuple[str, ...] = _checked((), check=_domains)
    denied_domains: tuple[str, ...] = _checked((), check=_domains)
    # Forward each new request to this webhook (e.g. a Discord webhook of the narration team).
    webhook_url: str = _checked("", check=_optional_http_url)
    # Ask TYPE III whether a narration already exists, with this API base.
    type3_lookup: bool = True
    type3_api_base: str = _checked("https://api.type3.audio", check=_http_url)
    # Forum GraphQL endpoints to resolve old-style and slug-only links; "" = off.
    lesswrong_graphql: str = _checked("https://www.lesswrong.com/graphql", check=_optional_http_url)
    eaforum_graphql: str = _checked(
        "https://forum.effectivealtruism.org/graphql", check=_optional_http_url
    )
    # Look up the page title of requested links (safely: public addresses only).
    fetch_titles: bool = True
    # TESTS ONLY: let title lookups reach private and loopback addresses.
    allow_private_addresses: bool = False


@dataclass(frozen=True)
class VoiceSettings:
    # Path of an ffmpeg binary with libopus; "" = the one bundled with imageio-ffmpeg.
    ffmpeg_path: str = ""
    # Opus bitrate for speech, in kbit/s.
    bitrate: int = _checked(64, check=_between(32, 128))
    # Leave the voice channel after this many seconds with nothing playing.
    idle_seconds: int = _checked(300, check=_at_least(1))
    # Leave after this many seconds with no listener left in the channel.
    alone_seconds: int = _checked(30, check=_at_least(1))
    # Give up on one attempt to join a voice channel after this many seconds (one retry follows).
    connect_timeout: int = _checked(15, check=_between(2, 60))
    # The voice watchdog: a player that should be playing but sent no audio for this many
    # seconds leaves and rejoins (at most 3 times in a row), then says so in the channel.
    watchdog_seconds: int = _checked(20, check=_between(2, 600))


@dataclass(frozen=True)
class NarrationSettings:
    # Machine readings (/narrate): made here by a local voice (the optional `tts` extra);
    # without the extra they are off whatever this says.
    enabled: bool = True
    # Where finished readings are kept (relative to this file's folder), and at most how much.
    cache_dir: str = "data/narrations"
    cache_max_mb: int = _checked(500, check=_at_least(1))
    # Readings synthesised at once; each keeps about one core busy while it runs.
    concurrency: int = _checked(1, check=_between(1, 8))
    # New readings (cached ones are free) one member may start per hour, and the whole bot.
    per_member_per_hour: int = _checked(3, check=_at_least(1))
    global_per_hour: int = _checked(20, check=_at_least(1))
    # Longest text read, in words (about 150 a minute: 20,000 is over two hours).
    max_words: int = _checked(20_000, check=_between(100, 200_000))


@dataclass(frozen=True)
class AboutSettings:
    # Where /about links to ("Source and docs"); "" = no link.
    project_url: str = _checked("", check=_optional_http_url)


@dataclass(frozen=True, slots=True)  # a config can list thousands: no __dict__ each (≈0.3 MB)
class FeedSettings:
    url: str = _checked(check=_http_url)
    channel_ids: tuple[int, ...] = _checked(check=_snowflakes)
    poll_seconds: int = _checked(300, check=_at_least(1))
    mention_role_id: int = _checked(0, check=_snowflake_or_zero)


@dataclass(frozen=True)
class Settings:
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    announce: AnnounceSettings = field(default_factory=AnnounceSettings)
    follows: FollowSettings = field(default_factory=FollowSettings)
    requests: RequestSettings = field(default_factory=RequestSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    narration: NarrationSettings = field(default_factory=NarrationSettings)
    about: AboutSettings = field(default_factory=AboutSettings)
    feeds: tuple[FeedSettings, ...] = ()
    # Where the file was read from; relative paths in it resolve against its folder.
    source: Path = field(default=Path("config.toml"), metadata={"internal": True})

    @property
    def database_path(self) -> Path:
        path = Path(self.database.path).expanduser()
        return path if path.is_absolute() else self.source.parent / path


@dataclass(frozen=True)
class Environment:
    """What comes from the environment, never from a file."""

    token: str | None
    api_base: str
    gateway_url: str
    database_url: str | None = None  # DATABASE_URL: a PostgreSQL URL, password and all
    # NARRATOR_SHARDS ("0-3", "0,2", or "0-3/8" with the count) and NARRATOR_SHARD_COUNT: this
    # process's share of the bot's shards; they win over [discord] shard_ids and shard_count.
    shard_ids: tuple[int, ...] | None = None
    shard_count: int | None = None

    def __repr__(self) -> str:  # the token and the database password must never reach a log
        token = "set" if self.token else "unset"
        database = "set" if self.database_url else "unset"
        return (
            f"Environment(token={token}, api_base={self.api_base!r}, gateway={self.gateway_url!r},"
            f" database_url={database}, shard_ids={self.shard_ids}, shard_count={self.shard_count})"
        )

    def applied_to(self, settings: Settings) -> Settings:
        """The settings with NARRATOR_SHARDS / NARRATOR_SHARD_COUNT in place of the file's."""
        if self.shard_ids is None and self.shard_count is None:
            return settings
        discord = settings.discord
        count = discord.shard_count if self.shard_count is None else self.shard_count
        ids = discord.shard_ids if self.shard_ids is None else self.shard_ids
        try:
            return replace(settings, discord=replace(discord, shard_count=count, shard_ids=ids))
        except ConfigError as exc:
            raise ConfigError(f"{exc} (from NARRATOR_SHARDS / NARRATOR_SHARD_COUNT)") from None


# Far past any bot's shards: a typo's billion-shard range is refused, not built.
MAX_SHARDS = 100_000


def parse_shards(text: str) -> tuple[tuple[int, ...], int | None]:
    """NARRATOR_SHARDS: "0-3", "0,2,5", "4-7/8" (with the shard count) -> (ids, count or None)."""
    spec, _slash, count_text = text.replace(" ", "").partition("/")
    try:
        count = int(count_text) if count_text else None
        ids: list[int] = []
        for part in spec.split(","):
            first, dash, last = part.partition("-")
            span = range(int(first), int(last) + 1) if dash else range(int(first), int(first) + 1)
            if span.stop > MAX_SHARDS or len(ids) + len(span) > MAX_SHARDS:
                raise ConfigError(
                    f"NARRATOR_SHARDS names shards past {MAX_SHARDS:,}, more than any bot runs;"
                    f" got {text!r}"
                )
            ids += span
    except ValueError:
        raise ConfigError(
            f"NARRATOR_SHARDS must look like 0-3, 0,2,5 or 0-3/8, got {text!r}"
        ) from None
    if not ids or min(ids) < 0 or len(set(ids)) != len(ids) or (count is not None and count < 1):
        raise ConfigError(f"NARRATOR_SHARDS must name each shard (0, 1, 2...) once, got {text!r}")
    return tuple(ids), count


DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"


def read_environment(env: Mapping[str, str] | None = None) -> Environment:
    env = os.environ if env is None else env
    api_base = env.get("DISCORD_API_BASE") or DEFAULT_API_BASE
    gateway = env.get("DISCORD_GATEWAY_URL") or DEFAULT_GATEWAY_URL
    if urlsplit(api_base).scheme not in ("http", "https"):
        raise ConfigError(f"DISCORD_API_BASE must be an http(s) URL, got {api_base!r}")
    if urlsplit(gateway).scheme not in ("ws", "wss"):
        raise ConfigError(f"DISCORD_GATEWAY_URL must be a ws(s) URL, got {gateway!r}")
    token = (env.get("DISCORD_TOKEN") or "").strip() or None
    database_url = (env.get("DATABASE_URL") or "").strip() or None
    if database_url is not None and _database_url(database_url):
        raise ConfigError(
            "DATABASE_URL must be a postgresql:// (or postgres://) URL; unset it to use SQLite"
        )
    shard_ids, shard_count = None, None
    if shards := (env.get("NARRATOR_SHARDS") or "").strip():
        shard_ids, shard_count = parse_shards(shards)
    if count_text := (env.get("NARRATOR_SHARD_COUNT") or "").strip():
        if not (count_text.isascii() and count_text.isdigit()) or int(count_text) < 1:
            raise ConfigError(
                f"NARRATOR_SHARD_COUNT must be a whole number >= 1, got {count_text!r}"
            )
        shard_count = int(count_text)
    return Environment(
        token=token,
        api_base=api_base.rstrip("/"),
        gateway_url=gateway,
        database_url=database_url,
        shard_ids=shard_ids,
        shard_count=shard_count,
    )


def load_settings(path: Path) -> Settings:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (copy config.toml from the project)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    settings = _build(Settings, data, "")
    return replace(settings, source=path.resolve())


@functools.cache
def _shape(cls: type) -> tuple[dict[str, Any], dict[str, Field[Any]]]:
    """A settings class's type hints and keys, read once: a config with thousands of [[feeds]]
    would otherwise resolve FeedSettings' annotations for every one of them."""
    hints = typing.get_type_hints(cls)
    return hints, {f.name: f for f in fields(cls) if not f.metadata.get("internal")}


def _build(cls: type, table: Mapping[str, Any], where: str) -> Any:
    hints, known = _shape(cls)
    for key in table:
        if key not in known:
            raise ConfigError(f"{_key(where, key)}: unknown key (allowed: {', '.join(known)})")
    values: dict[str, Any] = {}
    for name, f in known.items():
        key = _key(where, name)
        if name not in table:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ConfigError(f"{key}: required key is missing")
            continue
        value = _convert(hints[name], table[name], key)
        check: Check | None = f.metadata.get("check")
        if check is not None and (problem := check(value)):
            raw = table[name]  # a feed URL's credentials and query are no one's business here
            shown = (
                "a hidden value"
                if key in SECRET_KEYS
                else _short(redact_urls_in(raw) if isinstance(raw, str) else raw)
            )
            raise ConfigError(f"{key}: {problem}, got {shown}")
        values[name] = value
    return cls(**values)


def _convert(hint: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    if is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: must be a table, got {_kind(value)}")
        return _build(typing.cast(type, hint), value, key)
    if origin is tuple:
        (item_hint, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{key}: must be a list, got {_kind(value)}")
        return tuple(_convert(item_hint, v, f"{key}[{i}]") for i, v in enumerate(value))
    if origin in (types.UnionType, typing.Union):
        raise TypeError(f"unsupported union type for {key}")
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: must be true or false, got {_kind(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: must be a whole number, got {_kind(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: must be a number, got {_kind(value)}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: must be a string, got {_kind(value)}")
        return value
    raise TypeError(f"unsupported config type {hint!r} for {key}")


def _key(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "a whole number",
        float: "a decimal number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__) + f" ({_short(value)})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
