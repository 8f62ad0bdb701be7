"""Each recipe action through the running app and the sandbox (issue 6), one recipe set per
case, on a ticket made from a message in #help. The actions and triggers not here are in
test_recipes.py (route, priority, reply, note, round-robin, resolve; every trigger) and
test_recipes_jira_project.py (jira_project)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.config import parse_config
from recipes.book import RecipeBook
from recipes.loader import parse_recipes
from sandbox.world import SandboxWorld
from storage.models import Ticket, TimelineEvent
from tests.e2e.conftest import Running

CONFIG = """\
slack:
  request_channels: [help, help-private]
  emoji_creators: agents
teams:
  - {name: IT, key_prefix: IT, triage_channel: it-triage, services: [Access, Network]}
  - {name: HR, key_prefix: HR, triage_channel: hr-triage}
"""


def _recipe(name: str, actions: str, *, stop: bool = False) -> str:
    return (
        f"  - name: {name}\n"
        "    trigger: ticket.created\n"
        "    conditions: {text: {keywords: [printer]}}\n"
        f"    actions: {actions}\n" + ("    stop: true\n" if stop else "")
    )


def _service(ticket: Ticket, _running: Running) -> None:
    assert ticket.service == "Network"


def _level(ticket: Ticket, _running: Running) -> None:
    assert ticket.level == 2


def _labels(ticket: Ticket, _running: Running) -> None:
    assert ticket.labels == ["hardware"]


def _assign_user(ticket: Ticket, running: Running) -> None:
    carol = running.world.slack.workspace.find_user("carol")
    assert carol is not None
    assert (ticket.assignee, ticket.status) == (carol.id, "in_progress")


def _post(ticket: Ticket, running: Running) -> None:
    posts = [m.text for m in running.world.slack.driver.bot_posts("#hr-triage")]
    assert posts == [f"Heads-up from {ticket.team}"]


def _close(ticket: Ticket, _running: Running) -> None:
    assert ticket.status == "closed"
    assert ticket.closed_at is not None


def _stop(ticket: Ticket, _running: Running) -> None:
    assert (ticket.priority, ticket.level) == ("low", 1)  # the later recipe never ran


CASES: dict[str, tuple[str, str, Callable[[Ticket, Running], None]]] = {
    "set_service": (_recipe("svc", "[{set_service: Network}]"), "service_changed", _service),
    "set_level": (_recipe("lvl", "[{set_level: 2}]"), "level_changed", _level),
    "labels": (
        _recipe("lbl", "[{add_labels: [hardware, urgent]}, {remove_labels: urgent}]"),
        "labels_changed",
        _labels,
    ),
    "assign_user": (_recipe("asg", "[{assign: {user: '{carol}'}}]"), "assigned", _assign_user),
    "post": (
        _recipe("pst", "[{post: {channel: hr-triage, text: 'Heads-up from {{ team }}'}}]"),
        "recipe_message",
        _post,
    ),
    "set_status_closed": (_recipe("cls", "[{set_status: closed}]"), "status_changed", _close),
    "stop": (
        _recipe("first", "[{set_priority: low}]", stop=True)
        + _recipe("second", "[{set_level: 3}]"),
        "priority_changed",
        _stop,
    ),
}


@pytest.fixture
def transport() -> str:
    return "socket"


@pytest.fixture
def config_text() -> str:
    return CONFIG


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def build_options(sandbox_world: SandboxWorld, case: str) -> dict[str, Any]:
    """The case's recipes; '{carol}' stands for her Slack id, which the sandbox decides."""
    carol = sandbox_world.slack.workspace.find_user("carol")
    assert carol is not None
    text = "recipes:\n" + CASES[case][0].replace("{carol}", carol.id)
    config = parse_config(CONFIG)
    return {"recipes": RecipeBook(lambda: parse_recipes(text, config))}


def test_each_action_is_carried_out_and_on_the_timeline(running: Running, case: str) -> None:
    _, kind, check = CASES[case]
    slack = running.world.slack.driver
    untouched = slack.user("alice").post("#help", "The coffee machine is empty")
    slack.user("bob").react(untouched, "ticket")
    question = slack.user("alice").post("#help", "The printer on floor 3 is jammed")
    slack.user("bob").react(question, "ticket")
    running.settle()

    by_title = {t.title: t for t in running.tickets()}  # reactions may be handled in any order
    plain, ticket = (
        by_title["The coffee machine is empty"],
        by_title["The printer on floor 3 is jammed"],
    )
    assert (plain.service, plain.level, plain.labels, plain.assignee, plain.status) == (
        None,
        1,
        [],
        None,
        "open",
    )
    check(ticket, running)
    with Session(running.deskhand.tickets.engine) as session:
        fired = list(
            session.scalars(
                select(TimelineEvent).where(
                    TimelineEvent.ticket_id == ticket.id, TimelineEvent.recipe.is_not(None)
                )
            )
        )
        created = session.scalar(
            select(TimelineEvent.data).where(
                TimelineEvent.ticket_id == ticket.id, TimelineEvent.kind == "created"
            )
        )
    assert kind in [event.kind for event in fired]
    assert all(event.reason for event in fired)  # each says why
    assert (created or {}).get("channel_name") == "help"  # what `recipes replay` matches on
