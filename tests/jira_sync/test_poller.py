"""The Jira poller against the fake Jira Cloud and Server, through the real ``jira`` client.

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
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from deskhand.events import JiraCommentSeen, JiraIssueSeen
from deskhand.inbox import Inbox
from deskhand.ports import RateLimitedError, UnavailableError
from jira_sync.poller import EARLIEST_ZONE, JiraPoller, jql_minute
from sandbox.clock import Clock
from sandbox.faults import Fault, FaultKind
from sandbox.jira import JiraDriver, JiraFake
from storage.cursors import move_cursor, read_cursor
from storage.models import InboxRow
from tests.contracts.jira import request_problems
from tests.jira_fixtures import connect, make_fake

ZONES = ("America/New_York", "Australia/Lord_Howe")
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


# -- two hours without webhooks -------------------------------------------------------------------


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


# -- time zones and DST ---------------------------------------------------------------------------


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


# -- paging ---------------------------------------------------------------------------------------


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


# -- the cursor -----------------------------------------------------------------------------------


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


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(FaultKind.SERVER_ERROR, status=503), UnavailableError),
        (Fault(FaultKind.RATE_LIMIT, retry_after=7), RateLimitedError),
    ],
    ids=["503", "429"],
)
@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_jira_errors_surface_and_the_next_run_catches_up(
    make_site: Callable[..., Site], flavour: str, fault: Fault, error: type[Exception]
) -> None:
    site = make_site(flavour)
    site.run()
    site.bob.create("IT", "During the outage")
    site.bob.comment("IT-1", "also during")
    site.note()
    before = site.cursor()
    site.fake.faults.add("GET /issue/{key}/comment", fault)
    with pytest.raises(error):
        site.run()
    assert site.cursor() == before
    assert stored(site.engine).comments == []
    site.run()
    assert_exactly_the_states_seen(site)
    assert site.cursor() == datetime.fromisoformat(stored(site.engine).issues[-1].updated)


def test_an_issue_deleted_while_its_comments_are_read_is_passed_over(
    make_site: Callable[..., Site], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site("server")
    site.bob.create("IT", "Going away")
    site.bob.create("IT", "Staying")
    site.bob.comment("IT-2", "hello")
    client = site.poller._client
    comments = client.comments

    def delete_first(key: str, *args: Any, **kwargs: Any) -> Any:
        if key == "IT-1" and "IT-1" in site.fake.state.issues:
            site.fake.state.delete_issue(site.fake.state.user("bob"), "IT-1")
        return comments(key, *args, **kwargs)

    monkeypatch.setattr(client, "comments", delete_first)
    assert site.run() == 3
    assert [c.body for c in stored(site.engine).comments] == ["hello"]


def test_bad_arguments_are_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="flavour"):
        JiraPoller(None, Inbox(engine), engine, ["IT"], flavour="datacenter")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="project"):
        JiraPoller(None, Inbox(engine), engine, [], flavour="cloud")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        JiraPoller(
            None,  # type: ignore[arg-type]
            Inbox(engine),
            engine,
            ["IT"],
            flavour="cloud",
            overlap=timedelta(minutes=-1),
        )
