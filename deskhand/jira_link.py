"""Slack → Jira, first step: a ticket of a team with a Jira project gets exactly one issue.

The issue goes into the project the ticket remembers (a recipe's ``jira_project``, else its
team's when it was created); older tickets that remember none use their team's.

The create runs as an outbox row after the ticket's cards. Jira's create has no idempotency
key, so after an unknown outcome the issue is looked up by the ticket's label before it is
created again; a ticket that already has its key is left alone. Once linked, the cards are
asked to show the key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from deskhand.config import Config
from deskhand.domain import Origin, Priority
from deskhand.outbox import OutboxTask
from deskhand.ports import ChatPort
from deskhand.tickets import tracker_rows
from deskhand.tickets.service import TicketService, sync_cards
from deskhand.tickets.timeline import record
from deskhand.tracker import TrackerPort, ticket_label
from deskhand.tracker_sync import may_exist
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
        *,
        to_tracker_text: Callable[[str], str] = str,
    ) -> None:
        """``to_tracker_text`` turns Slack text into the tracker's markup."""
        self.engine = engine
        self.config = config
        self.tracker = tracker
        self.chat = chat
        self.tickets = tickets
        self.to_tracker_text = to_tracker_text

    def create_issue(self, task: OutboxTask) -> dict[str, Any]:
        ticket = self.tickets.get(int(task.payload["ticket_id"]))
        team = self.config.team(ticket.team)
        if ticket.jira_key is not None:
            return {"skipped": f"already linked to {ticket.jira_key}"}
        settings = tracker_rows.issue_settings(self.config, ticket)
        if settings is None:
            return {"skipped": f"team {team.name} has no Jira project"}
        label = ticket_label(ticket.id)
        issue = self.tracker.find_by_label(settings.project, label) if may_exist(task) else None
        if issue is None:
            issue = self.tracker.create_issue(
                settings.project,
                settings.issue_type,
                f"[{ticket.key}] {ticket.title}",
                self._description(ticket),
                [LABEL, label],
                self._fields(ticket),
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
            if not row.private_origin:
                tracker_rows.add_remote_link(session, row.id)
        return {"key": issue.key}

    def _description(self, ticket: Ticket) -> str:
        person = self.chat.person(ticket.requester)
        who = person.name if person is not None else ticket.requester
        if person is not None and person.email:
            who += f" ({person.email})"
        # Who, where and the form's answers come first: an over-long request is cut at the
        # end, and the link to the full text in Slack must survive the cut.
        lines = [f"Requested in Slack by {who} (Deskhand ticket {ticket.key})."]
        link = self.thread_link(ticket)
        if link:
            lines.append(f"Slack thread: {link}")
        if ticket.fields:
            labels = self._field_labels(ticket.team)
            for name, value in ticket.fields.items():
                lines.append(f"* {labels.get(name, name)}: {self.to_tracker_text(str(value))}")
        lines += ["", self.to_tracker_text(ticket.description)]
        return "\n".join(lines)

    def _fields(self, ticket: Ticket) -> dict[str, Any]:
        """Mapped form answers and the priority, as Jira fields."""
        jira = self.config.jira
        if jira is None:
            return {}
        values: dict[str, Any] = {
            jira.field_map[name]: str(value)
            for name, value in ticket.fields.items()
            if name in jira.field_map
        }
        priority = jira.priority_map.get(Priority(ticket.priority))
        if priority:
            values["priority"] = {"name": priority}
        return values

    def thread_link(self, ticket: Ticket) -> str | None:
        """The Slack permalink of the request, unless it came from somewhere private."""
        if ticket.private_origin:
            return None
        channel, ts = ticket.origin_channel, ticket.origin_ts
        if channel is None or ts is None:
            channel, ts = ticket.thread_channel, ticket.thread_ts
        if channel is None or ts is None:
            return None
        return self.chat.permalink(channel, ts)

    def remote_link(self, task: OutboxTask) -> dict[str, Any]:
        """Link the issue back to the ticket's Slack thread (idempotent on Jira's side)."""
        ticket = self.tickets.get(int(task.payload["ticket_id"]))
        if ticket.jira_key is None:
            return {"skipped": "no issue"}
        link = self.thread_link(ticket)
        if link is None:
            return {"skipped": "no public thread"}
        self.tracker.add_remote_link(ticket.jira_key, link, f"Slack thread of {ticket.key}")
        return {"linked": link}

    def _field_labels(self, team_name: str) -> dict[str, str]:
        team = self.config.team(team_name)
        return {field.id: field.label for form in team.forms for field in form.fields}
