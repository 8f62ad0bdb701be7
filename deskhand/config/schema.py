"""The shape of ``config.yaml``.

Every model forbids unknown keys so a typo is an error, not a silently ignored setting.
Secrets never live here: they come from the environment (see :mod:`deskhand.config.secrets`).
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import time
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from deskhand.domain import Priority, TicketStatus

SLACK_API_URL = "https://slack.com/api/"

_CHANNEL_NAME = r"^[a-z0-9][a-z0-9._-]{0,79}$"
_KEY_PREFIX = r"^[A-Z][A-Z0-9]{0,9}$"
_IDENTIFIER = r"^[a-z][a-z0-9_]{0,49}$"
_EMOJI = r"^[a-z0-9_+\-']{1,100}$"
_COMMAND = r"^/[a-z0-9_-]{1,31}$"
_URL = r"^https?://"
_JIRA_PROJECT = r"^[A-Z][A-Z0-9_]{1,9}$"
_DATABASE_URL = r"^(sqlite|postgresql)(\+\w+)?://"

PATTERN_HELP = {
    _CHANNEL_NAME: "a Slack channel name without '#': lower-case letters, digits, '-', '_', '.'",
    _KEY_PREFIX: "1 to 10 upper-case letters or digits, starting with a letter (e.g. 'IT')",
    _IDENTIFIER: "an identifier: lower-case letters, digits and '_', starting with a letter",
    _EMOJI: "an emoji name without colons (e.g. 'ticket')",
    _COMMAND: "a slash command such as '/helpdesk'",
    _URL: "an http:// or https:// URL",
    _JIRA_PROJECT: "a Jira project key: 2 to 10 upper-case letters, digits or '_'",
    _DATABASE_URL: "a database URL starting sqlite:/// or postgresql://",
}

ChannelName = Annotated[
    str,
    Field(
        pattern=_CHANNEL_NAME,
        description="A Slack channel name without '#': lower case, digits, '-', '_' or '.'.",
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlackMode(StrEnum):
    SOCKET = "socket"
    HTTP = "http"


class EmojiCreators(StrEnum):
    AGENTS = "agents"
    ANYONE = "anyone"


class SlackConfig(Strict):
    """How Deskhand talks to Slack and where it listens for requests."""

    mode: SlackMode = Field(
        SlackMode.SOCKET,
        description="'socket' (Socket Mode, no public URL needed) or 'http' (Events API).",
    )
    api_url: str = Field(
        SLACK_API_URL,
        description="Web API base URL; change it for GovSlack or to point at the sandbox.",
    )
    ticket_emoji: str = Field(
        "ticket",
        pattern=_EMOJI,
        description="Reaction name (without colons) that turns a message into a ticket.",
    )
    emoji_creators: EmojiCreators = Field(
        EmojiCreators.AGENTS,
        description="Who may create a ticket with the emoji: 'agents' or 'anyone'.",
    )
    request_channels: list[ChannelName] = Field(
        default_factory=list, description="Channels where people ask for help."
    )
    auto_ticket_channels: list[ChannelName] = Field(
        default_factory=list,
        description="Channels where every top-level message becomes a ticket.",
    )
    slash_command: str = Field("/helpdesk", pattern=_COMMAND, description="The slash command.")
    dm_intake: bool = Field(True, description="Offer a 'Create ticket' button on DMs to the bot.")
    reopen_days: int = Field(
        7, ge=0, le=365, description="Days after closing in which a requester's reply reopens."
    )


class FieldType(StrEnum):
    TEXT = "text"
    MULTILINE = "multiline"
    SELECT = "select"
    USER = "user"
    DATE = "date"


class FormField(Strict):
    """One input in a team's request form."""

    id: str = Field(pattern=_IDENTIFIER, description="Stable identifier, e.g. 'laptop_model'.")
    label: str = Field(min_length=1, max_length=48, description="Label shown in the modal.")
    type: FieldType = Field(description="text, multiline, select, user or date.")
    required: bool = False
    options: list[str] = Field(default_factory=list, description="Choices of a 'select' field.")
    placeholder: str | None = Field(None, max_length=150)

    @field_validator("options")
    @classmethod
    def _options_unique(cls, options: list[str]) -> list[str]:
        if len(set(options)) != len(options):
            raise ValueError("options must be unique")
        if any(not 0 < len(option) <= 75 for option in options):
            raise ValueError("each option must be 1 to 75 characters (Slack's limit)")
        return options


class Form(Strict):
    """A request form: the extra fields asked for a team or one of its services."""

    name: str = Field(pattern=_IDENTIFIER)
    services: list[str] = Field(
        default_factory=list, description="Services this form is for; empty means all."
    )
    fields: list[FormField] = Field(default_factory=list, max_length=90)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WORKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")


class BusinessHours(Strict):
    timezone: str = Field("UTC", description="IANA time zone, e.g. 'Europe/Berlin'.")
    days: list[Weekday] = Field(default_factory=lambda: list(WORKDAYS))
    start: time = Field(time(9, 0), description="Opening time, HH:MM.")
    end: time = Field(time(17, 0), description="Closing time, HH:MM.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}; use an IANA name") from None
        return name


class TeamJira(Strict):
    project: str = Field(pattern=_JIRA_PROJECT, description="Jira project key.")
    issue_type: str = Field("Task", min_length=1)
    service_desk: bool = Field(
        False, description="A Jira Service Management project: internal notes use JSM comments."
    )


class Team(Strict):
    """A team that answers requests from its private triage channel."""

    name: str = Field(min_length=1, max_length=40)
    key_prefix: str = Field(pattern=_KEY_PREFIX, description="Ticket key prefix, e.g. 'IT'.")
    triage_channel: ChannelName = Field(description="The team's private triage channel.")
    services: list[str] = Field(default_factory=list, description="Request types this team owns.")
    jira: TeamJira | None = Field(None, description="Omit to keep tickets in Deskhand only.")
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    forms: list[Form] = Field(default_factory=list)


class JiraFlavour(StrEnum):
    CLOUD = "cloud"
    SERVER = "server"


class CommentVisibility(Strict):
    type: Literal["role", "group"]
    value: str = Field(min_length=1)


class JiraConfig(Strict):
    """Connection to Jira. Optional: without it, tickets live in Deskhand alone."""

    url: str = Field(pattern=_URL, description="Base URL of the Jira site.")
    flavour: JiraFlavour = Field(JiraFlavour.CLOUD, description="'cloud' or 'server'.")
    account: str = Field(
        min_length=1,
        description="The API user (an email on Cloud, a user name on Server); the token comes "
        "from DESKHAND_JIRA_TOKEN.",
    )
    fallback_account: str | None = Field(
        None, description="Assignee used when a Slack user has no matching Jira account."
    )
    resolution: str = Field(
        "Done", min_length=1, description="Resolution set where a transition to done asks for one."
    )
    poll_interval_seconds: int = Field(60, ge=10, le=3600)
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    internal_comment_visibility: CommentVisibility | None = Field(
        None, description="Visibility of internal notes outside service-desk projects."
    )
    status_map: dict[TicketStatus, str] = Field(
        default_factory=lambda: {
            TicketStatus.OPEN: "To Do",
            TicketStatus.IN_PROGRESS: "In Progress",
            TicketStatus.WAITING_ON_REQUESTER: "Waiting for customer",
            TicketStatus.RESOLVED: "Done",
            TicketStatus.CLOSED: "Done",
        },
        description="Deskhand status -> Jira status name.",
    )
    priority_map: dict[Priority, str] = Field(
        default_factory=lambda: {
            Priority.LOW: "Low",
            Priority.NORMAL: "Medium",
            Priority.HIGH: "High",
            Priority.URGENT: "Highest",
        },
        description="Deskhand priority -> Jira priority name.",
    )
    field_map: dict[str, str] = Field(
        default_factory=dict, description="Form field id -> Jira field id (e.g. customfield_10010)."
    )


class DatabaseConfig(Strict):
    url: str = Field(
        "sqlite:///deskhand.db",
        pattern=_DATABASE_URL,
        description="SQLAlchemy URL: sqlite:///path.db or postgresql://user@host/db.",
    )


class RecipesConfig(Strict):
    paths: list[str] = Field(
        default_factory=list, description="Recipe files or folders, relative to config.yaml."
    )


class HttpConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(3000, ge=0, le=65535)
    public_url: str | None = Field(
        None,
        pattern=_URL,
        description="Where Slack and Jira reach this service (HTTP mode, webhooks).",
    )


class Config(Strict):
    """The whole of ``config.yaml``."""

    slack: SlackConfig = Field(default_factory=SlackConfig)
    teams: list[Team] = Field(min_length=1)
    jira: JiraConfig | None = None
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    recipes: RecipesConfig = Field(default_factory=RecipesConfig)
    http: HttpConfig = Field(default_factory=HttpConfig)

    def team(self, name: str) -> Team:
        for team in self.teams:
            if team.name == name:
                return team
        raise KeyError(name)


def is_channel_name(value: str) -> bool:
    return re.fullmatch(_CHANNEL_NAME, value) is not None


def database_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a ``database.url`` (as the file's check words it), or None."""
    if re.match(_DATABASE_URL, url) is None:
        return f"expected {PATTERN_HELP[_DATABASE_URL]} (got {url!r})"
    return None
