"""The help desk's vocabulary, shared by the core, the adapters and the configuration."""

from __future__ import annotations

from enum import StrEnum


class TicketStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_ON_REQUESTER = "waiting_on_requester"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_done(self) -> bool:
        return self in (TicketStatus.RESOLVED, TicketStatus.CLOSED)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Origin(StrEnum):
    """Where a change came from; a change is never sent back to where it came from."""

    SLACK = "slack"
    JIRA = "jira"
    DESKHAND = "deskhand"
    CLI = "cli"


class IntakeKind(StrEnum):
    """How a request became a ticket."""

    REACTION = "reaction"
    COMMAND = "command"
    SHORTCUT = "shortcut"
    DM = "dm"
    AUTO = "auto"


LEVELS = (1, 2, 3)
"""Support levels L1 to L3."""
