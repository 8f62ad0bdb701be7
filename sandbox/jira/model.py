"""The fake Jira's records: users, projects, issues, comments, links and the workflow."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass
class User:
    name: str
    """Server/Data Center username; Cloud keeps it only to find the user by name."""
    email: str
    display_name: str
    time_zone: str = "UTC"
    active: bool = True

    @property
    def account_id(self) -> str:
        """A stable Cloud-style account id (24 hex characters) derived from the name."""
        return hashlib.sha256(self.name.encode()).hexdigest()[:24]

    @property
    def key(self) -> str:
        """Server's user key (``JIRAUSER10100`` style for new users)."""
        number = int(hashlib.sha256(self.name.encode()).hexdigest()[:6], 16) % 90_000 + 10_000
        return f"JIRAUSER{number}"


@dataclass(frozen=True)
class IssueType:
    id: str
    name: str
    subtask: bool = False


@dataclass(frozen=True)
class Priority:
    id: str
    name: str
    color: str


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: str
    """Jira's status category key: ``new``, ``indeterminate`` or ``done``."""


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to: str
    """Name of the target status."""
    sources: frozenset[str] | None = None
    """Status names it is available from; ``None`` makes it global (from any status)."""
    required: tuple[str, ...] = ()
    """Fields the transition screen requires, e.g. ``("resolution",)``."""


@dataclass(frozen=True)
class Workflow:
    statuses: tuple[Status, ...]
    transitions: tuple[Transition, ...]
    initial: str

    def status(self, name: str) -> Status:
        for status in self.statuses:
            if status.name.lower() == name.lower():
                return status
        raise KeyError(name)

    def available(self, status: str) -> list[Transition]:
        return [t for t in self.transitions if t.sources is None or status in t.sources]

    @staticmethod
    def default() -> Workflow:
        """A service-desk style workflow; moving to Done needs a resolution, as in many sites."""
        return Workflow(
            statuses=(
                Status("10000", "To Do", "new"),
                Status("3", "In Progress", "indeterminate"),
                Status("10001", "Waiting for customer", "indeterminate"),
                Status("10002", "Done", "done"),
            ),
            transitions=(
                Transition(
                    "11", "To Do", "To Do", frozenset({"In Progress", "Waiting for customer"})
                ),
                Transition("21", "In Progress", "In Progress"),
                Transition("31", "Done", "Done", required=("resolution",)),
                Transition("41", "Waiting for customer", "Waiting for customer"),
                Transition("51", "Reopen", "To Do", frozenset({"Done"})),
            ),
            initial="To Do",
        )


STATUS_CATEGORIES: dict[str, tuple[int, str, str]] = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}

DEFAULT_PRIORITIES = (
    Priority("1", "Highest", "#d04437"),
    Priority("2", "High", "#f15C75"),
    Priority("3", "Medium", "#f79232"),
    Priority("4", "Low", "#707070"),
    Priority("5", "Lowest", "#999999"),
)

DEFAULT_ISSUE_TYPES = (
    IssueType("10001", "Task"),
    IssueType("10002", "Service Request"),
    IssueType("10004", "Bug"),
)

DEFAULT_RESOLUTIONS = ("Done", "Won't Do", "Duplicate", "Cannot Reproduce")


@dataclass(frozen=True)
class CustomField:
    id: str
    name: str
    type: str = "string"
    """Jira schema type: ``string``, ``number``, ``option``, ``array``..."""


@dataclass
class Project:
    id: str
    key: str
    name: str
    issue_types: tuple[IssueType, ...] = DEFAULT_ISSUE_TYPES
    lead: str | None = None


@dataclass
class Comment:
    id: str
    author: str
    body: str
    created: float
    updated: float
    update_author: str
    visibility: dict[str, str] | None = None
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def internal(self) -> bool:
        """JSM's internal note flag, from the ``sd.public.comment`` property."""
        value = self.properties.get("sd.public.comment")
        return isinstance(value, dict) and bool(value.get("internal"))


@dataclass
class RemoteLink:
    id: int
    object: dict[str, Any]
    global_id: str | None = None
    application: dict[str, Any] | None = None
    relationship: str | None = None


@dataclass
class ChangeItem:
    field: str
    from_id: str | None
    from_string: str | None
    to_id: str | None
    to_string: str | None
    fieldtype: str = "jira"


@dataclass
class History:
    id: str
    author: str
    created: float
    items: list[ChangeItem]


@dataclass
class Issue:
    id: str
    key: str
    project: str
    """Project key."""
    issue_type: IssueType
    summary: str
    reporter: str
    creator: str
    created: float
    updated: float
    status: str
    description: str | None = None
    priority: Priority | None = None
    assignee: str | None = None
    labels: list[str] = field(default_factory=list)
    resolution: str | None = None
    resolution_date: float | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    remote_links: list[RemoteLink] = field(default_factory=list)
    histories: list[History] = field(default_factory=list)
