"""Jira → Slack with the poller alone (ACCEPTANCE 13): no webhook ever reaches Deskhand.

The fake Jira keeps its own clock here, one that runs with real time but that the test moves
ahead by minutes: "two hours without webhooks" then takes seconds, and the hours can be put
around a change of the clocks (the first such change months after today, whatever today is:
the poller's very first window, taken on Deskhand's real clock, then lies before all of
Jira's changes). The API user's time zone is
not UTC, so every JQL date the poller writes is a local time of that zone, read by the fake as
Jira reads it: with minute precision, and ambiguous (autumn) or skipped (spring) around the
change. Slack and Deskhand stay on real time: the only times Deskhand compares with Jira's
are Jira's own.

Once the ticket exists the app's own poll loop is stopped and polls are driven with
``JiraPoller.run_once``, so each test decides exactly when Jira is read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jira_sync.poller import JiraPoller
from sandbox.clock import Clock
from sandbox.jira import JiraDriver
from sandbox.jira.model import Issue
from sandbox.slack.state import Message
from sandbox.world import SandboxWorld
from tests.e2e.conftest import Running
from tests.e2e.test_jira_sync_out import JIRA_CONFIG, open_ticket
from tests.waiting import DEADLINE


@dataclass(frozen=True)
class ClockChange:
    zone: str
    at: datetime
    """The instant the clocks change (UTC)."""


def clocks_change(zone: str, *, forward: bool, after: datetime) -> ClockChange:
    """The first change of ``zone``'s clocks after ``after`` that puts them forward (or
    back), to the minute."""
    tz = ZoneInfo(zone)
    start = after.replace(minute=0, second=0, microsecond=0)
    for _ in range(24 * 366 * 2):
        end = start + timedelta(hours=1)
        before, later = start.astimezone(tz).utcoffset(), end.astimezone(tz).utcoffset()
        assert before is not None
        assert later is not None
        if later != before and (later > before) == forward:
            minute = start
            while minute.astimezone(tz).utcoffset() == before:
                minute += timedelta(minutes=1)
            return ClockChange(zone, minute)
        start = end
    raise LookupError(f"{zone} changes its clocks no more")


MONTHS_AHEAD = datetime.now(UTC) + timedelta(days=60)
"""Jira's hours lie after today's, whatever the date the suite runs on."""
NEW_YORK_AUTUMN = clocks_change("America/New_York", forward=False, after=MONTHS_AHEAD)
"""02:00 EDT becomes 01:00 EST: the hour from 01:00 to 02:00 happens twice."""
LORD_HOWE_SPRING = clocks_change("Australia/Lord_Howe", forward=True, after=MONTHS_AHEAD)
"""02:00 (+10:30) becomes 02:30 (+11:00): half an hour of local times never happens."""
LEAD_IN = timedelta(minutes=70)
"""How long before the change of the clocks the fake Jira's day begins."""
POLL_INTERVAL = 3600.0
"""The app's own poll loop, which is stopped anyway once a test's ticket exists."""
SECRET = "jira-webhook-secret-for-tests"


class JiraClock(Clock):
    """The fake Jira's wall clock: real time flowing from ``start``, moved ahead by hand.

    It never goes back, and it keeps running between two moves, so two changes never share a
    millisecond unless they really happen within one. Waits (``monotonic``) stay the sandbox's.
    """

    def __init__(self, start: datetime, *, speed: float) -> None:
        super().__init__(speed=speed)
        self._offset = start.timestamp() - time.time()
        self._lock = threading.Lock()

    def wall(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("the fake Jira's clock never goes back")
        with self._lock:
            self._offset += delta.total_seconds()


@pytest.fixture(params=["cloud", "server"])
def jira_flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def transport() -> str:
    return "socket"


@pytest.fixture
def config_text() -> str:
    return JIRA_CONFIG


@pytest.fixture
def webhook_secrets() -> list[str]:
    """None: Deskhand refuses every webhook, the poller alone brings Jira's changes."""
    return []


@pytest.fixture
def build_options(webhook_secrets: list[str]) -> dict[str, Any]:
    return {"jira_poll_interval": POLL_INTERVAL, "jira_webhook_secrets": webhook_secrets}


@pytest.fixture
def clock_change() -> ClockChange:
    """The change of the clocks the test's hours go through; a test may parametrize it."""
    return NEW_YORK_AUTUMN


@pytest.fixture
def sandbox_world(sandbox_world: SandboxWorld, clock_change: ClockChange) -> SandboxWorld:
    """The suite's sandbox, its Jira on a clock of its own and its API user (Deskhand's
    account) living in ``clock_change.zone``, as is carol, who works in Jira."""
    clock = JiraClock(clock_change.at - LEAD_IN, speed=sandbox_world.clock.speed)
    jira = sandbox_world.jira
    jira.clock = clock
    jira.state.clock = clock
    jira.bot.time_zone = clock_change.zone
    jira.state.user("carol").time_zone = clock_change.zone
    return sandbox_world


def the_clock(running: Running) -> JiraClock:
    clock = running.world.jira.state.clock
    assert isinstance(clock, JiraClock)
    return clock


def the_poller(running: Running) -> JiraPoller:
    poller = running.deskhand.poller
    assert poller is not None, "the poller should be on"
    return poller


def poll(running: Running) -> int:
    """One run of Deskhand's poller, and Deskhand done with what it stored."""
    stored = the_poller(running).run_once()
    running.settle()
    return stored


@dataclass
class Posts:
    """The bot's posts in the ticket's two threads, and anywhere, from a starting point on."""

    running: Running
    question: Message
    triage: Message
    skip_public: int = field(init=False)
    skip_internal: int = field(init=False)
    skip_all: int = field(init=False)

    def __post_init__(self) -> None:
        self.skip_public = len(self._bot(self.question))
        self.skip_internal = len(self._bot(self.triage))
        self.skip_all = len(self.running.world.slack.driver.bot_posts())

    def _bot(self, root: Message) -> list[str]:
        bot = self.running.world.slack.workspace.bot.id
        driver = self.running.world.slack.driver
        return [m.text for m in driver.thread(root) if m.user == bot and m.ts != root.ts]

    def public(self) -> list[str]:
        return self._bot(self.question)[self.skip_public :]

    def internal(self) -> list[str]:
        return self._bot(self.triage)[self.skip_internal :]

    def count_everywhere(self) -> int:
        return len(self.running.world.slack.driver.bot_posts()) - self.skip_all


def jira_writes(running: Running, since: int) -> list[str]:
    """Deskhand's writes to Jira after request number ``since``."""
    return [
        f"{r.method} {r.route}"
        for r in running.world.jira.requests[since:]
        if r.method in ("POST", "PUT", "DELETE")
    ]


@dataclass(frozen=True)
class Change:
    """Something carol does in Jira, and the lines Deskhand must post for it in the
    requester's thread (``public``) and the triage card's thread (``internal``)."""

    make: Callable[[JiraDriver, str], Any]
    public: tuple[str, ...] = ()
    internal: tuple[str, ...] = ()


CHANGES = (
    Change(
        lambda carol, key: carol.comment(key, "Which office are you in?"),
        public=("*Carol* (in Jira):\nWhich office are you in?",),
    ),
    Change(
        lambda carol, key: carol.comment(key, "Berlin concentrator again?", internal=True),
        internal=("*Carol* (internal note in Jira):\nBerlin concentrator again?",),
    ),
    Change(
        lambda carol, key: carol.transition(key, "In Progress"),
        public=("IT-1 is now *in progress*.",),
    ),
    Change(
        lambda carol, key: carol.assign(key, "bob"),
        public=("Bob is now working on IT-1.",),
    ),
    Change(
        lambda carol, key: carol.edit(key, priority={"name": "High"}),
        public=("IT-1's priority is now *high*.",),
    ),
    Change(
        lambda carol, key: carol.comment(key, "Restarted the concentrator: try again?"),
        public=("*Carol* (in Jira):\nRestarted the concentrator: try again?",),
    ),
    Change(
        lambda carol, key: carol.transition(key, "Done"),
        public=("IT-1 is now *resolved*. Reply here if it is not fixed.",),
    ),
)


def start(running: Running) -> tuple[Posts, Issue, JiraDriver, int]:
    """A ticket with its Jira issue, everything Deskhand wrote to Jira read back once, the
    app's own poll loop stopped (from here on the test's polls are the only ones), and the
    bot's posts counted from there."""
    question, triage, issue = open_ticket(running)
    for loop in running.deskhand.loops:
        if loop.name == "jira-poll":
            loop.stop()
    poll(running)
    assert poll(running) == 0
    posts = Posts(running, question, triage)
    carol = JiraDriver(running.world.jira).user("carol")
    return posts, issue, carol, len(running.world.jira.requests)


def test_two_hours_of_polls_across_the_change_of_the_clocks_bring_every_change_once(
    running: Running,
) -> None:
    """Polls every 3 min 41 s of Jira's time for two hours, from 00:50 EDT through the hour
    that New York lives twice. Some changes come just before a poll, some just after one in
    the same minute (JQL cannot tell them apart from what the poll already read), so only the
    overlap of the windows finds them. After every poll the threads hold exactly what Jira's
    changes so far should have made, no more."""
    posts, issue, carol, requests_before = start(running)
    clock = the_clock(running)
    zone = ZoneInfo(NEW_YORK_AUTUMN.zone)
    began = clock.now()
    pending = list(CHANGES)
    public: list[str] = []
    internal: list[str] = []
    local_hours: set[tuple[int, str | None]] = set()
    step = 0
    while clock.now() - began < timedelta(hours=2):
        step += 1
        clock.advance(timedelta(minutes=3, seconds=41))
        if pending and step % 4 == 0:  # a change, then the poll, within the same minute
            change = pending.pop(0)
            change.make(carol, issue.key)
            public += change.public
            internal += change.internal
        poll(running)
        assert posts.public() == public
        assert posts.internal() == internal
        if pending and step % 4 == 2:  # a poll, then a change seconds later in its minute
            clock.advance(timedelta(seconds=2))
            change = pending.pop(0)
            change.make(carol, issue.key)
            public += change.public
            internal += change.internal
        local = clock.now().astimezone(zone)
        local_hours.add((local.hour, local.tzname()))
    assert not pending, "the two hours ended before every change was made"
    assert {(1, "EDT"), (1, "EST")} <= local_hours, "the hours did not cross the change"

    # Polls again and again over the same windows: nothing more is stored or posted.
    for _ in range(3):
        assert poll(running) == 0
        clock.advance(timedelta(seconds=50))
    assert posts.public() == public
    assert posts.internal() == internal
    assert posts.count_everywhere() == len(public) + len(internal)
    assert_ticket_is_where_jira_is(running)
    # Changes from Jira went nowhere but Slack: not one write back to Jira.
    assert jira_writes(running, requests_before) == []


@pytest.mark.parametrize(
    "clock_change", [NEW_YORK_AUTUMN, LORD_HOWE_SPRING], ids=["new-york-autumn", "lord-howe-spring"]
)
def test_after_two_hours_without_a_poll_one_run_recovers_everything_once(
    running: Running, clock_change: ClockChange
) -> None:
    """Every change of two hours, through the change of the clocks, and then the first poll
    in all that time: every comment reaches Slack once, each field its latest value once
    (a poll sees Jira's state, not the steps to it: the ticket was never *in progress* as far
    as Deskhand can tell), and later polls over overlapping windows add nothing."""
    posts, issue, carol, requests_before = start(running)
    clock = the_clock(running)
    for change in CHANGES:
        clock.advance(timedelta(minutes=17))
        change.make(carol, issue.key)
    assert clock.now() > clock_change.at + timedelta(minutes=30)

    assert poll(running) > 0
    expected_public = {
        "*Carol* (in Jira):\nWhich office are you in?",
        "*Carol* (in Jira):\nRestarted the concentrator: try again?",
        "Bob is now working on IT-1.",
        "IT-1's priority is now *high*.",
        "IT-1 is now *resolved*. Reply here if it is not fixed.",
    }
    public = posts.public()
    assert sorted(public) == sorted(expected_public)
    assert posts.internal() == ["*Carol* (internal note in Jira):\nBerlin concentrator again?"]

    for gap in (timedelta(seconds=30), timedelta(minutes=1, seconds=10), timedelta(hours=1)):
        clock.advance(gap)
        assert poll(running) == 0
    assert posts.public() == public
    assert posts.count_everywhere() == len(expected_public) + 1
    assert_ticket_is_where_jira_is(running)
    assert jira_writes(running, requests_before) == []


def assert_ticket_is_where_jira_is(running: Running) -> None:
    [ticket] = running.tickets()
    bob = running.world.slack.workspace.find_user("bob")
    assert bob is not None
    assert (ticket.status, ticket.assignee, ticket.priority) == ("resolved", bob.id, "high")


def wait_for(condition: Callable[[], bool], timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def posted_in(running: Running, root: Message, ending: str) -> Callable[[], bool]:
    """Whether the bot has posted a message ending with ``ending`` in ``root``'s thread."""
    bot = running.world.slack.workspace.bot.id

    def posted() -> bool:
        thread = running.world.slack.driver.thread(root)
        return any(m.user == bot and m.text.endswith(ending) for m in thread)

    return posted


def searches(running: Running) -> int:
    return sum(1 for r in running.world.jira.requests if r.route and "/search" in r.route)


@pytest.mark.parametrize("webhook_secrets", [[SECRET]])
@pytest.mark.parametrize("jira_flavour", ["cloud"])
def test_webhooks_do_not_make_the_poller_run_before_its_interval(running: Running) -> None:
    """With webhooks and an hourly poller, five comments in Jira (each seen in Slack before
    the next) are five webhooks and no poll: the poller covers what webhooks miss, at its
    interval, and spends none of Jira's rate budget on webhooks that did arrive."""
    from sandbox.jira.webhooks import WebhookSender

    question, _, issue = open_ticket(running)
    carol = JiraDriver(running.world.jira).user("carol")
    url = f"{running.web_url}/jira/webhook"
    with WebhookSender(running.world.jira, url, SECRET, retry_delays=(1.0,)) as webhooks:
        assert webhooks.wait_idle(DEADLINE)
        before = searches(running)
        for number in range(5):
            carol.comment(issue.key, f"Comment {number}")
            wait_for(posted_in(running, question, f"Comment {number}"))
    assert searches(running) == before
