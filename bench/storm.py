"""Storm: N :ticket: reactions on N messages across M request channels at once, with the sandbox
enforcing Slack's and Jira's rate limits at real speed (clock speed 1). Timed from the first
reaction until every ticket exists, every Jira issue exists and both cards of every ticket
are posted; then until Deskhand has nothing left to do (cards updated with their issue, links
made).

The floor is the minimum those limits allow, computed in the same run from the fakes' own
limit settings by scheduling only what cannot be avoided, each step as early as its budget
lets it: one tier-3 read of each reacted message (Slack's ``reactions.get``, 50 a minute after
a burst of 50), then per ticket one triage card in the one triage channel and one ticket
card in its request channel (``chat.postMessage``, about one a second per channel after a
burst of 3, several hundred a minute per workspace) and one Jira create (``POST /issue``, the
Jira model's burst budget, ``sandbox.jira.rate_limits``). Everything else Deskhand does
(channel lookups, permalinks, card updates, remote links) must fit inside that time or shows
as a ratio above 1. Goal: at most 1.1x the minimum.

Also counted: lost (a reacted message with no ticket, a ticket with no issue, a missing card),
duplicated (two tickets for one message, two issues with one ``deskhand-<id>`` label, a card
posted twice) and unhandled 429s (a 429 from either fake never followed by a successful retry
of the same request).

    python -m bench.storm [--tickets N] [--channels M] [--full]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.common import report
from bench.sandboxed import (
    BotPosts,
    JiraChanges,
    Served,
    SlackPost,
    failed_deliveries,
    quiet_logs,
    serving,
    sqlite_url,
)
from bot.ids import parse_card_metadata
from deskhand.tracker import ticket_label
from sandbox.clock import Clock
from sandbox.jira.rate_limits import Budget, JiraRateLimits
from sandbox.jira.rest import RecordedRequest
from sandbox.slack.rate_limits import (
    METHOD_TIERS,
    POST_BURST,
    POSTS_PER_SECOND_PER_CHANNEL,
    SPECIAL_PER_MINUTE,
    TIER_PER_MINUTE,
)
from sandbox.slack.state import Message
from sandbox.slack.web_api import RecordedCall
from sandbox.world import REQUESTERS, Layout, SandboxWorld
from storage.models import OutboxRow, Ticket

QUICK = (20, 4)
FULL = (100, 5)
AGENTS = ("bob", "carol")
TRIAGE = "it-triage"


# -- the minimum the limits allow --------------------------------------------------------------


class _Bucket:
    """A token bucket that hands out tokens as early as it can, to requests in time order."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.tokens = budget.burst
        self.updated = 0.0

    def take(self, ready: float) -> float:
        """When a request ready at ``ready`` gets its token."""
        at = max(ready, self.updated)
        tokens = min(self.budget.burst, self.tokens + (at - self.updated) * self.budget.per_second)
        if tokens < 1:
            at += (1 - tokens) / self.budget.per_second
            tokens = 1.0
        self.tokens, self.updated = tokens - 1, at
        return at


def _per_minute(per_minute: float) -> Budget:
    return Budget(per_second=per_minute / 60, burst=per_minute)


def minimum_seconds(channel_of: list[int], jira_create: Budget) -> dict[str, float]:
    """The least time until all tickets, issues and cards exist, under the fakes' limits, for
    tickets whose messages are in request channels ``channel_of[i]``, all reacted at 0."""
    read = _Bucket(_per_minute(TIER_PER_MINUTE[METHOD_TIERS["reactions.get"]]))
    channel_pace = Budget(per_second=POSTS_PER_SECOND_PER_CHANNEL, burst=POST_BURST)
    posts = _Bucket(_per_minute(SPECIAL_PER_MINUTE["chat.postMessage"]))
    triage = _Bucket(channel_pace)
    channels = {c: _Bucket(channel_pace) for c in set(channel_of)}
    creates = _Bucket(jira_create)
    tickets = issues = cards = 0.0
    for channel in channel_of:
        made = read.take(0.0)
        tickets = max(tickets, made)
        issues = max(issues, creates.take(made))
        cards = max(cards, posts.take(triage.take(made)), posts.take(channels[channel].take(made)))
    return {"tickets": tickets, "issues": issues, "cards": cards}


# -- what happened -----------------------------------------------------------------------------


@dataclass
class Milestones:
    tickets: float | None = None
    issues: float | None = None
    cards: float | None = None
    settled: float | None = None

    def all_in_place(self) -> float | None:
        parts = (self.tickets, self.issues, self.cards)
        return None if any(p is None for p in parts) else max(p for p in parts if p is not None)


def _cards(posts: Iterable[SlackPost]) -> Counter[tuple[str, str]]:
    """How many times each (ticket key, card) was posted."""
    counted: Counter[tuple[str, str]] = Counter()
    for post in posts:
        parsed = parse_card_metadata(post.metadata)
        if parsed is not None:
            counted[(parsed[0], parsed[1])] += 1
    return counted


def _deskhand_issues(jira: JiraChanges) -> Counter[str]:
    """How many issues were created for each ``deskhand-<id>`` label."""
    return Counter(
        label
        for _, issue in jira.snapshot_issues()
        for label in issue.labels
        if label.startswith("deskhand-")
    )


def _unhandled(answers: list[tuple[int, Any]], ok: Callable[[int], bool]) -> tuple[int, int]:
    """(429s, 429s with no later successful answer to the same request)."""
    limited = unhandled = 0
    succeeded_later: set[Any] = set()
    for status, identity in reversed(answers):
        if status == 429:
            limited += 1
            unhandled += identity not in succeeded_later
        elif ok(status):
            succeeded_later.add(identity)
    return limited, unhandled


def _slack_identity(call: RecordedCall) -> str:
    """What makes two Web API calls the same request (a retry of it)."""
    args = call.args
    metadata = args.get("metadata")
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            metadata = None
    tag = (metadata or {}).get("event_payload", {}).get("tag") if metadata else None
    keys = ("channel", "ts", "timestamp", "message_ts", "thread_ts", "user", "users", "user_id")
    picked = {k: str(args[k]) for k in keys if k in args}
    if call.method == "chat.postMessage" and tag is None:
        picked["text"] = str(args.get("text"))
    return json.dumps([call.method, tag, picked], sort_keys=True)


def _jira_identity(method: str, path: str, query: Any, body: Any) -> str:
    return json.dumps([method, path, query, body], sort_keys=True, default=str)


def _wait_for_milestones(
    served: Served,
    n: int,
    started: float,
    deadline: float,
    posts: BotPosts,
    jira: JiraChanges,
) -> Milestones:
    seen = Milestones()
    while time.monotonic() < deadline:
        now = time.monotonic() - started
        if seen.tickets is None and served.ticket_count() >= n:
            seen.tickets = now
        if seen.issues is None and len(_deskhand_issues(jira)) >= n:
            seen.issues = now
        if seen.cards is None and len(_cards(posts.snapshot())) >= 2 * n:
            seen.cards = now
        if seen.all_in_place() is not None:
            break
        time.sleep(0.05)
    if served.settle(max(1.0, deadline - time.monotonic())):
        seen.settled = time.monotonic() - started
    return seen


@dataclass
class Observed:
    """Everything one storm left behind, for the tally."""

    messages: list[Message]
    seen: Milestones
    tickets: list[Ticket]
    posts: BotPosts
    jira: JiraChanges
    slack_calls: list[RecordedCall]
    jira_requests: list[RecordedRequest]
    dead_letters: int
    unchanged_cards: int
    """Card rows that sent nothing: the card already showed what they rendered."""
    not_acked: tuple[int, int]
    """(Slack event deliveries, Jira webhook deliveries) never acknowledged."""


def storm(
    world: SandboxWorld,
    scratch: Path,
    channels: list[str],
    channel_of: list[int],
    deadline_after: float,
) -> Observed:
    """React on one message per entry of ``channel_of`` (in that request channel) at once."""
    n = len(channel_of)
    posts = BotPosts(world)
    jira = JiraChanges.watch(world)
    with serving(
        world, sqlite_url(scratch, "storm"), channels, webhooks=True, poll_interval=0
    ) as served:
        slack = world.slack.driver
        messages = [
            slack.user(REQUESTERS[index % len(REQUESTERS)]).post(
                f"#{channels[channel]}", f"Request {index}: the printer is out"
            )
            for index, channel in enumerate(channel_of)
        ]
        served.settle(30)
        first_call, first_request = len(world.slack.web.calls), len(world.jira.requests)
        started = time.monotonic()
        for index, message in enumerate(messages):
            slack.user(AGENTS[index % len(AGENTS)]).react(message, "ticket")
        seen = _wait_for_milestones(served, n, started, started + deadline_after, posts, jira)
        tickets, dead = served.tickets(), served.dead_letters()
        unchanged = _unchanged_cards(served)
    webhooks = served.webhooks.attempts if served.webhooks else []
    return Observed(
        messages,
        seen,
        tickets,
        posts,
        jira,
        world.slack.web.calls[first_call:],
        world.jira.requests[first_request:],
        dead,
        unchanged,
        (failed_deliveries(world), sum(1 for a in webhooks if a.status != 200)),
    )


def _unchanged_cards(served: Served) -> int:
    with Session(served.deskhand.tickets.engine) as session:
        results = session.scalars(
            select(OutboxRow.result).where(
                OutboxRow.action.in_(("sync_ticket_card", "sync_triage_card"))
            )
        )
        return sum(1 for result in results if result and "unchanged" in result)


def run(n: int, m: int, scratch: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    channels = [f"help-{index}" for index in range(m)]
    layout = Layout(request_channels=channels, triage_channels=[TRIAGE], jira_projects=["IT"])
    world = SandboxWorld(layout, clock=Clock(speed=1), rate_limits=True)
    jira_limits = JiraRateLimits(world.clock).install(world.jira)
    channel_of = [index % m for index in range(n)]
    minimum = minimum_seconds(channel_of, jira_limits.endpoint)
    with world:
        seen = storm(world, scratch, channels, channel_of, 3 * max(minimum.values()) + 90)
    return tally(seen, minimum, jira_limits, m)


def tally(
    seen: Observed, minimum: dict[str, float], jira_limits: JiraRateLimits, channels: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The table's rows and the notes under it: times against the minimum, and the counts."""
    origins = Counter((t.origin_channel, t.origin_ts) for t in seen.tickets)
    issues = _deskhand_issues(seen.jira)
    cards = _cards(seen.posts.snapshot())
    expected_cards = {(t.key, card) for t in seen.tickets for card in ("ticket", "triage")}
    slack_429, slack_unhandled = _unhandled(
        [(c.status, _slack_identity(c)) for c in seen.slack_calls], lambda s: s == 200
    )
    jira_429, jira_unhandled = _unhandled(
        [(r.status, _jira_identity(r.method, r.path, r.query, r.json)) for r in seen.jira_requests],
        lambda s: 200 <= s < 300,
    )
    lost = {
        "tickets": len({(m.channel, m.ts) for m in seen.messages} - set(origins)),
        "issues": sum(1 for t in seen.tickets if issues[ticket_label(t.id)] == 0),
        "cards": len(expected_cards - set(cards)),
    }
    duplicated = {
        "tickets": sum(count - 1 for count in origins.values()),
        "issues": sum(count - 1 for count in issues.values()),
        "cards": sum(count - 1 for count in cards.values()),
    }
    times = seen.seen
    rows = [
        _row("tickets", times.tickets, minimum["tickets"]),
        _row("Jira issues", times.issues, minimum["issues"]),
        _row("cards (2 per ticket)", times.cards, minimum["cards"]),
        _row("all in place", times.all_in_place(), max(minimum.values())),
        _row("settled (nothing left to do)", times.settled, None),
    ]
    calls = Counter(c.method for c in seen.slack_calls)
    limited = Counter(c.method for c in seen.slack_calls if c.status == 429)
    notes = {
        "size": f"{len(seen.messages)} tickets across {channels} request channels, one triage",
        "lost": lost,
        "duplicated": duplicated,
        "429 answered (Slack, Jira)": (slack_429, jira_429),
        "unhandled 429 (Slack, Jira)": (slack_unhandled, jira_unhandled),
        "Jira 429 by reason": dict(jira_limits.limited),
        "dead letters": seen.dead_letters,
        "deliveries not acked (Slack events, Jira webhooks)": seen.not_acked,
        "Slack calls (and 429s) by method": {
            method: f"{count} ({limited[method]})" for method, count in calls.most_common()
        },
        "chat.update calls (card rows left unchanged)": (
            f"{calls['chat.update']} ({seen.unchanged_cards})"
        ),
        "Jira requests": len(seen.jira_requests),
        "goal": "all in place <= 1.1x the minimum; 0 lost, 0 duplicated, 0 unhandled 429",
        "verdict": _verdict(
            times.all_in_place(),
            max(minimum.values()),
            lost,
            duplicated,
            slack_unhandled + jira_unhandled,
        ),
    }
    return rows, notes


def _verdict(
    took: float | None,
    minimum: float,
    lost: dict[str, int],
    duplicated: dict[str, int],
    unhandled: int,
) -> str:
    """The goal, met or the gap in figures."""
    gaps = []
    if took is None:
        gaps.append("not everything was in place before the deadline")
    elif took > 1.1 * minimum:
        over = f"{took / minimum:.2f}x the minimum" if minimum > 0 else "over a zero minimum"
        gaps.append(f"{over} ({took - minimum:.1f} s over; goal 1.1x)")
    if sum(lost.values()):
        gaps.append(f"lost {lost}")
    if sum(duplicated.values()):
        gaps.append(f"duplicated {duplicated}")
    if unhandled:
        gaps.append(f"{unhandled} unhandled 429s")
    if gaps:
        return f"NOT met: {'; '.join(gaps)}"
    return f"met ({took / minimum:.2f}x the minimum)" if took and minimum > 0 else "met"


def _row(what: str, seconds: float | None, minimum: float | None) -> dict[str, Any]:
    ratio = seconds / minimum if seconds is not None and minimum else None
    return {
        "milestone": what,
        "seconds": round(seconds, 2) if seconds is not None else "not reached",
        "minimum_s": round(minimum, 2) if minimum is not None else "-",
        "ratio": round(ratio, 2) if ratio is not None else "-",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=None)
    parser.add_argument("--channels", type=int, default=None)
    parser.add_argument(
        "--full", action="store_true", help=f"{FULL[0]} tickets, {FULL[1]} channels"
    )
    args = parser.parse_args()
    n, m = FULL if args.full else QUICK
    n, m = args.tickets or n, args.channels or m
    quiet_logs()
    with tempfile.TemporaryDirectory() as scratch:
        rows, notes = run(n, m, Path(scratch))
    report("storm", rows, notes)


if __name__ == "__main__":
    main()
