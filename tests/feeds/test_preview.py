"""The feed-preview command: human lines, --json records, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.feeds.preview import JSON_KEYS, main

FIXTURE = Path(__file__).parent / "fixtures" / "type3_synthetic_lesswrong.xml"


def test_human_output_has_one_line_per_episode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(FIXTURE)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "LessWrong (30+ Karma): 2 episodes"
    assert lines[1].startswith("2025-08-19   1:42:15  “Giving AIs safe motivations”")
    assert lines[1].endswith("<lw:Kv7DRtEaQYjfyZ8Ld>")
    assert len(lines) == 3


def test_json_output_has_exactly_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(FIXTURE), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 2
    assert all(list(record) == list(JSON_KEYS) for record in records)
    first = records[0]
    assert first["published"] == "2025-08-19T03:15:00+00:00"
    assert first["chapters"][0] == [32, "1. Introduction"]
    assert first["source_key"] == "lw:Kv7DRtEaQYjfyZ8Ld"
    assert first["image"] is None


def test_documented_key_list() -> None:
    assert JSON_KEYS == (
        "id", "title", "published", "link", "audio_url", "audio_type", "audio_length",
        "duration_seconds", "image", "author", "authors", "summary", "source_url", "source_key",
        "chapters", "chapters_url", "chapters_type", "transcript_url", "transcripts",
    )  # fmt: skip


@pytest.mark.parametrize("make", ["missing", "html", "directory"])
def test_bad_input_is_one_stderr_line_and_status_1(
    make: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "input"
    if make == "html":
        target.write_text("<!DOCTYPE html><html><body>hi</body></html>")
    elif make == "directory":
        target.mkdir()

    assert main([str(target)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err


def test_url_is_fetched(capsys: pytest.CaptureFixture[str]) -> None:
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(FIXTURE.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{FIXTURE.name}"
        assert main([url, "--json", "--timeout", "5"]) == 0
        assert main([url.replace(FIXTURE.name, "nope.xml"), "--timeout", "5"]) == 1
    finally:
        server.shutdown()
        server.server_close()
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 2
    assert len(captured.err.strip().splitlines()) == 1


CASES = Path(__file__).parent / "cases"


@pytest.mark.parametrize("mode", [[], ["--json"]])
def test_every_case_feed_is_a_listing_or_one_stderr_line(
    mode: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    for path in sorted(CASES.glob("*.xml")):
        status = main([str(path), *mode])
        captured = capsys.readouterr()
        assert status in (0, 1), path.name
        assert "Traceback" not in captured.err
        if status == 1:
            assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
        elif mode:
            assert all(json.loads(line) for line in captured.out.splitlines())


def test_feed_text_cannot_send_escape_sequences_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(
        b"<rss><channel><title>Show\xc2\x9b2J</title><item><guid>g</guid>"
        b"<title>Ep &#x9b;31m red\xc2\x85next line</title><link>https://e.org/\xc2\x9b</link>"
        b"</item></channel></rss>"
    )

    assert main([str(feed)]) == 0
    out = capsys.readouterr().out
    assert not any("\x7f" <= ch <= "\x9f" or (ch < " " and ch != "\n") for ch in out)
    assert len(out.splitlines()) == 2
