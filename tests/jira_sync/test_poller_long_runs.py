"""Two hours of changes, polled every minute or after a long pause: each state stored once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.jira_sync.sites import (
    Site,
    assert_exactly_the_states_seen,
    assert_latest_states_match_jira,
    change,
    iso,
    stored,
)

# The fixture, imported under its own name so pytest finds it here.
from tests.jira_sync.sites import make_site as make_site

ZONES = ("America/New_York", "Australia/Lord_Howe")


@pytest.mark.parametrize("zone", ["UTC", *ZONES])
@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_two_hours_of_changes_polled_every_minute_are_stored_exactly_once(
    make_site: Callable[..., Site], flavour: str, zone: str
) -> None:
    site = make_site(flavour, zone)
    assert site.run() == 0
    for minute in range(1, 121):
        site.clock.advance(minutes=1)
        if minute % 4 == 0:
            change(site, minute // 4)
            site.clock.advance(seconds=17)
            change(site, minute // 4 + 50)  # two changes within one minute
        site.note()
        site.run()
        assert_exactly_the_states_seen(site)
    # The windows overlap: the last ones read again what earlier ones stored.
    assert site.run() == 0
    assert_latest_states_match_jira(site, assert_exactly_the_states_seen(site))


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_after_two_hours_without_a_run_the_latest_states_are_all_recovered(
    make_site: Callable[..., Site], flavour: str
) -> None:
    site = make_site(flavour, "America/New_York")
    site.run()
    for step in range(40):
        site.clock.advance(minutes=3)
        change(site, step)
    site.note()
    # Only the latest state of each issue exists any more; all comments are there.
    latest_only = {(i.key, iso(i.updated)) for i in site.fake.state.issues.values()}
    first = site.run()
    found = stored(site.engine)
    assert {(i.issue_key, i.updated) for i in found.issues} == latest_only
    assert {(c.comment_id, c.updated) for c in found.comments} == site.comment_states
    assert first == len(latest_only) + len(site.comment_states)
    assert_latest_states_match_jira(site, found)

    site.clock.advance(minutes=10)
    assert site.run() == 0
    change(site, 1)  # a comment
    comment_count = len(site.comment_states)
    site.note()
    assert site.run() == 2  # the issue's new state and the new comment
    assert len(site.comment_states) == comment_count + 1
