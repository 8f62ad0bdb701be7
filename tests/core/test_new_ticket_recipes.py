"""``ticket.created`` recipes in the ticket service: they read the runner's clock, not the
machine's, and their messages are rendered once the ticket has its key (which depends on the
team they route it to)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from deskhand.config import Config, parse_config
from deskhand.domain import IntakeKind
from deskhand.recipe_runner import RecipeRunner
from deskhand.teams import sync_teams
from deskhand.tickets.changes import Applied
from deskhand.tickets.recipe_hooks import NewRouting, RecipeHooks
from deskhand.tickets.service import NewTicket, TicketService
from recipes.actions import ReplyToRequester
from recipes.loader import parse_recipes
from recipes.recipe_set import RecipeSet
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import OutboxRow

CONFIG = """\
slack:
  request_channels: [help]
teams:
  - name: IT
    key_prefix: IT
    triage_channel: it-triage
    business_hours: {timezone: Europe/Berlin, start: "08:00", end: "18:00"}
  - {name: HR, key_prefix: HR, triage_channel: hr-triage}
"""

AFTER_HOURS = """\
recipes:
  - name: after-hours
    trigger: ticket.created
    conditions: {business_hours: {open: false}}
    actions:
      - reply: "{{ team }} is out of office; {{ ticket_key }} waits for them."
"""

MONDAY_9_IN_BERLIN = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SATURDAY_9_IN_BERLIN = datetime(2026, 3, 7, 8, 0, tzinfo=UTC)


@pytest.fixture
def config() -> Config:
    return parse_config(CONFIG)


@pytest.fixture
def engine(sqlite_url: str, config: Config) -> Iterator[Engine]:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    sync_teams(engine, config)
    yield engine
    engine.dispose()


def new_ticket(text: str, ts: str = "1.0") -> NewTicket:
    return NewTicket(
        team="IT",
        requester="U0ALICE",
        text=text,
        origin_kind=IntakeKind.REACTION,
        actor="U0BOB",
        origin_channel="C0HELP",
        origin_ts=ts,
        thread_channel="C0HELP",
        thread_ts=ts,
        channel_name="help",
    )


def messages(engine: Engine) -> list[str]:
    """The texts of the recipe messages waiting in the outbox, in order."""
    with Session(engine) as session:
        rows = session.scalars(
            select(OutboxRow).where(OutboxRow.action == "recipe_message").order_by(OutboxRow.id)
        )
        return [str(row.payload["text"]) for row in rows]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (MONDAY_9_IN_BERLIN, []),
        (SATURDAY_9_IN_BERLIN, ["IT is out of office; IT-1 waits for them."]),
    ],
    ids=["monday", "saturday"],
)
def test_business_hours_are_checked_at_the_runners_time(
    engine: Engine, config: Config, now: datetime, expected: list[str]
) -> None:
    recipes = parse_recipes(AFTER_HOURS, config)
    tickets = TicketService(engine, recipes=RecipeRunner(lambda: recipes, now=lambda: now))
    tickets.create(new_ticket("VPN is down"))
    assert messages(engine) == expected


def test_messages_say_the_key_of_the_team_the_ticket_was_routed_to(
    engine: Engine, config: Config
) -> None:
    recipes = parse_recipes(
        """\
recipes:
  - name: hr-keywords
    trigger: ticket.created
    conditions: {text: {keywords: [payslip]}}
    actions:
      - route: HR
  - name: acknowledge
    trigger: ticket.created
    actions:
      - reply: "We got your request {{ ticket_key }}"
      - note: "Number {{ ticket_key.split('-') | last }} of {{ team }}"
      - post: {channel: hr-triage, text: "{{ ticket_key }} is new"}
""",
        config,
    )
    tickets = TicketService(engine, recipes=RecipeRunner(lambda: recipes))
    keys = [
        tickets.create(new_ticket(text, ts)).key
        for text, ts in [("VPN is down", "1.0"), ("My payslip is missing", "2.0")]
    ]
    keys.append(tickets.create(new_ticket("Printer jammed", "3.0")).key)
    assert keys == ["IT-1", "HR-1", "IT-2"]  # HR's ticket took no number of IT's
    assert messages(engine) == [
        "We got your request IT-1",
        "Number 1 of IT",  # a template that cannot render without the key renders with it
        "IT-1 is new",
        "We got your request HR-1",
        "Number 1 of HR",
        "HR-1 is new",
        "We got your request IT-2",
        "Number 2 of IT",
        "IT-2 is new",
    ]


def no_change(*_args: object, **_kwargs: object) -> Applied:
    raise AssertionError("routing a new ticket changes no ticket")


def hooks_on(current: list[RecipeSet]) -> RecipeHooks:
    """Hooks whose recipes in force are ``current[0]`` (a test swaps it as a reload would)."""
    return RecipeHooks(RecipeRunner(lambda: current[0]), change_in=no_change)


def replying(config: Config, template: str) -> RecipeSet:
    """One ``ticket.created`` recipe that replies with ``template``."""
    text = f"recipes:\n  - {{name: a, trigger: ticket.created, actions: [{{reply: '{template}'}}]}}"
    return parse_recipes(text, config)


def test_the_key_is_rendered_with_the_recipes_that_routed_the_ticket(config: Config) -> None:
    current = [replying(config, "old {{ ticket_key }}")]
    planned = hooks_on(current).route_new(new_ticket("VPN is down"))
    current[0] = replying(config, "new {{ ticket_key }}")  # a reload before the key is known
    assert [d.action for d in planned.with_key("IT-7").actions] == [ReplyToRequester("old IT-7")]


def test_a_routing_without_messages_is_not_evaluated_again(config: Config) -> None:
    recipes = parse_recipes(
        "recipes:\n  - {name: a, trigger: ticket.created, actions: [{set_level: 2}]}", config
    )
    planned = hooks_on([recipes]).route_new(new_ticket("VPN is down"))
    assert planned.with_key("IT-1") is planned.routing


def test_when_the_second_evaluation_decides_otherwise_the_first_stands(config: Config) -> None:
    """A safeguard: the key must never change where a ticket goes, only what it says."""
    routes = replying(config, "{{ ticket_key }}")
    elsewhere = parse_recipes(
        "recipes:\n  - {name: a, trigger: ticket.created, "
        'actions: [{route: HR}, {reply: "{{ ticket_key }}"}]}',
        config,
    )
    planned = hooks_on([routes]).route_new(new_ticket("VPN is down"))
    mismatched = NewRouting(planned.routing, planned.event, elsewhere)
    assert mismatched.with_key("IT-1") is planned.routing
