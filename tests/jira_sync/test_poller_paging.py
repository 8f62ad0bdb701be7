"""The poller reads every page of issues and comments, and skips none when issues move."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.jira_sync.sites import Site, assert_exactly_the_states_seen, iso, stored

# The fixture, imported under its own name so pytest finds it here.
from tests.jira_sync.sites import make_site as make_site


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_more_issues_than_a_page_in_one_minute_and_across_minutes(
    make_site: Callable[..., Site], flavour: str
) -> None:
    site = make_site(flavour, "America/New_York", page_size=3)
    for number in range(10):  # one minute: the client's own paging
        site.bob.create("IT", f"Burst {number}")
        site.clock.advance(seconds=2)
    for number in range(10):  # many minutes: new queries from the last minute seen
        site.clock.advance(minutes=1)
        site.bob.create("IT", f"Spread {number}")
        site.bob.comment(f"IT-{11 + number}", "first")
    site.note()
    assert site.run() == 20 + 10
    assert_exactly_the_states_seen(site)
    searches = [r for r in site.fake.requests if r.route and "/search" in r.route]
    if flavour == "cloud":
        assert any("nextPageToken" in r.query for r in searches)
    else:
        assert any(r.query.get("startAt", ["0"]) != ["0"] for r in searches)
    assert len({r.query["jql"][0] for r in searches}) > 3


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_an_issue_changed_between_two_pages_makes_none_skipped(
    make_site: Callable[..., Site], flavour: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offset paging would skip an issue here: the first issue, changed after the first page,
    moves to the end and the rest move up by one."""
    site = make_site(flavour, "UTC", page_size=3)
    for number in range(8):
        site.clock.advance(minutes=1)
        site.bob.create("IT", f"Request {number}")
    site.clock.advance(minutes=1)
    client = site.poller._client
    method = "enhanced_search_issues" if flavour == "cloud" else "search_issues"
    search = getattr(client, method)
    calls = 0

    def search_while_someone_works(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        answer = search(*args, **kwargs)
        if calls == 1:
            site.bob.edit("IT-1", priority={"name": "Highest"})
            site.note()
        return answer

    monkeypatch.setattr(client, method, search_while_someone_works)
    site.note()
    site.run()
    found = stored(site.engine)
    assert {i.issue_key for i in found.issues} == {f"IT-{n}" for n in range(1, 9)}
    assert ("IT-1", iso(site.fake.state.issue("IT-1").updated)) in {
        (i.issue_key, i.updated) for i in found.issues
    }


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_more_comments_than_a_page(make_site: Callable[..., Site], flavour: str) -> None:
    site = make_site(flavour)
    site.bob.create("IT", "Chatty")
    for number in range(230):
        site.clock.advance(seconds=1)
        site.bob.comment("IT-1", f"Comment {number}")
    site.note()
    assert site.run() == 1 + 230
    found = assert_exactly_the_states_seen(site)
    assert [c.body for c in found.comments] == [f"Comment {n}" for n in range(230)]
    pages = [r for r in site.fake.requests if r.route and r.route.endswith("/comment")]
    assert [r.query["startAt"] for r in pages] == [["0"], ["100"], ["200"]]
