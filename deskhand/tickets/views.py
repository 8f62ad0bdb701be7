"""Read-only views of a ticket, as the adapters render them (cards, App Home, notices).

The core hands these to the Slack side; Block Kit stays in ``bot/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from deskhand.domain import IntakeKind, Priority, TicketStatus


@dataclass(frozen=True)
class TicketView:
    id: int
    key: str
    title: str
    description: str
    team: str
    status: TicketStatus
    priority: Priority
    level: int
    """Support level 1, 2 or 3."""
    requester: str
    """Slack user id."""
    assignee: str | None
    service: str | None
    jira_key: str | None
    jira_url: str | None
    """Browse URL of the linked Jira issue, once linked."""
    origin_kind: IntakeKind
    origin_permalink: str | None
    """Link to the message the ticket came from, if any."""
    private_origin: bool
    """The request came from a private channel or DM: never show its text in public."""
    created_at: datetime
    fields: dict[str, str] = field(default_factory=dict)
    """Form answers, by field label, in form order."""
    routed_by: str | None = None
    """Why the ticket is with its team, e.g. "Routed to HR by `hr-keywords`: matched 'payroll'"."""
