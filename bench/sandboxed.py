"""Deskhand with its Jira sync, running against the sandbox at real speed, for the benchmarks
that drive Slack and Jira together (``bench.storm``, ``bench.sync_lag``).

Slack events reach Deskhand over HTTP (the Events API, signed) and Jira's webhooks reach the
same server, as in production behind one public URL. What the benchmarks observe they take
from the fakes' own listeners (every Slack post, every Jira change), timed on arrival.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.http import EVENTS_PATH
from bot.slack_pacing import POST, SlackPacer
from bot.slack_port import SlackChatPort
from deskhand.config import Config, parse_config
from deskhand.config.schema import JiraFlavour
from deskhand.wiring import Deskhand, build
from sandbox.httpserver import LoopbackServer
from sandbox.jira.model import Issue
from sandbox.jira.webhooks import WebhookSender
from sandbox.slack.delivery import RETRY_DELAYS
from sandbox.slack.http_delivery import HttpDelivery
from sandbox.world import SandboxWorld
from storage.models import OutboxRow, Ticket

WEBHOOK_SECRET = "bench-jira-webhook-secret"
"""The sandbox Jira's webhook secret (not a real one)."""
WEBHOOK_PATH = "/jira/webhook"


def quiet_logs() -> None:
    """Errors only: Deskhand's warnings under a storm (pauses, paced rows) and the sandbox's
    connection-pool notices would drown the table."""
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)


def jira_config(world: SandboxWorld, request_channels: list[str]) -> Config:
    """One team (IT, triage in #it-triage) on Jira project IT, pointed at ``world``."""
    text = f"""\
slack:
  request_channels: [{", ".join(request_channels)}]
teams:
  - name: IT
    key_prefix: IT
    triage_channel: it-triage
    jira: {{project: IT, issue_type: Task}}
jira:
  url: https://replaced-by-the-sandbox.example
  account: replaced@example.com
  timeout_seconds: 5
"""
    config = parse_config(text)
    assert config.jira is not None
    return config.model_copy(
        update={
            "slack": config.slack.model_copy(update={"api_url": world.slack.api_url}),
            "jira": config.jira.model_copy(
                update={
                    "url": world.jira.url,
                    "flavour": JiraFlavour(world.jira.flavour),
                    "account": world.jira.bot.email,
                }
            ),
        }
    )


@dataclass
class Served:
    world: SandboxWorld
    deskhand: Deskhand
    web_url: str
    webhooks: WebhookSender | None

    def ticket_count(self) -> int:
        with Session(self.deskhand.tickets.engine) as session:
            return int(session.scalar(select(func.count()).select_from(Ticket)) or 0)

    def tickets(self) -> list[Ticket]:
        with Session(self.deskhand.tickets.engine) as session:
            return list(session.scalars(select(Ticket).order_by(Ticket.id)))

    def dead_letters(self) -> int:
        with Session(self.deskhand.tickets.engine) as session:
            query = select(func.count()).where(OutboxRow.status == "dead")
            return int(session.scalar(query) or 0)

    def settle(self, timeout: float) -> bool:
        """Wait until the sandbox has delivered everything and Deskhand has acted on it."""
        deadline = time.monotonic() + timeout
        for _ in range(3):  # what Deskhand writes comes back as events and webhooks
            left = max(0.1, deadline - time.monotonic())
            if not self.world.slack.transport().wait_idle(left):
                return False
            if self.webhooks is not None and not self.webhooks.wait_idle(left):
                return False
            if not self.deskhand.wait_idle(max(0.1, deadline - time.monotonic())):
                return False
        return True


@contextlib.contextmanager
def serving(
    world: SandboxWorld,
    database_url: str,
    request_channels: list[str],
    *,
    webhooks: bool,
    poll_interval: float,
) -> Iterator[Served]:
    """Deskhand built for ``world`` over HTTP; Jira's changes reach it by webhook (if
    ``webhooks``) and by its poller every ``poll_interval`` seconds (0: no poller).

    It stops in order: deliveries finish, then Deskhand, then its server, so that no delivery
    fails for want of a receiver and waits for one of Slack's later retries."""
    deskhand = build(
        jira_config(world, request_channels),
        bot_token=world.slack.bot_token,
        signing_secret=world.slack.signing_secret,
        database_url=database_url,
        jira_token=world.jira.api_token,
        jira_webhook_secrets=[WEBHOOK_SECRET],
        jira_poll_interval=poll_interval,
    )
    deskhand.start()
    server = LoopbackServer(deskhand.web_app()).start()
    deliver_events(world, f"{server.url}{EVENTS_PATH}")
    sender = None
    if webhooks:
        sender = WebhookSender(world.jira, f"{server.url}{WEBHOOK_PATH}", WEBHOOK_SECRET)
    try:
        yield Served(world, deskhand, server.url, sender)
    finally:
        world.slack.transport().wait_idle(SHUTDOWN_WAIT)
        if sender is not None:
            sender.wait_idle(SHUTDOWN_WAIT)
            sender.close()
        deskhand.stop()
        world.slack.transport().wait_idle(SHUTDOWN_WAIT)
        server.stop()


SHUTDOWN_WAIT = 5.0


def deliver_events(world: SandboxWorld, url: str) -> HttpDelivery:
    """Slack's Events API to ``url``, retrying a failed delivery at once as Slack does; its
    later retries (after 1 and 5 minutes) fall outside a benchmark's run, and a delivery that
    needed them shows in :func:`failed_deliveries` instead."""
    http = world.slack.deliver_http(url)
    http.retry_delays = RETRY_DELAYS[:1]
    return http


def failed_deliveries(world: SandboxWorld) -> int:
    """Slack event deliveries that were not acknowledged, first tries and retries."""
    http = world.slack.http
    return 0 if http is None else sum(1 for a in http.attempts if a.outcome != "acked")


def sqlite_url(scratch: Path, name: str) -> str:
    return f"sqlite:///{scratch / f'{name}.db'}"


@dataclass(frozen=True)
class SlackPost:
    at: float
    """``time.monotonic()`` when the post reached the fake."""
    channel: str
    ts: str
    text: str
    thread_ts: str | None
    metadata: dict[str, Any] | None


class BotPosts:
    """Every new message the bot posts, timed as the fake Slack stores it."""

    def __init__(self, world: SandboxWorld) -> None:
        self.bot = world.slack.workspace.bot.id
        self.posts: list[SlackPost] = []
        self._lock = threading.Lock()
        world.slack.workspace.subscribe(self._on_event)

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("type") != "message" or event.get("subtype") or event.get("user") != self.bot:
            return
        post = SlackPost(
            time.monotonic(),
            str(event["channel"]),
            str(event["ts"]),
            str(event.get("text") or ""),
            event.get("thread_ts"),
            event.get("metadata"),
        )
        with self._lock:
            self.posts.append(post)

    def snapshot(self) -> list[SlackPost]:
        with self._lock:
            return list(self.posts)


@dataclass
class JiraChanges:
    """Every issue created and comment added in the fake Jira, timed as it stores them."""

    issues: list[tuple[float, Issue]] = field(default_factory=list)
    comments: list[tuple[float, str, str]] = field(default_factory=list)
    """(when, issue key, body)"""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def watch(cls, world: SandboxWorld) -> JiraChanges:
        changes = cls()
        world.jira.subscribe(changes._on_change)
        return changes

    def _on_change(self, event: str, issue: Issue, extra: Any) -> None:
        now = time.monotonic()
        with self._lock:
            if event == "jira:issue_created":
                self.issues.append((now, issue))
            elif event == "comment_created":
                self.comments.append((now, issue.key, str(extra["comment"].body)))

    def snapshot_issues(self) -> list[tuple[float, Issue]]:
        with self._lock:
            return list(self.issues)

    def snapshot_comments(self) -> list[tuple[float, str, str]]:
        with self._lock:
            return list(self.comments)


class PacingProbe:
    """Records when Deskhand's own per-channel pacing held a post back.

    Deskhand paces ``chat.postMessage`` per channel before Slack would answer 429 (about one a
    second), and the outbox relay then retries the row when its turn comes. That
    wait is a rate-limit wait, which the sync-lag goal leaves out; the probe wraps the pacer
    of the running Deskhand (reached through the outbox executor that posts Jira comments, the
    one place the benchmark can find its Slack port) to see it happen.
    """

    def __init__(self, deskhand: Deskhand) -> None:
        self.refusals: list[tuple[float, str, float]] = []
        """(when, channel, seconds Slack's pace asked to wait)"""
        self._lock = threading.Lock()
        self.pacer = _pacer_of(deskhand)
        if self.pacer is not None:
            original = self.pacer.take

            def take(method: str, request: Hashable, *, channel: str | None = None) -> float:
                wait = original(method, request, channel=channel)
                if wait and method == POST and channel is not None:
                    with self._lock:
                        self.refusals.append((time.monotonic(), channel, wait))
                return wait

            setattr(self.pacer, "take", take)  # noqa: B010 - wraps this one instance

    @property
    def available(self) -> bool:
        return self.pacer is not None

    def held_back(self, channel: str, start: float, end: float, min_retry: float) -> float:
        """Seconds within [start, end] that posts to ``channel`` were held back by the pace:
        the union of [refusal, refusal + max(wait, min_retry)] over the channel's refusals,
        cut to the window. A refusal just before ``start`` counts too: a ticket's posts go in
        order, so a held-back earlier post holds back the ones behind it."""
        with self._lock:
            spans = sorted(
                (max(start, at), min(end, at + max(wait, min_retry)))
                for at, where, wait in self.refusals
                if where == channel and at <= end and at + max(wait, min_retry) > start
            )
        total, covered = 0.0, start
        for begin, finish in spans:
            begin = max(begin, covered)
            if finish > begin:
                total += finish - begin
                covered = finish
        return total


def _pacer_of(deskhand: Deskhand) -> SlackPacer | None:
    executor = deskhand.relay.executors.get("post_tracker_comment")
    chat = getattr(getattr(executor, "__self__", None), "chat", None)
    return chat.pacer if isinstance(chat, SlackChatPort) else None
