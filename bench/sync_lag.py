"""Sync lag: Slack reply -> Jira comment and Jira comment -> Slack reply, p50/p99 under load,
with Jira's webhooks and with the poller alone.

Deskhand runs over HTTP against the sandbox at real speed, Slack's rate limits on (Jira's are
left off here: ``bench.storm`` measures them). Ten tickets, two in each of five request
channels, are measured; meanwhile a load generator works on other tickets in two other
channels: replies in Slack, comments in Jira and a new ticket now and then (2 actions a second;
4 with --full). No ticket gets more than 15 comments a minute: more than 20 would trip
Deskhand's loop breaker, which stops copying a ticket's comments (the run counts such tickets).

Each sample is timed from the action (a requester's reply in the ticket's thread; a comment
by an agent in Jira's UI) to its effect as the other fake stores it (the comment in the fake
Jira; the bot's reply in the fake Slack), both observed through the fakes' own listeners.

Rate-limit waits. Deskhand paces its posts per channel (about one a second, as Slack asks) and
the outbox retries a held-back post after the wait, at least a second. The measured Jira ->
Slack comments go round the five channels, each channel getting one every 4 s, so the pace
rarely holds one back; when it does, a probe on Deskhand's pacer sees it, and the "excl.
pace" column subtracts the time the post was held back. A sample whose effect never arrives
(within 30 s, plus the poll interval) is counted as lost and fails the goal. Goal: p99 <= 1 s
with webhooks (rate-limit waits excluded); <= poll interval + 5 s with the poller alone.

Floor, measured in the same run: the same round trips through the same sandbox transports with
a trivial listener in Deskhand's place, one Flask app that, on the Slack event, adds the Jira
comment with the same ``jira`` client, and on Jira's webhook posts the reply with slack_sdk,
before it answers: no signature checks, no durable inbox, no queue, no load. What Deskhand adds
over it is the price of storing every delivery before acting and of the outbox.

    python -m bench.sync_lag [--samples N] [--poll-interval S] [--load L] [--full]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jira
from flask import Flask, request
from slack_sdk import WebClient
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from bench.common import percentile
from bench.common import report as print_report
from bench.sandboxed import (
    SHUTDOWN_WAIT,
    WEBHOOK_PATH,
    BotPosts,
    JiraChanges,
    PacingProbe,
    Served,
    deliver_events,
    failed_deliveries,
    quiet_logs,
    serving,
    sqlite_url,
)
from bot.http import EVENTS_PATH
from deskhand.sync_breaker import PAUSED
from sandbox.clock import Clock
from sandbox.httpserver import LoopbackServer
from sandbox.jira import JiraDriver
from sandbox.jira.webhooks import WebhookSender
from sandbox.slack.state import Message
from sandbox.world import Layout, SandboxWorld
from storage.models import TimelineEvent

MEASURED = [f"help-{index}" for index in range(5)] * 2
"""Where the measured tickets are: ten, two in each of five request channels."""
BUSY = ["busy-0", "busy-1"] * 2
"""Where the load's first tickets are; the tickets it opens join them."""
SLACK_TO_JIRA = "Slack->Jira"
JIRA_TO_SLACK = "Jira->Slack"
GAP = 0.4
"""Seconds between measured actions (the two directions alternate). Each measured ticket gets
one every 4 s, 15 a minute: under the loop breaker's 20 comments a minute per ticket
(``deskhand.sync_breaker``), which would otherwise stop syncing it."""
RELAY_MIN_RETRY = 0.0
"""The outbox retries a paced row exactly when its turn comes (no minimum wait)."""


@dataclass(frozen=True)
class Thread:
    """One measured ticket: where its Slack thread is and which Jira issue it syncs with."""

    question: Message
    issue: str


@dataclass
class Sample:
    direction: str
    marker: str
    channel: str
    """The Slack channel's id."""
    sent: float
    arrived: float | None = None
    held_back: float = 0.0

    @property
    def lag(self) -> float | None:
        return None if self.arrived is None else self.arrived - self.sent


# -- driving -----------------------------------------------------------------------------------


def drive(
    world: SandboxWorld,
    threads: list[Thread],
    samples: int,
    posts: BotPosts,
    changes: JiraChanges,
    wait_after: float,
) -> list[Sample]:
    """Alternate a Slack reply and a Jira comment on the measured threads, ``GAP`` apart,
    ``samples`` of each; wait up to ``wait_after`` seconds after the last for their effects."""
    slack = world.slack.driver
    carol = JiraDriver(world.jira).user("carol")
    taken: list[Sample] = []
    started = time.monotonic()
    for index in range(2 * samples):
        time.sleep(max(0.0, started + index * GAP - time.monotonic()))
        thread = threads[(index // 2) % len(threads)]
        channel = thread.question.channel
        if index % 2 == 0:
            marker = f"s2j{index:05d}"
            sample = Sample(SLACK_TO_JIRA, marker, channel, time.monotonic())
            slack.user("alice").reply(thread.question, f"Still broken here ({marker})")
        else:
            marker = f"j2s{index:05d}"
            sample = Sample(JIRA_TO_SLACK, marker, channel, time.monotonic())
            carol.comment(thread.issue, f"Trying a fix now ({marker})")
        taken.append(sample)
    deadline = time.monotonic() + wait_after
    while time.monotonic() < deadline:
        if _match(taken, posts, changes) == len(taken):
            break
        time.sleep(0.05)
    return taken


def _match(samples: list[Sample], posts: BotPosts, changes: JiraChanges) -> int:
    """Note when each sample's effect arrived; how many have."""
    comments = changes.snapshot_comments()
    replies = posts.snapshot()
    for sample in samples:
        if sample.arrived is not None:
            continue
        if sample.direction == SLACK_TO_JIRA:
            found = [at for at, _, body in comments if sample.marker in body]
        else:
            found = [post.at for post in replies if sample.marker in post.text]
        if found:
            sample.arrived = min(found)
    return sum(1 for sample in samples if sample.arrived is not None)


class Load:
    """Work on other tickets meanwhile: replies in Slack, comments in Jira and, one action in
    eight, a new ticket, which joins the others once its Jira issue exists. The work goes round
    the tickets, so that none gets more than the loop breaker allows."""

    def __init__(self, world: SandboxWorld, threads: list[Thread], per_second: float) -> None:
        self.world = world
        self.threads = list(threads)
        self.opened: list[tuple[Message, str]] = []
        """New tickets' questions, and the text their issue's summary will contain."""
        self.per_second = per_second
        self.done: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-load", daemon=True)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        slack = self.world.slack.driver
        carol = JiraDriver(self.world.jira).user("carol")
        index = turn = 0
        while not self._stop.wait(1 / self.per_second):
            try:
                if index % 8 == 7:
                    channel = BUSY[(index // 8) % len(BUSY)]
                    text = f"Load request {index}"
                    asked = slack.user("dave").post(f"#{channel}", text)
                    slack.user("bob").react(asked, "ticket")
                    self.opened.append((asked, text))
                    self.done["new ticket"] += 1
                    index += 1
                    continue
                self._adopt()
                thread = self.threads[turn % len(self.threads)]
                turn += 1
                if index % 2 == 0:
                    slack.user("dave").reply(thread.question, f"load reply {index}")
                    self.done["Slack reply"] += 1
                else:
                    carol.comment(thread.issue, f"load comment {index}")
                    self.done["Jira comment"] += 1
            except Exception as exc:  # counted and shown: the load must not stop the run
                self.done[f"failed: {type(exc).__name__}"] += 1
            index += 1

    def _adopt(self) -> None:
        """Work on the new tickets too, once their Jira issue exists."""
        if not self.opened:
            return
        with self.world.jira.state.lock:
            summaries = [(i.summary, i.key) for i in self.world.jira.state.issues.values()]
        waiting = []
        for question, text in self.opened:
            key = next((k for summary, k in summaries if summary.endswith(text)), None)
            if key is None:
                waiting.append((question, text))
            else:
                self.threads.append(Thread(question, key))
        self.opened = waiting


# -- Deskhand ----------------------------------------------------------------------------------


def _open_tickets(
    served: Served, posts: BotPosts, channels: list[str], requester: str
) -> list[Thread]:
    """A ticket for each entry of ``channels``, with its Jira issue and both cards, before
    timing starts."""
    slack = served.world.slack.driver
    questions = [
        slack.user(requester).post(f"#{c}", f"VPN down in {c}, ticket {n}")
        for n, c in enumerate(channels)
    ]
    for question in questions:
        slack.user("bob").react(question, "ticket")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        tickets = {t.origin_ts: t for t in served.tickets() if t.jira_key is not None}
        cards = sum(1 for p in posts.snapshot() if p.metadata)
        if all(q.ts in tickets for q in questions) and cards >= 2 * len(served.tickets()):
            return [Thread(q, str(tickets[q.ts].jira_key)) for q in questions]
        time.sleep(0.1)
    raise RuntimeError("the benchmark's tickets were not set up within 120 s")


def deskhand_run(
    scratch: Path, name: str, samples: int, load: float, *, webhooks: bool, poll_interval: float
) -> tuple[list[Sample], dict[str, Any]]:
    """Deskhand's lags, and what else happened meanwhile; ``load``: load actions a second."""
    channels = sorted({*MEASURED, *BUSY})
    layout = Layout(request_channels=channels, triage_channels=["it-triage"], jira_projects=["IT"])
    with SandboxWorld(layout, clock=Clock(speed=1), rate_limits=True) as world:
        posts = BotPosts(world)
        changes = JiraChanges.watch(world)
        url = sqlite_url(scratch, name)
        with serving(
            world, url, channels, webhooks=webhooks, poll_interval=poll_interval
        ) as served:
            probe = PacingProbe(served.deskhand)
            measured = _open_tickets(served, posts, MEASURED, "alice")
            busy = _open_tickets(served, posts, BUSY, "dave")
            first_call = len(world.slack.web.calls)
            with Load(world, busy, load) as loaded:
                taken = drive(world, measured, samples, posts, changes, poll_interval + 30)
            for sample in taken:
                if sample.direction == JIRA_TO_SLACK and sample.arrived is not None:
                    sample.held_back = probe.held_back(
                        sample.channel, sample.sent, sample.arrived, RELAY_MIN_RETRY
                    )
            calls = world.slack.web.calls[first_call:]
            limited = Counter(c.method for c in calls if c.status == 429)
            dead, paused = served.dead_letters(), _sync_paused(served)
        facts = {
            "load": dict(loaded.done),
            "tickets whose sync the loop breaker paused": paused,
            "Slack 429s meanwhile": dict(limited),
            "pacing probe": "on" if probe.available else "unavailable",
            "dead letters": dead,
            "Slack deliveries not acked": failed_deliveries(world),
        }
    return taken, facts


def _sync_paused(served: Served) -> int:
    with Session(served.deskhand.tickets.engine) as session:
        query = select(func.count(distinct(TimelineEvent.ticket_id))).where(
            TimelineEvent.kind == PAUSED
        )
        return int(session.scalar(query) or 0)


# -- the floor ---------------------------------------------------------------------------------


def floor_app(world: SandboxWorld, threads: list[Thread]) -> Flask:
    """The trivial listener: each delivery carried straight to the other side, then acked."""
    slack = WebClient(base_url=world.slack.api_url, token=world.slack.bot_token)
    tracker = jira.JIRA(
        server=world.jira.url,
        basic_auth=(world.jira.bot.email, world.jira.api_token),
        timeout=5,
        max_retries=0,
    )
    issue_of = {(t.question.channel, t.question.ts): t.issue for t in threads}
    thread_of = {t.issue: t.question for t in threads}
    bot_email = world.jira.bot.email
    web = Flask("floor")

    @web.post(EVENTS_PATH)
    def slack_event() -> tuple[str, int]:
        event = (request.get_json(silent=True) or {}).get("event") or {}
        where = (event.get("channel"), event.get("thread_ts"))
        if event.get("type") == "message" and not event.get("bot_id") and where in issue_of:
            tracker.add_comment(issue_of[where], event.get("text", ""))
        return "", 200

    @web.post(WEBHOOK_PATH)
    def jira_webhook() -> tuple[str, int]:
        body = request.get_json(silent=True) or {}
        comment = body.get("comment") or {}
        question = thread_of.get(str((body.get("issue") or {}).get("key")))
        author = (comment.get("author") or {}).get("emailAddress")
        if body.get("webhookEvent") == "comment_created" and question and author != bot_email:
            slack.chat_postMessage(
                channel=question.channel, thread_ts=question.ts, text=comment.get("body", "")
            )
        return "", 200

    return web


def floor_run(samples: int) -> list[Sample]:
    layout = Layout(
        request_channels=sorted(set(MEASURED)), triage_channels=[], jira_projects=["IT"]
    )
    with SandboxWorld(layout, clock=Clock(speed=1), rate_limits=True) as world:
        posts = BotPosts(world)
        changes = JiraChanges.watch(world)
        slack = world.slack.driver
        issues = JiraDriver(world.jira)
        threads = [
            Thread(
                slack.user("alice").post(f"#{c}", f"VPN down in {c}, ticket {n}"),
                issues.create("IT", f"{c} {n}").key,
            )
            for n, c in enumerate(MEASURED)
        ]
        with LoopbackServer(floor_app(world, threads)) as server:
            deliver_events(world, f"{server.url}{EVENTS_PATH}")
            with WebhookSender(world.jira, f"{server.url}{WEBHOOK_PATH}", None) as sender:
                taken = drive(world, threads, samples, posts, changes, 30)
                sender.wait_idle(SHUTDOWN_WAIT)
            world.slack.transport().wait_idle(SHUTDOWN_WAIT)
        return taken


# -- the report --------------------------------------------------------------------------------


def row(run: str, direction: str, samples: list[Sample]) -> dict[str, Any]:
    mine = [s for s in samples if s.direction == direction]
    lags = [s.lag for s in mine if s.lag is not None]
    excl = [s.lag - s.held_back for s in mine if s.lag is not None]
    return {
        "run": run,
        "direction": direction,
        "samples": len(mine),
        "lost": len(mine) - len(lags),
        "p50_ms": percentile(lags, 0.50) * 1000,
        "p99_ms": percentile(lags, 0.99) * 1000,
        "p99_excl_pace_ms": percentile(excl, 0.99) * 1000,
        "paced": sum(1 for s in mine if s.held_back > 0),
    }


def verdicts(rows: list[dict[str, Any]], poll_interval: float) -> dict[str, str]:
    """Each goal, met or the gap in figures."""
    said: dict[str, str] = {}
    for r in rows:
        if r["lost"] and not r["run"].startswith("floor"):
            said[f"{r['run']}, {r['direction']}"] = (
                f"NOT met: {r['lost']} of {r['samples']} never arrived"
            )
        elif r["run"] == "webhooks":
            p99 = r["p99_excl_pace_ms"]
            said[f"webhooks, {r['direction']}"] = (
                f"p99 {p99:.0f} ms excl. pacing: {'met' if p99 <= 1000 else 'NOT met'} (<= 1000 ms)"
            )
        elif r["run"] == "poller":
            over = r["p99_ms"] / 1000 - poll_interval
            said[f"poller, {r['direction']}"] = (
                f"p99 = interval {over:+.1f} s: {'met' if over <= 5 else 'NOT met'} (<= +5 s)"
            )
    return said


def ratios(rows: list[dict[str, Any]]) -> dict[str, str]:
    floor = {r["direction"]: r for r in rows if r["run"].startswith("floor")}
    said = {}
    for r in rows:
        if r["run"] == "webhooks" and r["direction"] in floor:
            base = floor[r["direction"]]
            said[r["direction"]] = (
                f"p50 x{r['p50_ms'] / base['p50_ms']:.1f}, p99 x{r['p99_ms'] / base['p99_ms']:.1f}"
            )
    return said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=None, help="per direction and run")
    parser.add_argument("--poll-interval", type=float, default=None)
    parser.add_argument("--load", type=float, default=None, help="load actions a second")
    parser.add_argument(
        "--full", action="store_true", help="150 samples, 5 s poll interval, load 4/s"
    )
    args = parser.parse_args()
    samples = args.samples or (150 if args.full else 25)
    interval = args.poll_interval or (5.0 if args.full else 2.0)
    load = args.load or (4.0 if args.full else 2.0)
    quiet_logs()
    runs: list[tuple[str, Callable[[Path], tuple[list[Sample], dict[str, Any]]]]] = [
        (
            "webhooks",
            lambda p: deskhand_run(p, "hooks", samples, load, webhooks=True, poll_interval=0),
        ),
        (
            "poller",
            lambda p: deskhand_run(
                p, "poll", samples, load, webhooks=False, poll_interval=interval
            ),
        ),
    ]
    rows: list[dict[str, Any]] = []
    notes: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, run in runs:
            taken, facts = run(Path(scratch))
            rows += [row(name, d, taken) for d in (SLACK_TO_JIRA, JIRA_TO_SLACK)]
            notes[name] = facts
    floor = floor_run(samples)
    rows += [row("floor", d, floor) for d in (SLACK_TO_JIRA, JIRA_TO_SLACK)]
    notes["runs"] = (
        "webhooks: Jira's webhooks, no poller; poller: the poller alone, no webhooks; "
        "floor: a trivial listener in Deskhand's place, no load"
    )
    notes["poll interval"] = f"{interval:g} s"
    notes["load"] = f"{load:g} actions/s on other tickets (none in the floor run)"
    notes["goals"] = verdicts(rows, interval)
    notes["webhooks over the floor"] = ratios(rows)
    print_report("sync_lag", rows, notes)


if __name__ == "__main__":
    main()
