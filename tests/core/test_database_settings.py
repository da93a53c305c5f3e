"""Choosing the database: the SQLite file, `[database] url` or DATABASE_URL, password never shown."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.__main__ import describe_settings
from bot.config import ConfigError, load_settings, read_environment
from bot.db import database_target, mask_url
from bot.logs import RedactFilter
from bot.storage.base import url_secrets

URL = "postgresql://narrator:s3cr%40t@db.example:5432/narrator"


def settings_with(tmp_path: Path, database: str):
    path = tmp_path / "config.toml"
    path.write_text(f"[database]\n{database}\n")
    return load_settings(path)


def test_the_sqlite_file_is_the_default(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, 'path = "x.sqlite3"')
    assert database_target(settings, read_environment({})) == tmp_path / "x.sqlite3"


def test_a_url_in_the_file_and_database_url_in_the_environment_wins(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, 'url = "postgres://a@file.example/db"')
    assert database_target(settings, read_environment({})) == "postgres://a@file.example/db"
    env = read_environment({"DATABASE_URL": URL})
    assert database_target(settings, env) == URL


def test_a_url_that_is_not_postgresql_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"database\.url: must be a postgresql:// URL") as caught:
        settings_with(tmp_path, 'url = "mysql://u:hunter2@h/db"')
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError, match="DATABASE_URL") as caught:
        read_environment({"DATABASE_URL": "mysql://u:hunter2@h/db"})
    assert "hunter2" not in str(caught.value)


def test_the_password_is_masked_in_check_config_and_in_logs(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, 'url = "postgresql://u:filepass@h/db"')
    env = read_environment({"DATABASE_URL": URL})
    shown = describe_settings(settings, env)
    assert "filepass" not in shown and "s3cr" not in shown
    assert 'url = "postgresql://u:***@h/db"' in shown
    assert "postgresql://narrator:***@db.example:5432/narrator" in shown
    assert "s3cr" not in repr(env)

    record = logging.LogRecord("x", logging.ERROR, "", 0, "failed: %s", ("pw s3cr@t",), None)
    RedactFilter(url_secrets(URL)).filter(record)
    assert "s3cr" not in record.getMessage()


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgres://u@h/db", "postgres://u@h/db"),
        ("postgresql:///db?host=/tmp&password=pw", "postgresql:///db?host=/tmp&password=***"),
        ("postgresql://u:pw@[::1]:5432/db", "postgresql://u:***@[::1]:5432/db"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked
