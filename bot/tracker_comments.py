"""Outbox executors: Jira comments in Slack.

A public comment goes to the requester's thread, an internal one only to the triage card's
thread, each with its author's name. Jira text reaches Slack through ``from_tracker_text``
(which must escape it: it can never ping anyone) and is cut to Slack's advised length with a
link to the issue. An edit or deletion in Jira edits the posted message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from bot import text as t
from deskhand.config import Config
from deskhand.domain import Origin
from deskhand.outbox import OutboxTask
from deskhand.ports import ChatPort
from deskhand.tickets.queries import comment_and_ticket
from storage.engine import writing
from storage.models import Comment, Ticket


class TrackerComments:
    def __init__(
        self,
        chat: ChatPort,
        engine: Engine,
        config: Config,
        *,
        from_tracker_text: Callable[[str], str] = t.escape,
    ) -> None:
        self.chat = chat
        self.engine = engine
        self.config = config
        self.from_tracker_text = from_tracker_text

    def post(self, task: OutboxTask) -> dict[str, Any]:
        loaded = comment_and_ticket(self.engine, int(task.payload["comment_id"]))
        if loaded is None:
            return {"skipped": "no such comment"}
        comment, ticket = loaded
        if comment.slack_ts is not None:
            return {"skipped": "already posted"}
        where = self._thread(comment, ticket)
        if where is None:
            return {"skipped": "the ticket has no thread for it yet"}
        channel, thread_ts = where
        ts = self.chat.find_tagged(channel, thread_ts, task.tag) if task.maybe_done else None
        if ts is None:
            metadata = {"event_type": "deskhand_jira_comment", "event_payload": {"tag": task.tag}}
            ts = self.chat.post(
                channel, self._text(comment, ticket), thread_ts=thread_ts, metadata=metadata
            )
        with writing(self.engine) as session:
            row = session.get(Comment, comment.id)
            if row is not None:
                row.slack_channel, row.slack_ts = channel, ts
        return {"posted": ts, "channel": channel}

    def update(self, task: OutboxTask) -> dict[str, Any]:
        loaded = comment_and_ticket(self.engine, int(task.payload["comment_id"]))
        if loaded is None:
            return {"skipped": "no such comment"}
        comment, ticket = loaded
        if comment.slack_channel is None or comment.slack_ts is None:
            return {"skipped": "not posted; the post carries the latest text"}
        self.chat.update(comment.slack_channel, comment.slack_ts, self._text(comment, ticket))
        return {"updated": comment.slack_ts}

    def _thread(self, comment: Comment, ticket: Ticket) -> tuple[str, str] | None:
        if comment.visibility == "internal":
            channel, ts = ticket.triage_channel, ticket.triage_ts
        else:
            channel, ts = ticket.thread_channel, ticket.thread_ts
        return (channel, ts) if channel is not None and ts is not None else None

    def _text(self, comment: Comment, ticket: Ticket) -> str:
        if comment.origin != Origin.JIRA.value:
            return t.truncate(t.escape(comment.body), t.ADVISED_TEXT)
        label = "internal note in Jira" if comment.visibility == "internal" else "in Jira"
        head = f"*{t.escape(comment.author_name or 'Someone')}* ({label}):"
        if comment.deleted_at is not None:
            return f"{head} _(deleted in Jira)_"
        body = self.from_tracker_text(comment.body)
        return t.truncate(f"{head}\n{body}", t.ADVISED_TEXT, link=self._issue_url(ticket))

    def _issue_url(self, ticket: Ticket) -> str | None:
        if self.config.jira is None or ticket.jira_key is None:
            return None
        return f"{self.config.jira.url.rstrip('/')}/browse/{ticket.jira_key}"
