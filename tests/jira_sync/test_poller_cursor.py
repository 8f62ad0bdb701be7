"""The poller's cursor: where the first run begins, how it moves, and whose it is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from deskhand.inbox import Inbox
from jira_sync.poller import JiraPoller
from storage.cursors import move_cursor, read_cursor
from tests.jira_fixtures import connect
from tests.jira_sync.sites import Site, stored

# The fixture, imported under its own name so pytest finds it here.
from tests.jira_sync.sites import make_site as make_site


def test_the_first_run_looks_back_and_remembers_where_it_began(
    make_site: Callable[..., Site],
) -> None:
    site = make_site("cloud", first_lookback=timedelta(minutes=30))
    site.bob.create("IT", "Too old for the first run")
    site.clock.advance(minutes=45)
    assert site.run() == 0
    assert site.cursor() == site.clock.now() - timedelta(minutes=30)
    # Hours pass before the next run: the window still begins where the first one did.
    site.clock.advance(minutes=5)
    site.bob.create("IT", "Made before the pause")
    created = site.clock.now()
    site.clock.advance(hours=6)
    assert site.run() == 1
    assert site.cursor() == created
    assert [i.issue_key for i in stored(site.engine).issues] == ["IT-2"]


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_the_cursor_is_the_newest_update_seen_and_never_moves_back(
    make_site: Callable[..., Site], flavour: str
) -> None:
    site = make_site(flavour, "Australia/Lord_Howe")
    site.bob.create("IT", "First")
    site.clock.advance(minutes=3)
    site.bob.create("IT", "Second")
    newest = site.clock.now()
    site.run()
    assert site.cursor() == newest

    # A change that shows up late, older than the cursor but inside the overlap.
    site.clock.advance(seconds=-100)
    site.bob.comment("IT-1", "late")
    site.note()
    site.clock.advance(minutes=5)
    assert site.run() == 2
    assert site.cursor() == newest

    # Someone moved the cursor ahead (another replica): this run does not pull it back.
    ahead = newest + timedelta(hours=1)
    move_cursor(site.engine, site.poller.cursor_name, ahead)
    site.run()
    assert site.cursor() == ahead


def test_pollers_with_their_own_cursor_names_do_not_share_a_cursor(
    make_site: Callable[..., Site], engine: Engine
) -> None:
    site = make_site("cloud")
    site.bob.create("IT", "First")
    site.run()
    other = JiraPoller(
        connect(site.fake),
        Inbox(engine),
        engine,
        ["IT"],
        flavour="cloud",
        cursor_name="jira-poll-other",
        now=site.clock.now,
    )
    assert read_cursor(engine, "jira-poll-other") is None
    assert other.run_once() == 0  # same states, same keys: stored once in all
    assert read_cursor(engine, "jira-poll-other") == site.cursor()
