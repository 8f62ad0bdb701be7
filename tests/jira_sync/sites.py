"""A fake Jira on a hand-moved clock with a poller on it, for the poller's tests.

The fake's wall clock is a hand-moved one here, so "two hours" of changes take no real time:
each change gets the time the test gives it, and JQL dates are read against those times in the
API user's own time zone, as Jira reads them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from deskhand.events import JiraCommentSeen, JiraIssueSeen
from deskhand.inbox import Inbox
from jira_sync.poller import JiraPoller
from sandbox.clock import Clock
from sandbox.jira import JiraDriver, JiraFake
from storage.cursors import read_cursor
from storage.models import InboxRow
from tests.contracts.jira import request_problems
from tests.jira_fixtures import connect, make_fake

VARYING = frozenset({"jql", "nextPageToken", "startAt"})
"""Query parameters whose values change from request to request."""


class HandClock(Clock):
    """Sandbox time whose wall clock stands still until the test moves it."""

    def __init__(self, start: datetime) -> None:
        super().__init__(speed=1000)
        self._wall = start.timestamp()
        self._lock = threading.Lock()

    def wall(self) -> float:
        with self._lock:
            return self._wall

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._wall += timedelta(**delta).total_seconds()

    def set(self, when: datetime) -> None:
        with self._lock:
            self._wall = when.timestamp()


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


@dataclass
class Stored:
    issues: list[JiraIssueSeen]
    comments: list[JiraCommentSeen]
    keys: list[str]


def stored(engine: Engine) -> Stored:
    with Session(engine) as session:
        found = list(session.scalars(select(InboxRow).order_by(InboxRow.id)))
    return Stored(
        issues=[
            JiraIssueSeen.from_payload(r.payload) for r in found if r.kind == "jira_issue_seen"
        ],
        comments=[
            JiraCommentSeen.from_payload(r.payload) for r in found if r.kind == "jira_comment_seen"
        ],
        keys=[r.dedupe_key for r in found],
    )


@dataclass
class Site:
    """A fake Jira on a hand-moved clock, a poller on it, and what Jira's states were."""

    fake: JiraFake
    clock: HandClock
    engine: Engine
    poller: JiraPoller
    bob: JiraDriver
    issue_states: set[tuple[str, str]] = field(default_factory=set)
    comment_states: set[tuple[str, str]] = field(default_factory=set)
    checked: int = 0
    shapes: set[tuple[Any, ...]] = field(default_factory=set)

    def note(self) -> None:
        """Remember Jira's current state of every issue and comment (what a poll must find)."""
        for issue in self.fake.state.issues.values():
            self.issue_states.add((issue.key, iso(issue.updated)))
            for comment in issue.comments:
                self.comment_states.add((comment.id, iso(comment.updated)))

    def run(self) -> int:
        count = self.poller.run_once()
        self.assert_requests_documented()
        return count

    def assert_requests_documented(self) -> None:
        """Every kind of request the poller sent is one Atlassian documents (checked once per
        endpoint and set of parameters: the JQL, page tokens and offsets vary freely)."""
        sent = self.fake.requests[self.checked :]
        self.checked += len(sent)
        for record in sent:
            shape = (
                record.method,
                record.route,
                tuple(sorted((k, tuple(v)) for k, v in record.query.items() if k not in VARYING)),
            )
            if shape not in self.shapes:
                assert request_problems(record) == []
                self.shapes.add(shape)

    def cursor(self) -> datetime | None:
        return read_cursor(self.engine, self.poller.cursor_name)


@pytest.fixture
def make_site(engine: Engine) -> Iterator[Callable[..., Site]]:
    started: list[JiraFake] = []

    def make(
        flavour: str, zone: str = "UTC", start: datetime | None = None, **options: Any
    ) -> Site:
        clock = HandClock(start or datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
        fake = make_fake(flavour, clock=clock, account_timezone=zone).start()
        started.append(fake)
        options.setdefault("first_lookback", timedelta(minutes=30))
        poller = JiraPoller(
            connect(fake),
            Inbox(engine),
            engine,
            ["IT"],
            flavour=fake.flavour,
            now=clock.now,
            **options,
        )
        return Site(fake, clock, engine, poller, JiraDriver(fake).user("bob"))

    yield make
    for fake in started:
        fake.stop()


def change(site: Site, step: int) -> None:
    """One of the things people do in Jira, by turns."""
    keys = sorted(site.fake.state.issues, key=lambda k: int(k.split("-")[1]))
    action = step % 6
    if action == 0 or not keys:
        site.bob.create("IT", f"Request {step}")
        return
    key = keys[step % len(keys)]
    issue = site.fake.state.issue(key)
    if action == 1:
        site.bob.comment(key, f"Comment {step}")
    elif action == 2:
        site.bob.transition(key, "In Progress" if issue.status != "In Progress" else "To Do")
    elif action == 3:
        site.bob.assign(key, "alice" if issue.assignee != "alice" else None)
    elif action == 4:
        priority = "High" if issue.priority is None or issue.priority.name != "High" else "Low"
        site.bob.edit(key, priority={"name": priority})
    else:
        site.bob.comment(key, f"Internal note {step}", internal=True)


def assert_exactly_the_states_seen(site: Site) -> Stored:
    found = stored(site.engine)
    issues = [(i.issue_key, i.updated) for i in found.issues]
    comments = [(c.comment_id, c.updated) for c in found.comments]
    assert len(issues) == len(set(issues)), "an issue state was stored twice"
    assert len(comments) == len(set(comments)), "a comment state was stored twice"
    assert set(issues) == site.issue_states
    assert set(comments) == site.comment_states
    assert len(found.keys) == len(set(found.keys))
    return found


def assert_latest_states_match_jira(site: Site, found: Stored) -> None:
    latest: dict[str, JiraIssueSeen] = {}
    for seen in found.issues:
        if seen.issue_key not in latest or seen.updated > latest[seen.issue_key].updated:
            latest[seen.issue_key] = seen
    assert set(latest) == set(site.fake.state.issues)
    for key, seen in latest.items():
        issue = site.fake.state.issue(key)
        assignee = site.fake.state.users[issue.assignee] if issue.assignee else None
        expected_assignee = None
        if assignee is not None:
            expected_assignee = assignee.account_id if site.fake.flavour == "cloud" else "alice"
        assert (seen.status, seen.priority, seen.assignee, seen.actor) == (
            issue.status,
            issue.priority.name if issue.priority else None,
            expected_assignee,
            None,
        )
    bodies = {c.comment_id: c for c in found.comments}
    for issue in site.fake.state.issues.values():
        for comment in issue.comments:
            assert bodies[comment.id].body == comment.body
            assert bodies[comment.id].internal == comment.internal
            assert bodies[comment.id].issue_key == issue.key
