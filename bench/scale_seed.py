"""The scale benchmark's data: eight teams and a year of tickets, with their timelines,
comments and the inbox rows that history leaves behind, drawn from a seeded generator so the
same seed gives the same rows on every database."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from deskhand.events import ReactionAdded, ThreadReply

T = TypeVar("T")
BATCH = 5_000
"""Tickets generated and inserted per transaction, with their timelines, comments and inbox."""


@dataclass(frozen=True)
class TeamSpec:
    name: str
    prefix: str
    weight: int
    """Share of the requests (out of the weights' sum)."""
    services: tuple[str, ...]
    agents: int
    on_jira: bool


TEAMS = (
    TeamSpec("IT", "IT", 40, ("Laptop", "Access", "VPN", "Email", "Software", "Printer"), 24, True),
    TeamSpec("HR", "HR", 12, ("Payroll", "Leave", "Onboarding", "Benefits"), 8, False),
    TeamSpec("Finance", "FIN", 10, ("Expenses", "Invoices", "Purchasing"), 8, True),
    TeamSpec("Facilities", "FAC", 10, ("Desk", "Building", "Parking", "Catering"), 6, False),
    TeamSpec("Legal", "LEG", 4, ("Contracts", "NDA", "Compliance"), 4, False),
    TeamSpec("Security", "SEC", 8, ("Incident", "Access review", "Phishing"), 6, True),
    TeamSpec("Sales Ops", "SOPS", 8, ("CRM", "Quotes", "Territories"), 5, False),
    TeamSpec("Data", "DATA", 8, ("Dashboards", "Pipelines", "Warehouse access"), 6, True),
)
HELP_CHANNELS = tuple(f"C0HELP{index:04d}" for index in range(12))
REQUESTERS = 20_000
WORDS = (
    *("the", "my", "laptop", "cannot", "access", "since", "this", "morning", "please", "help"),
    *("invoice", "vpn", "keeps", "dropping", "error", "when", "I", "try", "to", "open", "new"),
    *("starter", "needs", "account", "payroll", "question", "about", "last", "month", "printer"),
    *("on", "floor", "three", "is", "jammed", "again", "dashboard", "shows", "wrong", "numbers"),
)
YEAR = 365 * 86_400


class Mix(Generic[T]):
    """Values drawn in proportion to their weights (``random.choices`` without rebuilding
    the cumulative weights on every call)."""

    def __init__(self, weighted: dict[T, int]) -> None:
        self.values = tuple(weighted)
        self.cumulative = tuple(itertools.accumulate(weighted.values()))

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]


TEAM_MIX = Mix({index: team.weight for index, team in enumerate(TEAMS)})
LEVEL_MIX = Mix({1: 70, 2: 22, 3: 8})
INTAKE_MIX = Mix({"reaction": 60, "command": 30, "dm": 10})
PRIORITY_MIX = Mix({"low": 20, "normal": 60, "high": 15, "urgent": 5})
WORKING_MIX = Mix({"in_progress": 75, "waiting_on_requester": 25})
CSAT_MIX = Mix({1: 4, 2: 4, 3: 10, 4: 32, 5: 50})


class Seeder:
    """Deterministic rows for tickets ``1..count``, created over the year before ``now``.

    Statuses follow each ticket's age: first responses after a log-normal delay (median
    40 minutes, about 7% later than 4 h), resolutions after another (median 8 h, about 7%
    later than 3 days), tickets resolved more than 3 days ago closed, a few left stale."""

    def __init__(self, count: int, now: datetime, seed: int = 7) -> None:
        self.count = count
        self.now = now
        self.rng = random.Random(seed)
        ages = sorted((self.rng.randrange(YEAR) for _ in range(count)), reverse=True)
        self.created = [now - timedelta(seconds=age) for age in ages]
        """Oldest first, so ids rise with creation time as they do in production."""
        self.numbers = {team.name: 0 for team in TEAMS}
        self.rows = 0
        """Rows generated so far, all tables."""
        self._ts = 0

    def teams(self) -> list[dict[str, Any]]:
        return [
            {
                "name": team.name,
                "key_prefix": team.prefix,
                "triage_channel": f"C0TRIAGE{index:02d}",
                "jira_project": None,
                "next_number": self.numbers[team.name] + 1,
            }
            for index, team in enumerate(TEAMS)
        ]

    def batches(self) -> Iterator[Batch]:
        for start in range(0, self.count, BATCH):
            batch = Batch()
            for offset in range(start, min(start + BATCH, self.count)):
                self._ticket(batch, offset + 1, self.created[offset])
            self.rows += sum(len(rows) for rows in vars(batch).values())
            yield batch

    def _slack_ts(self, moment: datetime) -> str:
        self._ts += 1  # a counter after the dot keeps every (channel, ts) unique
        return f"{int(moment.timestamp())}.{self._ts:06d}"

    def _after(self, moment: datetime, median_s: float, sigma: float) -> datetime:
        seconds = max(30, round(self.rng.lognormvariate(0, sigma) * median_s))
        return moment + timedelta(seconds=seconds)

    def _ticket(self, batch: Batch, ticket_id: int, created: datetime) -> None:
        rng = self.rng
        team_index = TEAM_MIX.pick(rng)
        team = TEAMS[team_index]
        self.numbers[team.name] += 1
        number = self.numbers[team.name]
        requester = f"U{rng.randrange(REQUESTERS):07d}"
        agent = f"U{team_index}A{rng.randrange(team.agents):04d}"
        level = LEVEL_MIX.pick(rng)
        channel = rng.choice(HELP_CHANNELS)
        via = INTAKE_MIX.pick(rng)
        origin_ts = self._slack_ts(created) if via == "reaction" else None
        thread_ts = origin_ts or self._slack_ts(created)

        responded = self._after(created, 40 * 60, 1.2)
        resolved = self._after(responded, 8 * 3600, 1.5)
        answered = rng.random() >= 0.03  # the others are closed unanswered (duplicates, spam)
        forgotten = rng.random() < 0.01  # never resolved: the backlog's long tail
        responded_at = responded if answered and responded <= self.now else None
        resolved_at = resolved if not forgotten and resolved <= self.now else None
        closed_at = None
        if resolved_at is not None:  # closed 3 days after resolution, or at once if unanswered
            closed_at = resolved_at + timedelta(days=3) if responded_at else resolved_at
            closed_at = closed_at if closed_at <= self.now else None
        if closed_at is not None:
            status = "closed"
        elif resolved_at is not None:
            status = "resolved"
        elif responded_at is not None:
            status = WORKING_MIX.pick(rng)
        else:
            status = "open"
        latest = max(t for t in (created, responded_at, resolved_at, closed_at) if t is not None)
        service = rng.choice(team.services)
        batch.tickets.append(
            {
                "id": ticket_id,
                "key": f"{team.prefix}-{number}",
                "team": team.name,
                "requester": requester,
                "title": f"{service}: {' '.join(rng.choices(WORDS, k=rng.randint(3, 8)))}",
                "description": " ".join(rng.choices(WORDS, k=rng.randint(10, 70))),
                "service": service,
                "level": level,
                "status": status,
                "priority": PRIORITY_MIX.pick(rng),
                "assignee": agent if responded_at else None,
                "fields": {"system": service.lower()} if rng.random() < 0.3 else {},
                "labels": ["vip"] if rng.random() < 0.02 else [],
                "origin_kind": via,
                "origin_channel": channel if origin_ts else None,
                "origin_ts": origin_ts,
                "private_origin": via == "dm",
                "thread_channel": channel,
                "thread_ts": thread_ts,
                "triage_channel": f"C0TRIAGE{team_index:02d}",
                "triage_ts": self._slack_ts(created),
                "jira_key": f"{team.prefix}J-{number}" if team.on_jira else None,
                "jira_updated": latest if team.on_jira else None,
                "created_at": created,
                "updated_at": latest,
                "first_response_at": responded_at,
                "resolved_at": resolved_at,
                "closed_at": closed_at,
                "csat_score": (CSAT_MIX.pick(rng) if resolved_at and rng.random() < 0.3 else None),
            }
        )

        def event(at: datetime, kind: str, actor: str, data: dict[str, Any]) -> None:
            batch.events.append(
                {"ticket_id": ticket_id, "at": at, "actor": actor, "kind": kind}
                | {"origin": "slack", "data": data, "recipe": None, "reason": None}
            )

        def comment(at: datetime, author: str, visibility: str = "public") -> None:
            ts = self._slack_ts(at)
            body = " ".join(rng.choices(WORDS, k=rng.randint(5, 40)))
            batch.comments.append(
                {"ticket_id": ticket_id, "author": author, "author_name": "", "body": body}
                | {"visibility": visibility, "origin": "slack", "slack_channel": channel}
                | {"slack_ts": ts, "jira_comment_id": None, "jira_updated": None}
                | {"created_at": at, "updated_at": at, "deleted_at": None}
            )
            reply = {"user": author, "channel": channel, "ts": ts, "thread_ts": thread_ts}
            payload = reply | {"text": body, "files": []}  # ThreadReply.payload()'s shape
            batch.inbox.append(
                _done_delivery(f"Ev{ticket_id:09d}{ts}", ThreadReply.KIND, payload, at)
            )

        event(created, "created", requester, {"via": via, "channel": channel, "ts": origin_ts})
        reaction = {"user": agent, "emoji": "ticket", "channel": channel, "ts": thread_ts}
        payload = reaction | {"item_user": requester}  # ReactionAdded.payload()'s shape
        batch.inbox.append(
            _done_delivery(f"Ev{ticket_id:09d}", ReactionAdded.KIND, payload, created)
        )
        if responded_at is None:
            if resolved_at is not None:
                event(resolved_at, "status_changed", agent, {"from": "open", "to": "closed"})
            return
        event(responded_at, "assigned", agent, {"from": None, "to": agent})
        event(responded_at, "status_changed", agent, {"from": "open", "to": "in_progress"})
        comment(responded_at, agent)
        event(responded_at, "first_response", agent, {})
        end = resolved_at or self.now
        if rng.random() < 0.5:
            comment(responded_at + (end - responded_at) / 3, requester)
        if rng.random() < 0.2:
            comment(responded_at + (end - responded_at) / 2, agent, "internal")
        if level > 1:
            at = responded_at + (end - responded_at) / 4
            event(at, "level_changed", agent, {"from": 1, "to": level})
        if resolved_at is not None:
            event(resolved_at, "status_changed", agent, {"from": "in_progress", "to": "resolved"})
        if closed_at is not None:
            event(closed_at, "status_changed", "deskhand", {"from": "resolved", "to": "closed"})


@dataclass
class Batch:
    tickets: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    inbox: list[dict[str, Any]] = field(default_factory=list)


def _done_delivery(key: str, kind: str, payload: dict[str, Any], at: datetime) -> dict[str, Any]:
    """An inbox row as the worker leaves it once handled."""
    return {
        "source": "slack",
        "dedupe_key": key,
        "kind": kind,
        "payload": payload,
        "status": "done",
        "attempts": 1,
        "next_attempt_at": at,
        "lease_owner": None,
        "lease_until": None,
        "last_error": None,
        "received_at": at,
        "processed_at": at,
    }
