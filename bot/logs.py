"""Logging, configured once at start: text or JSON lines, and the token redacted everywhere."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

import discord


class RedactFilter(logging.Filter):
    """Replaces secrets in every record, whatever logged them."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str, fmt: str, secrets: list[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
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
    for name in ("discord.gateway", "aiosqlite", "discord.webhook.async_"):
        logging.getLogger(name).setLevel(max(logging.INFO, getattr(logging, level)))
