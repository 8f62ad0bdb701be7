"""The shape of a recipe file.

A recipe file is a mapping with one key, ``recipes``, holding a list of recipes (a mapping
rather than a bare list, so the file can grow other sections later without a new format)::

    recipes:
      - name: hr-keywords
        description: Payroll questions go to HR.
        trigger: ticket.created
        conditions:
          text: {keywords: [payroll, payslip]}
        actions:
          - route: HR
          - set_service: Payroll
        stop: true

A recipe's ``conditions`` is one mapping: every key in it must hold (``all``, ``any`` and
``not`` nest further mappings). Its ``actions`` run in order, each a mapping with one key.
Every model forbids unknown keys, so a typo is an error with its line and column, never a
silently ignored condition.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, ConfigDict, Field, GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from deskhand.config.schema import ChannelName, Strict
from deskhand.domain import Priority, TicketStatus

RECIPE_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,99}$"
EMOJI_PATTERN = r"^[a-z0-9_+\-']{1,100}$"
JIRA_PROJECT_PATTERN = r"^[A-Z][A-Z0-9_]{1,9}$"
SLACK_USER_PATTERN = r"^[UW][A-Z0-9]+$"

PATTERN_HELP = {
    RECIPE_NAME_PATTERN: "a recipe name: lower-case letters, digits, '.', '_' or '-' "
    "(at most 100), starting with a letter or digit",
    EMOJI_PATTERN: "an emoji name without colons (e.g. 'hr')",
    JIRA_PROJECT_PATTERN: "a Jira project key: 2 to 10 upper-case letters, digits or '_'",
    SLACK_USER_PATTERN: "a Slack user id such as U0123ABC, not a name: use the user's id "
    "(in Slack, their profile → ⋮ → Copy member ID)",
}
"""What a value that misses each pattern should look like, for error messages."""


class Trigger(StrEnum):
    """What a recipe reacts to."""

    TICKET_CREATED = "ticket.created"
    MESSAGE_POSTED = "message.posted"
    """A message in a request channel, before any ticket exists."""
    REACTION_ADDED = "reaction.added"
    TICKET_STATUS_CHANGED = "ticket.status_changed"
    TICKET_COMMENT_ADDED = "ticket.comment_added"
    TICKET_IDLE = "ticket.idle"
    """Fired by the scheduler for a ticket nobody touched for a while."""
    SLA_BREACHED = "sla.breached"
    """Fired by the scheduler when a ticket misses its SLA."""


class _OneOrMany:
    """JSON Schema of a list that also accepts a single item (``team: IT`` or ``team: [IT]``)."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        array = handler(core_schema)
        resolved = handler.resolve_ref_schema(array)
        return {"anyOf": [resolved["items"], resolved]}


def _listed(value: Any) -> Any:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return [value]
    return value


_Item = TypeVar("_Item")
OneOrMany = Annotated[list[_Item], BeforeValidator(_listed), _OneOrMany(), Field(min_length=1)]
"""One value or a non-empty list of values; a condition on it holds when any of them does."""

Level = Annotated[int, Field(ge=1, le=3, description="Support level: 1, 2 or 3 (L1 to L3).")]
SlackUserId = Annotated[
    str,
    Field(
        pattern=SLACK_USER_PATTERN,
        description="A Slack user id (U… or W…), e.g. U0123ABC; names are not looked up.",
    ),
]
EmojiName = Annotated[
    str, Field(pattern=EMOJI_PATTERN, description="An emoji name without colons.")
]


class TextCondition(Strict):
    """Conditions on the text: a ticket's title and description, a message or a comment.

    Every part given must hold. Patterns are compiled when the file is loaded and run on a
    linear-time engine (RE2): none can backtrack catastrophically.
    """

    keywords: OneOrMany[str] | None = Field(
        None,
        description="Holds when any of these words or phrases occurs as whole words "
        "(case-insensitive unless case_sensitive is true).",
    )
    regex: str | None = Field(
        None,
        description="An RE2 regular expression searched anywhere in the text. RE2 has no "
        "backreferences or look-around; '(?i)' and the like work as usual.",
    )
    glob: str | None = Field(
        None,
        description="A shell-style pattern the whole text must match: '*' any text, "
        "'?' one character, '[abc]' one of these.",
    )
    case_sensitive: bool = Field(False, description="Match case exactly (default: ignore case).")

    @model_validator(mode="after")
    def _something_to_match(self) -> TextCondition:
        if self.keywords is None and self.regex is None and self.glob is None:
            raise ValueError("a text condition needs keywords, regex or glob")
        return self


class RequesterCondition(Strict):
    """Who asked. Every part given must hold; each holds when any of its values does."""

    user: OneOrMany[SlackUserId] | None = Field(None, description="Slack user ids, e.g. U0123ABC.")
    group: OneOrMany[str] | None = Field(
        None, description="Slack user group handles or ids the requester belongs to."
    )
    email_domain: OneOrMany[str] | None = Field(
        None, description="Domains of the requester's email address, e.g. example.com."
    )

    @model_validator(mode="after")
    def _something_to_match(self) -> RequesterCondition:
        if self.user is None and self.group is None and self.email_domain is None:
            raise ValueError("a requester condition needs user, group or email_domain")
        return self


class BusinessHoursCondition(Strict):
    """Whether the event falls within a team's business hours (``config.yaml``)."""

    open: bool = Field(
        True, description="true: within the hours; false: outside them (after hours)."
    )
    team: str | None = Field(None, description="Whose hours; default: the ticket's team.")


class Condition(Strict):
    """Every key given must hold; a recipe without conditions fires on every event of its
    trigger."""

    channel: OneOrMany[ChannelName] | None = Field(
        None, description="The channel (name without '#') the request or message is in."
    )
    team: OneOrMany[str] | None = Field(None, description="The ticket's team.")
    service: OneOrMany[str] | None = Field(None, description="The ticket's service.")
    text: TextCondition | None = None
    fields: dict[str, OneOrMany[str]] | None = Field(
        None,
        description="Form field id -> accepted values (case-insensitive); every field "
        "given must hold.",
    )
    requester: RequesterCondition | None = None
    priority: OneOrMany[Priority] | None = Field(None, description="The ticket's priority.")
    level: OneOrMany[Level] | None = Field(None, description="The ticket's support level.")
    status: OneOrMany[TicketStatus] | None = Field(None, description="The ticket's status.")
    previous_status: OneOrMany[TicketStatus] | None = Field(
        None, description="The status before the change (ticket.status_changed only)."
    )
    emoji: OneOrMany[EmojiName] | None = Field(
        None, description="The emoji added (reaction.added only)."
    )
    label: OneOrMany[str] | None = Field(None, description="Any of these labels is on the ticket.")
    business_hours: BusinessHoursCondition | None = None
    all_: list[Condition] | None = Field(
        None, alias="all", description="Every one of these conditions holds."
    )
    any_: list[Condition] | None = Field(
        None, alias="any", description="At least one of these conditions holds."
    )
    not_: Condition | None = Field(None, alias="not", description="This condition does not hold.")


class AssignAction(Strict):
    """Assign the ticket to a person, or round-robin among a team's agents."""

    user: SlackUserId | None = Field(
        None, description="Slack user id of the assignee (U… or W…), e.g. U0123ABC."
    )
    round_robin: bool = Field(
        False, description="Pick the next of the team's agents in turn (the caller picks)."
    )
    team: str | None = Field(
        None, description="Round-robin among this team's agents; default: the ticket's team."
    )

    @model_validator(mode="after")
    def _one_way(self) -> AssignAction:
        if (self.user is None) == (not self.round_robin):
            raise ValueError("give either user or round_robin: true")
        if self.team is not None and not self.round_robin:
            raise ValueError("team only goes with round_robin")
        return self


class PostAction(Strict):
    """Post a message in a channel."""

    channel: ChannelName
    text: str = Field(min_length=1, description="A template (see 'reply').")


class Action(Strict):
    """One thing to do: a mapping with exactly one of these keys."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"minProperties": 1, "maxProperties": 1}
    )

    route: str | None = Field(
        None, description="Move the ticket to this team (its card moves to their channel)."
    )
    set_service: str | None = None
    set_priority: Priority | None = None
    set_level: Level | None = None
    set_status: TicketStatus | None = Field(
        None, description="E.g. 'resolved' or 'closed' to resolve or close the ticket."
    )
    add_labels: OneOrMany[str] | None = None
    remove_labels: OneOrMany[str] | None = None
    assign: AssignAction | None = None
    reply: str | None = Field(
        None,
        min_length=1,
        description="Reply to the requester in the ticket's thread. A Jinja template with "
        "these variables: text, channel, team, service, priority, level, status, "
        "previous_status, fields, labels, emoji, trigger, ticket_key, requester (id, email, "
        "groups), requester_mention, recipe. An unknown variable is an error.",
    )
    post: PostAction | None = None
    note: str | None = Field(
        None, min_length=1, description="Add an internal note (a template, see 'reply')."
    )
    jira_project: str | None = Field(
        None, pattern=JIRA_PROJECT_PATTERN, description="Create the Jira issue in this project."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        given = [
            (field.alias or name)
            for name, field in type(self).model_fields.items()
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            keys = ", ".join(field.alias or name for name, field in type(self).model_fields.items())
            found = f"found {', '.join(given)}" if given else "found none"
            raise ValueError(f"an action has exactly one key ({found}); expected one of: {keys}")
        return self

    @property
    def kind(self) -> str:
        """The one key this action has."""
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)


class Recipe(Strict):
    """When something happens (trigger) and the conditions hold, do the actions."""

    name: str = Field(
        pattern=RECIPE_NAME_PATTERN,
        description="Unique across all recipe files; shown in reasons and the timeline.",
    )
    description: str = Field("", description="What this recipe is for, in a sentence.")
    trigger: OneOrMany[Trigger] = Field(description="The event or events this recipe reacts to.")
    conditions: Condition = Field(default_factory=Condition)
    actions: list[Action] = Field(default_factory=list, description="Done in order.")
    stop: bool = Field(False, description="When this recipe fires, no later recipe is consulted.")

    @model_validator(mode="after")
    def _does_something(self) -> Recipe:
        if not self.actions and not self.stop:
            raise ValueError("a recipe needs actions (or stop: true to end the evaluation)")
        return self


class RecipeFile(Strict):
    """A recipe file: ``recipes:`` and a list of recipes, evaluated in order."""

    recipes: list[Recipe] = Field(default_factory=list)


TEMPLATE_VARIABLES: frozenset[str] = frozenset(
    {
        "text",
        "channel",
        "team",
        "service",
        "priority",
        "level",
        "status",
        "previous_status",
        "fields",
        "labels",
        "emoji",
        "trigger",
        "ticket_key",
        "requester",
        "requester_mention",
        "recipe",
    }
)
"""The variables a reply, note or post template may use."""


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a recipe file, for editors (``deskhand recipes schema``)."""
    schema = RecipeFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Deskhand recipe file"
    return schema
