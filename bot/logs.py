"""Logging, configured once at start: text or JSON lines, and secrets redacted everywhere.

Redacted in every line, whatever logged it: the token and the other configured secrets, the
credentials and query of any URL (a feed's `user:password@` or `?token=`), and the tokens of
interactions and webhooks (in their URL paths and in JSON payloads logged at DEBUG).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

import discord

from bot.redact import HIDDEN, redact_urls_in

# /interactions/{id}/{token}/callback and /webhooks/{id}/{token}: the token is a credential.
_PATH_TOKEN = re.compile(r"(/(?:interactions|webhooks)/\d+/)[^/\s?#\"']+")
_JSON_TOKEN = re.compile(r"""(['"]token['"]\s*:\s*['"])[^'"]+""")


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, HIDDEN)
    text = _PATH_TOKEN.sub(rf"\1{HIDDEN}", text)
    text = _JSON_TOKEN.sub(rf"\1{HIDDEN}", text)
    return redact_urls_in(text)


class RedactFilter(logging.Filter):
    """Replaces secrets in every record (message and traceback), whatever logged them."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text, so the traceback is redacted too (exception texts from
            # aiohttp name the URL they failed on).
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info), self.secrets
            )
        return True


class RedactingHandler(logging.StreamHandler):
    """A last pass over each formatted line, whichever formatter made it: discord.py's coloured
    one (on a terminal) formats tracebacks itself, after the filter has run."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__(sys.stderr)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str, fmt: str, secrets: list[str]) -> None:
    handler = RedactingHandler(secrets)
    handler.addFilter(RedactFilter(secrets))
    formatter: logging.Formatter
    if fmt == "json":
        formatter = JsonFormatter()
    elif sys.stderr.isatty():
        formatter = discord.utils.MISSING  # discord.py's coloured formatter
    else:  # files, pipes and containers get no colour codes
        formatter = logging.Formatter(
            "{asctime} {levelname:<8} {name}: {message}", "%Y-%m-%d %H:%M:%S", style="{"
        )
    discord.utils.setup_logging(handler=handler, formatter=formatter, level=getattr(logging, level))
    # Chatty libraries stay at INFO even when the bot logs at DEBUG.
    for name in ("discord.gateway", "discord.webhook.async_"):
        logging.getLogger(name).setLevel(max(logging.INFO, getattr(logging, level)))
