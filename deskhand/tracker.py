"""The port the core talks to an issue tracker (Jira) through; ``jira_sync/`` implements it.

Failures are the core's errors from :mod:`deskhand.ports`: ``RateLimitedError``,
``UnavailableError``, ``UnknownOutcomeError`` (a write may have happened: after a create, look
the issue up with :meth:`TrackerPort.find_by_label` before trying again) and ``RejectedError``.
Every issue Deskhand creates carries the label :func:`ticket_label` of its ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

LABEL = "deskhand"


def ticket_label(ticket_id: int | str) -> str:
    """The tag that finds a ticket's issue again, e.g. ``deskhand-42``."""
    return f"{LABEL}-{ticket_id}"


@dataclass(frozen=True)
class IssueRef:
    key: str
    id: str
    url: str


@dataclass(frozen=True)
class IssueState:
    """The fields of an issue the sync keeps in step, as Jira has them now."""

    updated: str
    """``fields.updated``, ISO 8601 with an offset."""
    status: str | None
    priority: str | None
    assignee: str | None
    """Cloud account id or Server username."""
    assignee_email: str | None = None


@dataclass(frozen=True)
class CommentState:
    """A comment as Jira has it now."""

    updated: str
    author: str | None
    author_name: str
    body: str
    internal: bool
    """A JSM internal comment or one restricted by a visibility."""


@dataclass(frozen=True)
class CommentRef:
    issue_key: str
    id: str


class TrackerPort(Protocol):
    """What the core needs from Jira."""

    def create_issue(
        self,
        project: str,
        issue_type: str,
        summary: str,
        description: str,
        labels: list[str],
        fields: dict[str, Any],
    ) -> IssueRef:
        """Create an issue; the summary is cut to fit, an over-long description truncated.

        ``fields`` are extra raw fields (custom fields by id, priority...).
        """

    def find_by_label(self, project: str, label: str) -> IssueRef | None:
        """The oldest issue of ``project`` carrying ``label``, if there is one."""

    def add_comment(
        self,
        key: str,
        body: str,
        *,
        internal: bool,
        service_desk: bool,
        visibility: tuple[str, str] | None,
    ) -> str:
        """Add a comment; its id.

        An internal comment is a JSM internal note where ``service_desk``, otherwise restricted
        to ``visibility`` (``("role", "Developers")`` or ``("group", ...)``); an internal comment
        with neither is refused (``RejectedError``) rather than posted publicly.
        """

    def update_comment(self, key: str, comment_id: str, body: str) -> None: ...

    def transition_to(self, key: str, status_name: str, *, resolution: str | None) -> bool:
        """Move the issue to the status called ``status_name``.

        True when it is there afterwards (also when it already was); False when no available
        transition leads there. ``resolution`` is set where the transition screen has it.
        """

    def assign(self, key: str, account: str | None) -> None:
        """Assign to ``account`` (Cloud account id, Server username), or unassign with None."""

    def set_priority(self, key: str, name: str) -> None: ...

    def issue_url(self, key: str) -> str:
        """The issue's page for people (``…/browse/KEY``)."""

    def issue_state(self, key: str) -> IssueState | None:
        """The issue's current state, or None when it no longer exists."""

    def comment_state(self, key: str, comment_id: str) -> CommentState | None:
        """The comment as it is now, or None when it (or its issue) no longer exists."""

    def me(self) -> str:
        """Deskhand's own account (Cloud account id, Server username): what it writes in Jira
        comes back from Jira by this author, and is dropped there."""

    def account_for_email(self, email: str) -> str | None:
        """The active Jira account whose email is ``email``, if Jira shows one."""

    def find_comment(self, key: str, body: str) -> str | None:
        """The id of Deskhand's own comment on ``key`` whose body is ``body`` as it would be
        sent (after an unknown outcome: did the comment get there?)."""

    def add_remote_link(self, key: str, url: str, title: str) -> None:
        """Link ``url`` from the issue; adding the same ``url`` again changes nothing."""
