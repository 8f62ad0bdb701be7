"""The poller's JQL minutes in the API user's time zone, across clock changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jira_sync.poller import EARLIEST_ZONE, jql_minute
from tests.jira_sync.sites import (
    Site,
    assert_exactly_the_states_seen,
    assert_latest_states_match_jira,
    change,
)

# The fixture, imported under its own name so pytest finds it here.
from tests.jira_sync.sites import make_site as make_site


@pytest.mark.parametrize(
    ("zone", "transition"),
    [
        ("America/New_York", datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),  # 02:00 -> 03:00
        ("America/New_York", datetime(2026, 11, 1, 6, 0, tzinfo=UTC)),  # 02:00 -> 01:00
        ("Australia/Lord_Howe", datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),  # 02:00 -> 02:30
        ("Australia/Lord_Howe", datetime(2026, 4, 4, 15, 0, tzinfo=UTC)),  # 02:00 -> 01:30
    ],
    ids=["new-york-spring", "new-york-autumn", "lord-howe-spring", "lord-howe-autumn"],
)
@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_a_window_across_a_dst_change_misses_nothing(
    make_site: Callable[..., Site], flavour: str, zone: str, transition: datetime
) -> None:
    """Changes every few minutes through the change of the clocks, and some that become
    visible late (an older ``updated`` than what was already read, within the overlap)."""
    site = make_site(flavour, zone, start=transition - timedelta(minutes=75))
    site.bob.create("IT", "Before the change")
    site.note()
    site.run()
    for step in range(1, 60):
        site.clock.advance(minutes=1, seconds=31)
        change(site, step)
        site.note()
        site.run()
        assert_exactly_the_states_seen(site)
        if step % 5 == 0:
            # An issue that reaches the search index late: 90 s older than the newest one
            # the last run read (the next run must still find it).
            site.clock.advance(seconds=-90)
            site.bob.create("IT", f"Late {step}")
            site.clock.advance(seconds=90)
    assert_latest_states_match_jira(site, assert_exactly_the_states_seen(site))
    searches = [r for r in site.fake.requests if r.route and "/search" in r.route]
    assert searches, "the poller never searched"


@pytest.mark.parametrize(
    "zone", ["UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]
)
@settings(max_examples=300, deadline=None)
@given(
    instant=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    )
)
def test_the_jql_minute_is_never_read_as_later_than_meant(zone: str, instant: datetime) -> None:
    text, earliest = jql_minute(instant, ZoneInfo(zone))
    local = datetime.strptime(text, "%Y-%m-%d %H:%M")
    readings = {local.replace(tzinfo=ZoneInfo(zone), fold=f).astimezone(UTC) for f in (0, 1)}
    assert max(readings) <= instant
    assert min(readings) == earliest
    # And not much earlier either: a minute, or the clock change it steps over.
    assert instant - earliest <= timedelta(minutes=1, hours=1)


@pytest.mark.parametrize(
    ("zone", "instant", "expected"),
    [
        # 01:59:30 EDT, the first pass through 01:xx: "01:59" could be read as 01:59 EST, an
        # hour later, so the minute before the repeated hour is used.
        ("America/New_York", datetime(2026, 11, 1, 5, 59, 30, tzinfo=UTC), "2026-11-01 00:59"),
        # 01:30 EST, the second pass: either reading of "01:30" is at or before it.
        ("America/New_York", datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "2026-11-01 01:30"),
        # Just after the spring gap (03:00 EDT): never a skipped local time.
        ("America/New_York", datetime(2026, 3, 8, 7, 0, 40, tzinfo=UTC), "2026-03-08 03:00"),
        # Lord Howe goes back half an hour: 01:45 (+11) is ambiguous with 01:45 (+10:30).
        ("Australia/Lord_Howe", datetime(2026, 4, 4, 14, 45, tzinfo=UTC), "2026-04-05 01:29"),
        ("UTC", datetime(2026, 6, 1, 9, 0, 59, tzinfo=UTC), "2026-06-01 09:00"),
    ],
)
def test_jql_minutes_around_clock_changes(zone: str, instant: datetime, expected: str) -> None:
    assert jql_minute(instant, ZoneInfo(zone))[0] == expected


def test_an_unknown_user_time_zone_widens_the_window(
    make_site: Callable[..., Site], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site("cloud", "America/New_York")
    client = site.poller._client
    monkeypatch.setattr(client, "myself", lambda: {"timeZone": "Mars/Olympus_Mons"})
    site.bob.create("IT", "Hello")
    site.note()
    site.run()
    assert_exactly_the_states_seen(site)
    search = next(r for r in site.fake.requests if r.route and "/search" in r.route)
    jql = (search.json or {}).get("jql") or search.query["jql"][0]
    window_start = site.clock.now() - timedelta(minutes=30)
    expected, _ = jql_minute(window_start, EARLIEST_ZONE)
    assert f'updated >= "{expected}"' in jql
