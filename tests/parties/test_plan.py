"""A party's start time, its scheduled event's fields and its start notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.feeds.model import Episode
from bot.outgoing import CONTENT_MAX
from bot.parties.plan import (
    EVENT_DESCRIPTION_MAX,
    EVENT_NAME_MAX,
    MENTIONS_MAX,
    PartyTimeError,
    event_fields,
    parse_when,
    start_notice,
)

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in 30m", NOW + timedelta(minutes=30)),
        ("1h30m", NOW + timedelta(hours=1, minutes=30)),
        ("in 2 hours", NOW + timedelta(hours=2)),
        ("3 days", NOW + timedelta(days=3)),
        ("20:30", datetime(2026, 12, 4, 20, 30, tzinfo=UTC)),
        ("17:15 UTC", datetime(2026, 12, 5, 17, 15, tzinfo=UTC)),  # passed today: tomorrow
        ("2026-12-24 18:00", datetime(2026, 12, 24, 18, 0, tzinfo=UTC)),
        ("2026-12-24T18:00+01:00", datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
        ("<t:1796500000:F>", datetime.fromtimestamp(1796500000, UTC)),
    ],
)
def test_start_times_members_type(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("whenever", "could not read"),
        ("in 0m", "at least a minute"),
        ("2020-01-01 10:00", "at least a minute"),
        ("in 200 days", "within 90 days"),
        ("<t:99999999999999>", "could not read"),
    ],
)
def test_unusable_start_times_are_one_sentence(text: str, says: str) -> None:
    with pytest.raises(PartyTimeError) as refused:
        parse_when(text, NOW)
    assert says in refused.value.message


def test_event_fields_fit_discords_limits() -> None:
    long = Episode(id="g", title="T" * 300, description="<p>" + "Word. " * 400 + "</p>")
    fields = event_fields(long, "A feed", NOW)
    assert len(fields.name) == EVENT_NAME_MAX and fields.name.endswith("…")
    assert len(fields.description) <= EVENT_DESCRIPTION_MAX
    assert fields.description.startswith("Listening party: A feed\n\nWord.")
    assert event_fields(Episode(id="g", title="  "), "", NOW).name == "Listening party"


def test_the_start_notice_mentions_whom_it_may_and_counts_the_rest() -> None:
    few = start_notice("An *episode*", 42, [1, 2, 2, 3])
    assert few.mentioned == (1, 2, 3)
    assert few.content.endswith("<#42>. <@1> <@2> <@3>") and r"An \*episode\*" in few.content
    many = start_notice("Ep", 42, list(range(10**17, 10**17 + 250)))
    assert len(many.mentioned) <= MENTIONS_MAX and len(many.content) <= CONTENT_MAX
    assert many.content.endswith(f" and {250 - len(many.mentioned)} more")
    assert all(f"<@{u}>" in many.content for u in many.mentioned)
