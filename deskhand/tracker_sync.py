"""Slack → Jira: outbox executors that carry a ticket's comments and state to its issue.

Comments are written by Deskhand's Jira account with the Slack author's name in the text.
After an unknown outcome the comment is looked up by its exact body before it is sent again.
State rows push the ticket's current value of one field (see :mod:`deskhand.tickets.tracker_rows`),
so they converge however often they run. A Jira workflow without a way to the mapped status is
recorded on the timeline and skipped, never retried into a loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from deskhand.config import Config
from deskhand.config.schema import JiraConfig, TeamJira
from deskhand.domain import Origin, Priority, TicketStatus
from deskhand.outbox import OutboxTask
from deskhand.ports import ChatPort, UnavailableError
from deskhand.tickets import tracker_rows
from deskhand.tickets.queries import comment_and_ticket
from deskhand.tickets.timeline import record
from deskhand.tracker import TrackerPort
from storage.engine import writing
from storage.models import Comment, Ticket


def may_exist(task: OutboxTask) -> bool:
    """Whether what ``task`` writes may already be in Jira: an earlier attempt timed out after
    sending, or died (a killed process leaves no error behind, only a used attempt). Jira
    writes take no idempotency key, so such a task looks before it writes."""
    return task.maybe_done or task.attempts > 1


LONG_TEXT = 30_000
"""Comments longer than this (near Jira's 32,767) carry a link to their Slack message."""


class IssueNotLinkedError(UnavailableError):
    """The ticket's issue is not created yet: try again later (rows wait their turn)."""


class TrackerSync:
    def __init__(
        self,
        engine: Engine,
        config: Config,
        tracker: TrackerPort,
        chat: ChatPort,
        *,
        to_tracker_text: Callable[[str], str] = str,
    ) -> None:
        """``to_tracker_text`` turns Slack text into the tracker's markup."""
        if config.jira is None:
            raise ValueError("the Jira sync needs a jira section in the configuration")
        self.engine = engine
        self.config = config
        self.jira: JiraConfig = config.jira
        self.tracker = tracker
        self.chat = chat
        self.to_tracker_text = to_tracker_text

    # comments --------------------------------------------------------------------------------

    def add_comment(self, task: OutboxTask) -> dict[str, Any]:
        loaded = self._comment(int(task.payload["comment_id"]))
        if loaded is None:
            return {"skipped": "no such comment"}
        comment, ticket, team = loaded
        if comment.jira_comment_id is not None:
            return {"skipped": f"already comment {comment.jira_comment_id}"}
        if team is None:
            return {"skipped": f"team {ticket.team} has no Jira project"}
        key = _linked(ticket)
        body = self._comment_body(comment)
        found = self.tracker.find_comment(key, body) if may_exist(task) else None
        jira_id = found or self.tracker.add_comment(
            key,
            body,
            internal=comment.visibility == "internal",
            service_desk=team.service_desk,
            visibility=self._visibility(),
        )
        with writing(self.engine) as session:
            row = session.get(Comment, comment.id)
            if row is not None and row.jira_comment_id is None:
                row.jira_comment_id = jira_id
                _synced(session, ticket.id, "comment_synced", comment=comment.id, jira=jira_id)
        return {"jira_comment": jira_id, "found": found is not None}

    def update_comment(self, task: OutboxTask) -> dict[str, Any]:
        loaded = self._comment(int(task.payload["comment_id"]))
        if loaded is None:
            return {"skipped": "no such comment"}
        comment, ticket, team = loaded
        if team is None:
            return {"skipped": f"team {ticket.team} has no Jira project"}
        if comment.jira_comment_id is None:
            # Its add row runs first (a ticket's rows keep their order): nothing to edit yet
            # means the add failed for good, and the add carries the latest body anyway.
            return {"skipped": "the comment never reached Jira"}
        key = _linked(ticket)
        self.tracker.update_comment(key, comment.jira_comment_id, self._comment_body(comment))
        with writing(self.engine) as session:
            _synced(
                session,
                ticket.id,
                "comment_edit_synced",
                comment=comment.id,
                jira=comment.jira_comment_id,
            )
        return {"updated": comment.jira_comment_id}

    def _comment(self, comment_id: int) -> tuple[Comment, Ticket, TeamJira | None] | None:
        loaded = comment_and_ticket(self.engine, comment_id)
        if loaded is None:
            return None
        comment, ticket = loaded
        return comment, ticket, tracker_rows.issue_settings(self.config, ticket)

    def _comment_body(self, comment: Comment) -> str:
        person = self.chat.person(comment.author)
        name = person.name if person is not None else comment.author
        where = "an internal note in Slack" if comment.visibility == "internal" else "in Slack"
        if comment.deleted_at is not None:
            return f"_{name} deleted this comment {where}._"
        text = self.to_tracker_text(comment.body)
        if len(text) > LONG_TEXT and comment.slack_channel and comment.slack_ts:
            # Jira keeps 32,767 characters: the port cuts the end off, so the way to the
            # whole text goes in front.
            link = self.chat.permalink(comment.slack_channel, comment.slack_ts)
            if link:
                return f"*{name}* wrote {where} ([the full text|{link}]):\n{text}"
        return f"*{name}* wrote {where}:\n{text}"

    def _visibility(self) -> tuple[str, str] | None:
        restricted = self.jira.internal_comment_visibility
        return None if restricted is None else (restricted.type, restricted.value)

    # state -----------------------------------------------------------------------------------

    def push_field(self, task: OutboxTask) -> dict[str, Any]:
        with Session(self.engine, expire_on_commit=False) as session:
            ticket = session.get(Ticket, int(task.payload["ticket_id"]))
            if ticket is None:
                return {"skipped": "no such ticket"}
            session.expunge(ticket)
        if tracker_rows.issue_settings(self.config, ticket) is None:
            return {"skipped": f"team {ticket.team} has no Jira project"}
        key = _linked(ticket)
        field = str(task.payload["field"])
        if field == "status":
            return self._push_status(ticket, key)
        if field == "priority":
            name = self.jira.priority_map.get(Priority(ticket.priority))
            if name is None:
                return {"skipped": f"no Jira priority for {ticket.priority}"}
            self.tracker.set_priority(key, name)
            return {"priority": name}
        if field == "assignee":
            return self._push_assignee(ticket, key, task)
        raise ValueError(f"unknown field {field!r}")

    def _push_status(self, ticket: Ticket, key: str) -> dict[str, Any]:
        status = TicketStatus(ticket.status)
        name = self.jira.status_map.get(status)
        if name is None:
            return {"skipped": f"no Jira status for {status.value}"}
        resolution = self.jira.resolution if status.is_done else None
        if self.tracker.transition_to(key, name, resolution=resolution):
            return {"status": name}
        with writing(self.engine) as session:
            record(
                session,
                ticket.id,
                actor="deskhand",
                kind="sync_skipped",
                origin=Origin.DESKHAND,
                data={"issue": key, "status": name},
                reason=f"{key}'s workflow has no transition to {name!r} from where it is",
            )
        return {"skipped": f"no transition to {name}"}

    def _push_assignee(self, ticket: Ticket, key: str, task: OutboxTask) -> dict[str, Any]:
        if ticket.assignee is None:
            self.tracker.assign(key, None)
            return {"assignee": None}
        person = self.chat.person(ticket.assignee)
        account = self.tracker.account_for_email(person.email) if person and person.email else None
        if account is not None:
            self.tracker.assign(key, account)
            return {"assignee": account}
        fallback = self._fallback_account()
        if fallback is None:
            return {"skipped": "the assignee has no Jira account and there is no fallback"}
        self.tracker.assign(key, fallback)
        name = person.name if person is not None else ticket.assignee
        note = f"_Assigned to {name} in Slack (no Jira account found for them)._"
        if not (may_exist(task) and self.tracker.find_comment(key, note)):
            self.tracker.add_comment(key, note, internal=False, service_desk=False, visibility=None)
        return {"assignee": fallback, "for": name}

    def _fallback_account(self) -> str | None:
        fallback = self.jira.fallback_account
        if fallback is None or "@" not in fallback:
            return fallback  # already an account id (Cloud) or a username (Server)
        return self.tracker.account_for_email(fallback)


def _linked(ticket: Ticket) -> str:
    if ticket.jira_key is None:
        raise IssueNotLinkedError(f"{ticket.key} has no Jira issue yet")
    return ticket.jira_key


def _synced(session: Session, ticket_id: int, kind: str, **data: Any) -> None:
    record(session, ticket_id, actor="deskhand", kind=kind, origin=Origin.DESKHAND, data=data)
