"""Slack → Jira, first step: a ticket of a team with a Jira project gets exactly one issue.

The create runs as an outbox row after the ticket's cards. Jira's create has no idempotency
key, so after an unknown outcome the issue is looked up by the ticket's label before it is
created again; a ticket that already has its key is left alone. Once linked, the cards are
asked to show the key.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from deskhand.config import Config
from deskhand.domain import Origin
from deskhand.outbox import OutboxTask
from deskhand.ports import ChatPort
from deskhand.tickets.service import TicketService, sync_cards
from deskhand.tickets.timeline import record
from deskhand.tracker import TrackerPort, ticket_label
from storage.engine import writing
from storage.models import Link, Ticket

LABEL = "deskhand"


class JiraIssues:
    def __init__(
        self,
        engine: Engine,
        config: Config,
        tracker: TrackerPort,
        chat: ChatPort,
        tickets: TicketService,
    ) -> None:
        self.engine = engine
        self.config = config
        self.tracker = tracker
        self.chat = chat
        self.tickets = tickets

    def create_issue(self, task: OutboxTask) -> dict[str, Any]:
        ticket = self.tickets.get(int(task.payload["ticket_id"]))
        team = self.config.team(ticket.team)
        if ticket.jira_key is not None:
            return {"skipped": f"already linked to {ticket.jira_key}"}
        if team.jira is None:
            return {"skipped": f"team {team.name} has no Jira project"}
        label = ticket_label(ticket.id)
        issue = self.tracker.find_by_label(team.jira.project, label) if task.maybe_done else None
        if issue is None:
            issue = self.tracker.create_issue(
                team.jira.project,
                team.jira.issue_type,
                f"[{ticket.key}] {ticket.title}",
                self._description(ticket),
                [LABEL, label],
                {},
            )
        with writing(self.engine) as session:
            row = session.get(Ticket, ticket.id)
            if row is None or row.jira_key is not None:
                return {"skipped": "linked meanwhile"}
            row.jira_key = issue.key
            session.add(Link(ticket_id=row.id, system="jira", kind="issue", external_id=issue.key))
            record(
                session,
                row.id,
                actor="deskhand",
                kind="jira_linked",
                origin=Origin.DESKHAND,
                data={"key": issue.key, "url": issue.url},
            )
            session.flush()
            sync_cards(session, row.id, reason=f"jira:{issue.key}")
        return {"key": issue.key}

    def _description(self, ticket: Ticket) -> str:
        lines = [ticket.description, "", f"Requested in Slack by user {ticket.requester}."]
        if ticket.origin_channel and ticket.origin_ts and not ticket.private_origin:
            link = self.chat.permalink(ticket.origin_channel, ticket.origin_ts)
            if link:
                lines.append(f"Slack thread: {link}")
        for name, value in ticket.fields.items():
            lines.append(f"* {name}: {value}")
        lines.append(f"Deskhand ticket {ticket.key}")
        return "\n".join(lines)
