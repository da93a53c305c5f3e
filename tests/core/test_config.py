"""Config: the shipped file is valid, and every kind of mistake stops start-up with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings, read_environment

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_shipped_config_is_valid_and_matches_defaults() -> None:
    settings = load_settings(ROOT / "config.toml")
    assert settings.announce.first_poll_backlog == 1
    assert settings.database_path == ROOT / "data" / "narrator.sqlite3"


def test_every_shipped_key_has_a_comment() -> None:
    lines = (ROOT / "config.toml").read_text().splitlines()
    for i, line in enumerate(lines):
        stripped = line.lstrip("# ").strip()
        if "=" in stripped and not stripped.startswith("[") and line.strip() and "=" in line:
            key_line = line.strip().lstrip("#").strip()
            if key_line.split("=")[0].strip().isidentifier():
                previous = lines[i - 1].strip()
                assert previous.startswith("#"), f"key on line {i + 1} has no comment above it"


def test_feeds_parse_into_typed_frozen_settings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[feeds]]
        url = "https://feeds.type3.audio/agi-safety-fundamentals--alignment.rss"
        channel_ids = [123456789012345678]
        poll_seconds = 1
        """,
    )
    settings = load_settings(path)
    (feed,) = settings.feeds
    assert feed.channel_ids == (123456789012345678,)
    assert feed.poll_seconds == 1 and feed.mention_role_id == 0
    with pytest.raises(AttributeError):
        feed.poll_seconds = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[logging]\nlevle = 'INFO'", "logging.levle: unknown key"),
        ("[databse]\npath = 'x'", "databse: unknown key"),
        ("[logging]\nlevel = 'LOUD'", "logging.level: must be one of"),
        (
            "[announce]\nfirst_poll_backlog = 'one'",
            "announce.first_poll_backlog: must be a whole number",
        ),
        (
            "[announce]\npublish_to_followers = 1",
            "announce.publish_to_followers: must be true or false",
        ),
        ("[announce]\nfirst_poll_backlog = true", "must be a whole number"),
        ("[[feeds]]\nchannel_ids = [1]", "feeds[0].url: required key is missing"),
        ("[[feeds]]\nurl = 'ftp://x/y'\nchannel_ids = [1]", "feeds[0].url: must be an http(s) URL"),
        (
            "[[feeds]]\nurl = 'https://x/y'\nchannel_ids = [1]\npoll_seconds = 0",
            "feeds[0].poll_seconds: must be at least 1",
        ),
        (
            "[[feeds]]\nurl = 'https://x/y'\nchannel_ids = ['1']",
            "feeds[0].channel_ids[0]: must be a",
        ),
        ("[[feeds]]\nurl = 'https://x/y'\nchannel_ids = 5", "feeds[0].channel_ids: must be a list"),
        ("logging = 3", "logging: must be a table"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_a_bad_config_names_the_key_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))
    text_of_error = str(info.value)
    assert message in text_of_error
    assert "\n" not in text_of_error


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml")


def test_environment_gives_token_and_endpoints_and_never_prints_the_token() -> None:
    env = read_environment(
        {
            "DISCORD_TOKEN": "secret-token-value",
            "DISCORD_API_BASE": "http://127.0.0.1:5/api/v10/",
            "DISCORD_GATEWAY_URL": "ws://127.0.0.1:5/",
        }
    )
    assert env.token == "secret-token-value"
    assert env.api_base == "http://127.0.0.1:5/api/v10"
    assert "secret-token-value" not in repr(env) and "secret-token-value" not in str(env)


def test_environment_defaults_to_real_discord() -> None:
    env = read_environment({})
    assert env.token is None
    assert env.api_base == "https://discord.com/api/v10"
    assert env.gateway_url == "wss://gateway.discord.gg/"


def test_bad_endpoint_override_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="DISCORD_GATEWAY_URL"):
        read_environment({"DISCORD_GATEWAY_URL": "http://x/"})


def test_a_long_feed_list_reads_each_settings_class_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.config

    calls: list[type] = []
    hints = bot.config.typing.get_type_hints
    monkeypatch.setattr(bot.config.typing, "get_type_hints", lambda c: calls.append(c) or hints(c))
    bot.config._shape.cache_clear()
    feeds = "".join(
        f'[[feeds]]\nurl = "https://feeds.example/{n}.rss"\nchannel_ids = [{n + 1}]\n'
        for n in range(500)
    )
    settings = load_settings(write(tmp_path, feeds))
    assert len(settings.feeds) == 500 and settings.feeds[499].channel_ids == (500,)
    assert calls.count(bot.config.FeedSettings) == 1  # once, not once per [[feeds]]
