"""Feed dates, durations and TYPE III "First published" dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.feeds.dates import parse_date, parse_duration, parse_plain_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tue, 10 Jun 2003 04:00:00 GMT", datetime(2003, 6, 10, 4, 0, tzinfo=UTC)),
        ("Wed, 27 Apr 2011 07:00:00 +0200", datetime(2011, 4, 27, 5, 0, tzinfo=UTC)),
        ("Wed, 27 Apr 2011 07:00:00 -0530", datetime(2011, 4, 27, 12, 30, tzinfo=UTC)),
        ("Thu, 3 Jul 2025 14:05:00 EST", datetime(2025, 7, 3, 19, 5, tzinfo=UTC)),
        ("Fri, 04 Jul 2025 09:00 PDT", datetime(2025, 7, 4, 16, 0, tzinfo=UTC)),
        ("Sat, 5 July 2025 10:00:00", datetime(2025, 7, 5, 10, 0, tzinfo=UTC)),  # no zone: UTC
        ("Mon, 07 Jul 25 10:00:00 +0000", datetime(2025, 7, 7, 10, 0, tzinfo=UTC)),
        ("Tue, 08 Jul 2025 10:00:00 +02:00", datetime(2025, 7, 8, 8, 0, tzinfo=UTC)),
        ("Sun, 31 Aug 2025 24:00:00 GMT", datetime(2025, 9, 1, 0, 0, tzinfo=UTC)),
        ("Jun 10 2003 4:00 PM EST", datetime(2003, 6, 10, 21, 0, tzinfo=UTC)),
        ("Mi, 02 Okt 2024 06:00:00 +0200", datetime(2024, 10, 2, 4, 0, tzinfo=UTC)),
        ("2003-12-13T18:30:02Z", datetime(2003, 12, 13, 18, 30, 2, tzinfo=UTC)),
        ("2003-12-13T18:30:02.25+01:00", datetime(2003, 12, 13, 17, 30, 2, tzinfo=UTC)),
        ("2025-09-02 17:45:00", datetime(2025, 9, 2, 17, 45, tzinfo=UTC)),
        ("2025-09-02", datetime(2025, 9, 2, tzinfo=UTC)),
    ],
)
def test_dates_become_aware_utc(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", [None, "", "   ", "yesterday", "Mon, 31 Feb 2020 00:00:00 GMT"])
def test_unreadable_dates_are_none(text: str | None) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3723", 3723),
        ("3723.9", 3723),
        ("62:03", 3723),
        ("02:03", 123),
        ("1:02:03", 3723),
        ("01:02:03", 3723),
        ("1:02:03.5", 3723),
        (" 00:20:00 ", 1200),
        ("1h 2m 3s", 3723),
        ("45 min", 2700),
    ],
)
def test_duration_formats_are_seconds(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", [None, "", "0", "00:00", "junk", "1:2:3:4", "-5", "nan", "1::2"])
def test_junk_or_zero_duration_is_none(text: str | None) -> None:
    assert parse_duration(text) is None


def test_zero_is_allowed_for_chapter_starts() -> None:
    assert parse_duration("00:00", allow_zero=True) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("August 18th, 2025", date(2025, 8, 18)),
        ("September 1st, 2025", date(2025, 9, 1)),
        ("March 2nd 2024", date(2024, 3, 2)),
        ("May 23rd, 2023 ", date(2023, 5, 23)),
        ("18 August 2025", date(2025, 8, 18)),
        ("2025-08-18", date(2025, 8, 18)),
    ],
)
def test_first_published_ordinal_dates(text: str, expected: date) -> None:
    assert parse_plain_date(text) == expected


def test_impossible_first_published_date_is_none() -> None:
    assert parse_plain_date("February 30th, 2025") is None
