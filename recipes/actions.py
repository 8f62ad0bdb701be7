"""What an evaluation asks the ticket service to do, as plain values.

The engine never changes anything: it returns these, each inside a :class:`Decision` that says
which recipe asked and why. The ticket service applies them in order, through the timeline and
the outbox like any other change (``RouteTo`` maps onto ``MoveTeam``, ``SetPriority`` onto
``SetPriority``, and so on). Templates are already rendered: ``ReplyToRequester.text`` is the
final text.
"""

from __future__ import annotations

from dataclasses import dataclass

from deskhand.domain import Priority, TicketStatus


@dataclass(frozen=True)
class RouteTo:
    """Move the ticket to ``team``; its triage card moves to that team's channel."""

    team: str


@dataclass(frozen=True)
class SetService:
    service: str


@dataclass(frozen=True)
class SetPriority:
    priority: Priority


@dataclass(frozen=True)
class SetLevel:
    level: int


@dataclass(frozen=True)
class SetStatus:
    """E.g. resolve or close the ticket."""

    status: TicketStatus


@dataclass(frozen=True)
class AddLabels:
    labels: tuple[str, ...]


@dataclass(frozen=True)
class RemoveLabels:
    labels: tuple[str, ...]


@dataclass(frozen=True)
class AssignUser:
    user: str
    """Slack user id."""


@dataclass(frozen=True)
class AssignRoundRobin:
    """Assign the next of ``team``'s agents in turn.

    Choosing the agent is the caller's: it needs the team's agents (the triage channel's
    members) and who was picked last, which are state, and the engine is a pure function.
    The caller should pick the agent after the last one this team's round-robin assigned
    (the timeline has it), skipping anyone no longer in the channel.
    """

    team: str


@dataclass(frozen=True)
class ReplyToRequester:
    """Reply in the ticket's thread (or the message's, for ``message.posted``)."""

    text: str


@dataclass(frozen=True)
class PostToChannel:
    channel: str
    """Channel name, without '#'."""
    text: str


@dataclass(frozen=True)
class AddInternalNote:
    text: str


@dataclass(frozen=True)
class SetJiraProject:
    """Create (or keep) the ticket's Jira issue in this project instead of the team's."""

    project: str


Action = (
    RouteTo
    | SetService
    | SetPriority
    | SetLevel
    | SetStatus
    | AddLabels
    | RemoveLabels
    | AssignUser
    | AssignRoundRobin
    | ReplyToRequester
    | PostToChannel
    | AddInternalNote
    | SetJiraProject
)


@dataclass(frozen=True)
class Decision:
    """One action, the recipe that asked for it and why, in words for people.

    ``reason`` reads like "Routed to HR by `hr-keywords`: matched 'payroll'"; the timeline
    stores ``recipe`` and ``reason`` as they are, and the triage card shows the reason.
    """

    action: Action
    recipe: str
    reason: str


def describe(action: Action) -> str:
    """What the action does, as the start of a reason ("Routed to HR")."""
    match action:
        case RouteTo(team):
            return f"Routed to {team}"
        case SetService(service):
            return f"Service set to {service}"
        case SetPriority(priority):
            return f"Priority set to {priority.value}"
        case SetLevel(level):
            return f"Level set to L{level}"
        case SetStatus(status):
            return {
                TicketStatus.RESOLVED: "Resolved",
                TicketStatus.CLOSED: "Closed",
            }.get(status, f"Status set to {status.label.lower()}")
        case AddLabels(labels):
            return f"Labelled {', '.join(labels)}"
        case RemoveLabels(labels):
            return f"Label removed: {', '.join(labels)}"
        case AssignUser(user):
            return f"Assigned to <@{user}>"
        case AssignRoundRobin(team):
            return f"Assigned round-robin among {team}'s agents"
        case ReplyToRequester():
            return "Replied to the requester"
        case PostToChannel(channel, _text):
            return f"Posted in #{channel}"
        case AddInternalNote():
            return "Internal note added"
        case SetJiraProject(project):
            return f"Jira project set to {project}"


def summary(action: Action) -> str:
    """The action as a recipe file would write it ("route: HR", "reply: Thanks …")."""
    match action:
        case RouteTo(team):
            return f"route: {team}"
        case SetService(service):
            return f"set_service: {service}"
        case SetPriority(priority):
            return f"set_priority: {priority.value}"
        case SetLevel(level):
            return f"set_level: {level}"
        case SetStatus(status):
            return f"set_status: {status.value}"
        case AddLabels(labels):
            return f"add_labels: {', '.join(labels)}"
        case RemoveLabels(labels):
            return f"remove_labels: {', '.join(labels)}"
        case AssignUser(user):
            return f"assign: {user}"
        case AssignRoundRobin(team):
            return f"assign: round-robin among {team}"
        case ReplyToRequester(text):
            return f"reply: {text}"
        case PostToChannel(channel, text):
            return f"post in #{channel}: {text}"
        case AddInternalNote(text):
            return f"note: {text}"
        case SetJiraProject(project):
            return f"jira_project: {project}"
