"""The Jira poller: reads what changed in Jira since last time and stores it in the inbox.

It covers webhooks that never came (down for hours, dropped, no public URL at all). Each run:

1. reads the cursor (the newest ``updated`` seen so far) and starts its window ``overlap``
   before it, because JQL dates have minute precision and Cloud's search is eventually
   consistent: a change can become visible after later ones;
2. asks ``project in (…) AND updated >= "yyyy-MM-dd HH:mm" ORDER BY updated ASC``, the date
   written in the API user's own time zone (``GET /myself``), which is how Jira reads it;
3. stores every issue it finds as a ``JiraIssueSeen`` and every comment of it as a
   ``JiraCommentSeen``, under keys naming the state (``jira-poll:issue:<key>:<updated>``,
   ``jira-poll:comment:<id>:<updated>``), so overlapping windows store each state once;
4. moves the cursor to the newest ``updated`` it saw (the cursor never moves back).

Paging. Offset pages over a list sorted by a field that changes under the reader can skip an
issue: when an earlier issue is updated between two pages it moves to the end and everything
after it shifts up by one. So the poller seeks instead: after a page, the next query starts
again from the minute of the page's last issue (issues already seen in this run are skipped).
Only when a whole page shares one minute does it page on within the same query, with the
client's own paging (``nextPageToken`` on Cloud's ``/search/jql``, ``startAt`` on Server's
``/search``). (More than a page of issues in one minute, one of which changes while they are
being paged, is the one case left where an issue can be passed over.)

Comments are read again for every issue in the window, so a comment edit is found only when it
moves its issue's ``updated``.

What polling cannot see: a deleted issue no longer matches the search, and a deleted comment
is no longer listed; those come from webhooks only. States between two runs are not seen, only
the latest one; the core applies states by ``updated``, so the end result is the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jira
from sqlalchemy import Engine

from deskhand.events import Event
from deskhand.inbox import Delivery, Inbox
from deskhand.ports import RejectedError
from jira_sync.errors import translated
from jira_sync.inbound import comment_from_rest, issue_from_rest, normalise_time
from storage.cursors import move_cursor, read_cursor

log = logging.getLogger(__name__)

Flavour = Literal["cloud", "server"]

SEARCH_FIELDS = ("updated", "status", "priority", "assignee")
PAGE_SIZE = 100
"""Issues per search page: Cloud serves at most 100 issues with fields in one page."""
COMMENT_PAGE_SIZE = 100
"""Comments per page; well under Jira's cap (5,000), so a short page is the last one."""
MAX_PAGES = 10_000
"""Search pages in one run at most: a guard against a search that never says it is done."""
EARLIEST_ZONE = ZoneInfo("Etc/GMT+12")
"""UTC-12, the earliest clock in use: a date written in it is never read as later than meant,
whatever zone Jira reads it in. Used when the API user's time zone is unknown."""
JQL_MINUTE = "%Y-%m-%d %H:%M"


def jql_minute(instant: datetime, zone: ZoneInfo) -> tuple[str, datetime]:
    """The latest ``yyyy-MM-dd HH:mm`` in ``zone`` that Jira cannot read as later than
    ``instant``, and the earliest instant it can mean.

    JQL dates are local times of minute precision. Around a DST change a local time can be
    ambiguous (clocks go back: read as the first or the second pass) or skipped (clocks go
    forward); whichever reading Jira takes, the window must not start after ``instant``, so
    such a minute is replaced by an earlier one that every reading keeps at or before it.
    """
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    local = instant.astimezone(zone).replace(second=0, microsecond=0, tzinfo=None)
    for _ in range(24 * 60):
        readings = [local.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
        if max(readings) <= instant:
            return local.strftime(JQL_MINUTE), min(readings)
        local -= timedelta(minutes=1)
    raise ValueError(f"no unambiguous minute within a day before {instant} in {zone.key}")


def _jql_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class JiraPoller:
    """Polls ``projects`` through ``client`` (built without retries of its own, with a timeout)
    and stores what it finds in ``inbox``; its cursor lives in ``engine``'s ``sync_cursors``.

    ``first_lookback``: how far back the very first run looks. ``now``: the clock for that first
    window (tests pass their own). Errors from Jira surface as the core's port errors
    (``jira_sync.errors.translated``, an answer that broke off or is not JSON included); the
    caller's loop logs them and runs again later, and nothing is lost because the cursor only
    moves after a complete run.
    """

    def __init__(
        self,
        client: jira.JIRA,
        inbox: Inbox,
        engine: Engine,
        projects: Sequence[str],
        *,
        flavour: Flavour,
        overlap: timedelta = timedelta(minutes=2),
        first_lookback: timedelta = timedelta(hours=1),
        cursor_name: str = "jira-poll",
        page_size: int = PAGE_SIZE,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if flavour not in ("cloud", "server"):
            raise ValueError(f"flavour must be 'cloud' or 'server', not {flavour!r}")
        if not projects:
            raise ValueError("the poller needs at least one project")
        if overlap < timedelta(0) or first_lookback < timedelta(0):
            raise ValueError("overlap and first_lookback must not be negative")
        if not 1 <= page_size <= PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {PAGE_SIZE}")
        self._client = client
        self._inbox = inbox
        self._engine = engine
        self.projects = tuple(projects)
        self.flavour: Flavour = flavour
        self.overlap = overlap
        self.first_lookback = first_lookback
        self.cursor_name = cursor_name
        self.page_size = page_size
        self._now = now

    # -- one run ----------------------------------------------------------------------------

    def run_once(self) -> int:
        """Read one window; the number of events newly stored."""
        cursor = read_cursor(self._engine, self.cursor_name)
        since = self._now() - self.first_lookback if cursor is None else cursor - self.overlap
        zone = self._zone()
        stored = 0
        newest: datetime | None = None
        for raw in self._issues(since, zone):
            issue = issue_from_rest(raw)
            stored += self._store(f"jira-poll:issue:{issue.issue_key}:{issue.updated}", issue)
            for raw_comment in self._comments(issue.issue_key):
                comment = comment_from_rest(issue.issue_key, raw_comment)
                key = f"jira-poll:comment:{comment.comment_id}:{comment.updated}"
                stored += self._store(key, comment)
            updated = datetime.fromisoformat(issue.updated)
            newest = updated if newest is None else max(newest, updated)
        if newest is not None:
            move_cursor(self._engine, self.cursor_name, newest)
        elif cursor is None:
            # Nothing yet: remember where the first window began, so a long pause before the
            # next run does not leave a gap.
            move_cursor(self._engine, self.cursor_name, since)
        return stored

    def _store(self, key: str, event: Event) -> int:
        delivery = Delivery(source="jira", key=key, kind=event.KIND, payload=event.payload())
        return 1 if self._inbox.store(delivery) else 0

    # -- Jira -------------------------------------------------------------------------------

    def _zone(self) -> ZoneInfo:
        """The API user's time zone, asked each run (an admin may change it)."""
        with translated(write=False):
            name = self._client.myself().get("timeZone")
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            log.warning(
                "the Jira API user's time zone %r is unknown: polling with wider windows", name
            )
            return EARLIEST_ZONE

    def _jql(self, start: str) -> str:
        projects = ", ".join(_jql_string(p) for p in self.projects)
        return f'project in ({projects}) AND updated >= "{start}" ORDER BY updated ASC'

    def _issues(self, since: datetime, zone: ZoneInfo) -> Iterator[Mapping[str, Any]]:
        """Every issue updated at or after ``since`` (and a little before), each state once."""
        seen: set[tuple[str, str]] = set()
        bound = since
        pages = 0
        while True:
            start, earliest = jql_minute(bound, zone)
            jql = self._jql(start)
            page: str | int | None = None
            while True:
                pages += 1
                if pages > MAX_PAGES:
                    raise RuntimeError(f"Jira's search gave more than {MAX_PAGES} pages")
                issues, page = self._search_page(jql, page)
                for issue in issues:
                    ident = (str(issue.get("key")), str(issue.get("fields", {}).get("updated")))
                    if ident not in seen:
                        seen.add(ident)
                        yield issue
                if page is None or not issues:
                    return
                last = datetime.fromisoformat(normalise_time(issues[-1]["fields"]["updated"]))
                if jql_minute(last, zone)[1] > earliest:
                    bound = last  # seek: a new query from the last issue's minute
                    break
                # The whole page is one minute: page on within this query.

    def _search_page(
        self, jql: str, page: str | int | None
    ) -> tuple[list[Mapping[str, Any]], str | int | None]:
        """One page of ``jql`` and what names the next page (None after the last)."""
        with translated(write=False):
            if self.flavour == "cloud":
                found = self._client.enhanced_search_issues(
                    jql,
                    nextPageToken=str(page) if page else None,
                    maxResults=self.page_size,
                    fields=list(SEARCH_FIELDS),
                    json_result=True,
                )
            else:
                found = self._client.search_issues(
                    jql,
                    startAt=int(page or 0),
                    maxResults=self.page_size,
                    fields=list(SEARCH_FIELDS),
                    json_result=True,
                )
        if not isinstance(found, dict):
            raise RejectedError("search", f"unexpected search answer: {type(found).__name__}")
        issues = [i for i in found.get("issues") or [] if isinstance(i, Mapping)]
        if self.flavour == "cloud":
            token = found.get("nextPageToken")
            return issues, (str(token) if token and not found.get("isLast") else None)
        following = int(found.get("startAt") or 0) + len(issues)
        total = found.get("total")
        more = bool(issues) and (total is None or following < int(total))
        return issues, (following if more else None)

    def _comments(self, issue_key: str) -> Iterator[Mapping[str, Any]]:
        """All comments of an issue, oldest first, with their properties (JSM's internal flag
        on Server)."""
        start = 0
        while True:
            try:
                with translated(write=False):
                    page = self._client.comments(
                        issue_key,
                        expand="properties",
                        start_at=start,
                        max_results=COMMENT_PAGE_SIZE,
                        order_by="created",
                    )
            except RejectedError as exc:
                if exc.code == "404":  # deleted since the search: nothing left to read
                    log.info("Jira issue %s went away while polling its comments", issue_key)
                    return
                raise
            for comment in page:
                yield comment.raw
            if len(page) < COMMENT_PAGE_SIZE:
                return
            start += len(page)
