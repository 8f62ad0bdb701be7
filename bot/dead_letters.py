"""Dead letters in Slack: the report in the team's triage channel, with a Retry button, and
its update once someone retried.

The report goes to the thread of the ticket's triage card when it has one, else to the top of
the team's triage channel. Error text comes from Slack or Jira and is shown escaped, in a
quote, cut to fit a section.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App
from sqlalchemy import Engine

from bot import text as t
from bot.listeners import dead_letters as listeners
from bot.listeners.dead_letters import RETRY_ACTION
from deskhand.agents import AgentDirectory
from deskhand.config import Config
from deskhand.dead_letters import (
    DeadLetterRetries,
    DeadLetterRetryPressed,
    posted_report,
    row_status,
)
from deskhand.inbox import Inbox, InboxWorker
from deskhand.notices import Notices
from deskhand.outbox import REPORT_DEAD_LETTER, REPORT_RETRIED, OutboxRelay, OutboxTask
from deskhand.ports import ChatPort
from deskhand.tickets.service import TicketService

Block = dict[str, Any]

REPORT_EVENT = "deskhand_dead_letter"
"""``event_type`` of the metadata on a dead letter's report."""
ERROR_ROOM = 1500
"""Characters of the last error shown; the rest is in ``deskhand sync status``."""
TARGET_NAMES = {"slack": "Slack", "jira": "Jira"}


def report_message(
    key: str, details: dict[str, Any], *, retried_by: str | None = None, origin: str = "slack"
) -> tuple[str, list[Block]]:
    """Fallback text and blocks of the report of a dead letter: ``details`` is the report
    row's payload (row_id, action, target, attempts, error). Once ``retried_by`` is known the
    button gives way to who retried it."""
    row_id = int(details["row_id"])
    target = TARGET_NAMES.get(str(details["target"]), t.escape(str(details["target"])))
    action = t.escape(str(details["action"]))
    attempts = int(details["attempts"])
    headline = (
        f":warning: *{t.escape(key)}*: `{action}` ({target}) failed after {attempts} "
        f"attempt{'s' if attempts != 1 else ''} and was set aside."
    )
    text = t.truncate(f"{t.escape(key)}: {action} failed and was set aside", t.ADVISED_TEXT)
    error = t.truncate(t.quote(str(details.get("error") or "(no error recorded)")), ERROR_ROOM)
    blocks: list[Block] = [
        {"type": "section", "block_id": "dead_letter", "text": _mrkdwn(headline)},
        {
            "type": "section",
            "block_id": "dead_letter_error",
            "text": _mrkdwn(f"Last error:\n{error}"),
        },
    ]
    if retried_by is None:
        blocks.append(
            {
                "type": "actions",
                "block_id": "dead_letter_actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": RETRY_ACTION,
                        "text": {"type": "plain_text", "text": "Retry"},
                        "style": "primary",
                        "value": str(row_id),
                    }
                ],
            }
        )
        note = (
            "Nothing more is tried until an agent presses Retry "
            f"(or runs `deskhand sync retry {row_id}`)."
        )
    elif origin == "cli":
        note = "Retried with `deskhand sync retry`: trying again."
    else:
        note = f"Retried by {t.mention(retried_by)}: trying again."
    blocks.append({"type": "context", "block_id": "dead_letter_state", "elements": [_mrkdwn(note)]})
    return text, blocks


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


class DeadLetterReports:
    """Outbox executors: ``report_dead_letter`` and ``report_dead_letter_retried``."""

    def __init__(
        self, chat: ChatPort, tickets: TicketService, config: Config, engine: Engine
    ) -> None:
        self.chat = chat
        self.tickets = tickets
        self.config = config
        self.engine = engine

    def executors(self) -> dict[str, Callable[[OutboxTask], dict[str, Any]]]:
        return {REPORT_DEAD_LETTER: self.report, REPORT_RETRIED: self.mark_retried}

    def report(self, task: OutboxTask) -> dict[str, Any]:
        details = task.payload
        if row_status(self.engine, int(details["row_id"])) != "dead":
            return {"skipped": "retried before the report went out"}
        ticket = self.tickets.get(int(details["ticket_id"]))
        channel, thread_ts = self._where(ticket.id, ticket.team)
        metadata = {
            "event_type": REPORT_EVENT,
            "event_payload": {"ticket": ticket.key, "row": str(details["row_id"]), "tag": task.tag},
        }
        ts = self.chat.find_tagged(channel, thread_ts, task.tag) if task.maybe_done else None
        if ts is None:
            text, blocks = report_message(ticket.key, details)
            ts = self.chat.post(
                channel, text, blocks=blocks, thread_ts=thread_ts, metadata=metadata
            )
        return {"channel": channel, "ts": ts, "thread_ts": thread_ts}

    def mark_retried(self, task: OutboxTask) -> dict[str, Any]:
        report = posted_report(self.engine, int(task.payload["report_row_id"]))
        if report is None:
            return {"skipped": "the report was not posted"}
        key = self.tickets.get(int(task.payload["ticket_id"])).key
        text, blocks = report_message(
            key,
            report.details,
            retried_by=str(task.payload["actor"]),
            origin=str(task.payload["origin"]),
        )
        self.chat.update(report.channel, report.ts, text, blocks=blocks)
        return {"updated": report.ts}

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
