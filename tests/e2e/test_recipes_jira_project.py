"""The ``jira_project`` recipe action through the running app and the sandbox's Jira (issue 6):
at ``ticket.created`` the issue is made in the chosen project instead of the team's, and the
ticket remembers it; once the issue exists a later recipe cannot move it (Jira's REST API
cannot move an issue between projects), which the timeline says."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.config import parse_config
from recipes.book import RecipeBook
from recipes.loader import parse_recipes
from sandbox.world import SandboxWorld
from storage.models import TimelineEvent
from tests.e2e.conftest import Running
from tests.waiting import DEADLINE

CONFIG = """\
slack:
  request_channels: [help]
  emoji_creators: agents
teams:
  - {name: IT, key_prefix: IT, triage_channel: it-triage, jira: {project: IT}}
  - {name: HR, key_prefix: HR, triage_channel: hr-triage, jira: {project: PEOPLE}}
  - {name: Facilities, key_prefix: FAC, triage_channel: facilities-triage}
jira:
  url: https://replaced-by-the-sandbox.example
  account: replaced@example.com
  timeout_seconds: 1
"""

RECIPES = """\
recipes:
  - name: payroll-in-people
    trigger: ticket.created
    conditions: {text: {keywords: [payroll]}}
    actions: [{jira_project: PEOPLE}]
  - name: back-to-it
    trigger: reaction.added
    conditions: {emoji: it}
    actions: [{jira_project: IT}]
  - name: desks-tracked-in-it
    trigger: ticket.created
    conditions: {text: {keywords: [desk]}}
    actions: [{route: Facilities}, {jira_project: IT}]
"""


@pytest.fixture
def transport() -> str:
    return "socket"


@pytest.fixture
def config_text() -> str:
    return CONFIG


@pytest.fixture
def extra_public_channels() -> list[str]:
    return ["facilities-triage"]


@pytest.fixture
def build_options(sandbox_world: SandboxWorld) -> dict[str, Any]:
    sandbox_world.jira.add_project("PEOPLE", "People requests")
    config = parse_config(CONFIG)
    return {"recipes": RecipeBook(lambda: parse_recipes(RECIPES, config))}


def jira_timeline(running: Running) -> list[tuple[str, str | None, str | None]]:
    with Session(running.deskhand.tickets.engine) as session:
        events = session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.kind.like("jira_project%"))
            .order_by(TimelineEvent.id)
        )
        return [(e.kind, e.recipe, e.reason) for e in events]


def test_the_issue_is_made_in_the_chosen_project_and_stays_there(running: Running) -> None:
    slack = running.world.slack.driver
    payroll = slack.user("alice").post("#help", "My payroll slip is missing")
    slack.user("bob").react(payroll, "ticket")
    vpn = slack.user("alice").post("#help", "VPN drops every hour")
    slack.user("bob").react(vpn, "ticket")
    running.settle()
    assert running.deskhand.wait_idle(DEADLINE)

    tickets = {t.title: t for t in running.tickets()}
    chosen, plain = tickets["My payroll slip is missing"], tickets["VPN drops every hour"]
    assert (chosen.team, chosen.jira_project) == ("IT", "PEOPLE")  # not moved: only its issue
    assert chosen.jira_key is not None
    assert chosen.jira_key.startswith("PEOPLE-")
    assert plain.jira_project == "IT"
    assert plain.jira_key is not None
    assert plain.jira_key.startswith("IT-")
    issues = running.world.jira.state.issues
    assert sorted(issues) == sorted([chosen.jira_key, plain.jira_key])
    assert issues[chosen.jira_key].project == "PEOPLE"
    [(kind, recipe, reason)] = jira_timeline(running)
    assert (kind, recipe) == ("jira_project_set", "payroll-in-people")
    assert reason is not None
    assert reason.startswith("Jira project set to PEOPLE")

    # A later recipe's jira_project: skipped, and says why; nothing else changes.
    slack.user("bob").react(payroll, "it")
    running.settle()
    assert running.deskhand.wait_idle(DEADLINE)
    after = {t.title: t for t in running.tickets()}["My payroll slip is missing"]
    assert (after.jira_key, after.jira_project) == (chosen.jira_key, "PEOPLE")
    assert sorted(running.world.jira.state.issues) == sorted([chosen.jira_key, plain.jira_key])
    kind, recipe, reason = jira_timeline(running)[-1]
    assert (kind, recipe) == ("jira_project_skipped", "back-to-it")
    assert reason is not None
    assert f"the issue already exists ({chosen.jira_key})" in reason
    assert "Jira cannot move an issue between projects" in reason


def test_a_team_without_jira_gets_an_issue_in_the_chosen_project_and_keeps_it_in_sync(
    running: Running,
) -> None:
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", "My desk is wobbling")
    slack.user("bob").react(question, "ticket")
    running.settle()
    assert running.deskhand.wait_idle(DEADLINE)
    [ticket] = running.tickets()
    assert (ticket.team, ticket.jira_project) == ("Facilities", "IT")
    assert ticket.jira_key is not None
    assert running.world.jira.state.issues[ticket.jira_key].project == "IT"

    slack.user("alice").reply(question, "It is the left leg")
    running.settle()
    assert running.deskhand.wait_idle(DEADLINE)
    comments = running.world.jira.state.issues[ticket.jira_key].comments
    assert ["It is the left leg" in (c.body or "") for c in comments] == [True]
