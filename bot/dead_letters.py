"""Dead letters in Slack: the report in the team's triage channel, with a Retry button, and
its updates as the row moves on (what they say: :mod:`bot.dead_letter_messages`).

The report goes to the thread of the ticket's triage card when it has one, else to the top of
the team's triage channel. A dead letter has one report: when its retry dies again, the new
report row updates the first message (its attempts, error and Retry button) rather than post
a second one, unless that message is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import App
from sqlalchemy import Engine

from bot.dead_letter_messages import dead_message, retrying_message, went_through_message
from bot.listeners import dead_letters as listeners
from deskhand.agents import AgentDirectory
from deskhand.config import Config
from deskhand.dead_letter_reports import PostedReport, Retried, posted_report, row_status
from deskhand.dead_letters import DeadLetterRetries, DeadLetterRetryPressed, last_retry
from deskhand.inbox import Inbox, InboxWorker
from deskhand.notices import Notices
from deskhand.outbox import (
    REPORT_DEAD_LETTER,
    REPORT_RETRIED,
    REPORT_WENT_THROUGH,
    OutboxRelay,
    OutboxTask,
)
from deskhand.ports import ChatPort, RejectedError
from deskhand.tickets.service import TicketService
from storage.models import Ticket

Block = dict[str, Any]

REPORT_EVENT = "deskhand_dead_letter"
"""``event_type`` of the metadata on a dead letter's report."""
GONE = frozenset({"message_not_found", "channel_not_found"})
"""Slack's answers to an update of a message that is no longer there."""


class DeadLetterReports:
    """Outbox executors: ``report_dead_letter``, ``report_dead_letter_retried`` and
    ``report_dead_letter_went_through``. A report whose message is gone is not updated."""

    def __init__(
        self, chat: ChatPort, tickets: TicketService, config: Config, engine: Engine
    ) -> None:
        self.chat = chat
        self.tickets = tickets
        self.config = config
        self.engine = engine

    def executors(self) -> dict[str, Callable[[OutboxTask], dict[str, Any]]]:
        return {
            REPORT_DEAD_LETTER: self.report,
            REPORT_RETRIED: self.mark_retried,
            REPORT_WENT_THROUGH: self.mark_went_through,
        }

    def report(self, task: OutboxTask) -> dict[str, Any]:
        """Report the row set aside: a new message, or the update of its earlier report."""
        details = task.payload
        row_id = int(details["row_id"])
        if row_status(self.engine, row_id) != "dead":
            return {"skipped": "retried before the report went out"}
        ticket = self.tickets.get(int(details["ticket_id"]))
        retried = last_retry(self.engine, ticket.id, row_id)
        text, blocks = dead_message(ticket.key, details, zone=self._zone(ticket), retried=retried)
        earlier = posted_report(self.engine, ticket.id, row_id)
        if earlier is not None and self._update(earlier, text, blocks):
            where = {"channel": earlier.channel, "ts": earlier.ts, "thread_ts": earlier.thread_ts}
            return {**where, "updated": True}
        channel, thread_ts = self._where(ticket.id, ticket.team)
        metadata = {
            "event_type": REPORT_EVENT,
            "event_payload": {"ticket": ticket.key, "row": str(row_id), "tag": task.tag},
        }
        ts = self.chat.find_tagged(channel, thread_ts, task.tag) if task.maybe_done else None
        if ts is None:
            ts = self.chat.post(
                channel, text, blocks=blocks, thread_ts=thread_ts, metadata=metadata
            )
        return {"channel": channel, "ts": ts, "thread_ts": thread_ts}

    def mark_retried(self, task: OutboxTask) -> dict[str, Any]:
        """The report says who retried the row, when, and offers no button meanwhile."""
        ticket = self.tickets.get(int(task.payload["ticket_id"]))
        row_id = int(task.payload["row_id"])
        report = posted_report(self.engine, ticket.id, row_id)
        if report is None:
            return {"skipped": "the report was not posted"}
        retried = _retried(task.payload) or last_retry(self.engine, ticket.id, row_id)
        if retried is None:
            return {"skipped": "no retry of the row is recorded"}
        text, blocks = retrying_message(
            ticket.key, report.details, retried, zone=self._zone(ticket)
        )
        if not self._update(report, text, blocks):
            return {"skipped": "the report is gone"}
        return {"updated": report.ts}

    def mark_went_through(self, task: OutboxTask) -> dict[str, Any]:
        """The report says the retried row went through, and by whose retry."""
        ticket = self.tickets.get(int(task.payload["ticket_id"]))
        row_id = int(task.payload["row_id"])
        report = posted_report(self.engine, ticket.id, row_id)
        if report is None:
            return {"skipped": "the report was not posted"}
        text, blocks = went_through_message(
            ticket.key,
            report.details,
            at=datetime.fromisoformat(str(task.payload["done_at"])),
            retried=last_retry(self.engine, ticket.id, row_id),
            zone=self._zone(ticket),
        )
        if not self._update(report, text, blocks):
            return {"skipped": "the report is gone"}
        return {"updated": report.ts}

    def _update(self, report: PostedReport, text: str, blocks: list[Block]) -> bool:
        """Update the report's message; False if it is gone (deleted, or its channel)."""
        try:
            self.chat.update(report.channel, report.ts, text, blocks=blocks)
        except RejectedError as exc:
            if exc.code not in GONE:
                raise
            return False
        return True

    def _zone(self, ticket: Ticket) -> str:
        """The time zone of the ticket's team, for clients that cannot show Slack's dates."""
        try:
            return self.config.team(ticket.team).business_hours.timezone
        except KeyError:  # a team dropped from config.yaml since
            return "UTC"

    def _where(self, ticket_id: int, team_name: str) -> tuple[str, str | None]:
        """The triage card's thread, else the top of the team's triage channel."""
        card = self.tickets.card_location(ticket_id, "triage")
        if card is not None:
            return card[0], card[1]
        team = self.config.team(team_name)
        channel = self.chat.channel_id(team.triage_channel)
        if channel is None:
            raise LookupError(f"the bot cannot see #{team.triage_channel}; invite it there")
        return channel, None


def _retried(payload: dict[str, Any]) -> Retried | None:
    """The retry a ``report_dead_letter_retried`` row is about (rows queued before it carried
    its time have none)."""
    if not payload.get("at"):
        return None
    return Retried(
        actor=str(payload["actor"]),
        origin=str(payload["origin"]),
        at=datetime.fromisoformat(str(payload["at"])),
    )


def plug_dead_letters(
    config: Config,
    *,
    app: App,
    inbox: Inbox,
    wake: Callable[[], None],
    worker: InboxWorker,
    relay: OutboxRelay,
    chat: ChatPort,
    tickets: TicketService,
    agents: AgentDirectory,
) -> None:
    """Plug dead-letter reports and their Retry button into a Deskhand being built: the
    executors into ``relay``, the press handler into ``worker``, the listener into ``app``."""
    engine = tickets.engine
    relay.executors.update(DeadLetterReports(chat, tickets, config, engine).executors())
    retries = DeadLetterRetries(engine, config, agents, Notices(engine))
    worker.handlers[DeadLetterRetryPressed.KIND] = retries.handle
    listeners.register(app, inbox, wake)
