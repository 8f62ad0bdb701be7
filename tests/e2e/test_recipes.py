"""Recipes in the running app (issue 6): a new ticket routed by its words goes straight to
the right team, with the reason on the timeline and the triage card; an emoji moves a ticket;
round-robin takes the team's agents in turn; recipes reply and leave notes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.config import parse_config
from recipes.book import RecipeBook
from recipes.loader import parse_recipes
from storage.models import TimelineEvent
from tests.e2e.conftest import CONFIG, Running

RECIPES = """\
recipes:
  - name: hr-keywords
    trigger: ticket.created
    conditions:
      text: {keywords: [payroll, payslip]}
    actions:
      - route: HR
      - set_priority: high
      - reply: "Thanks {{ requester_mention }}, {{ team }} will answer."
      - note: "Routed here by keywords."
    stop: true
  - name: it-round-robin
    trigger: ticket.created
    conditions: {team: IT}
    actions:
      - assign: {round_robin: true}
  - name: emoji-to-hr
    trigger: reaction.added
    conditions:
      emoji: hr
      not: {team: HR}
    actions:
      - route: HR
  - name: password-self-service
    trigger: message.posted
    conditions:
      text: {keywords: [password]}
    actions:
      - reply: "You can reset it yourself at https://id.example.com/reset"
  - name: thanks-closes
    trigger: ticket.comment_added
    conditions:
      text: {regex: "(?i)^thanks?,? (it )?works"}
    actions:
      - set_status: resolved
  - name: resolved-note
    trigger: ticket.status_changed
    conditions: {status: resolved}
    actions:
      - note: "Resolved; the requester can reopen by replying."
"""


@pytest.fixture
def transport() -> str:
    return "socket"


@pytest.fixture
def build_options() -> dict[str, Any]:
    config = parse_config(CONFIG)
    return {"recipes": RecipeBook(lambda: parse_recipes(RECIPES, config))}


def timeline(running: Running) -> list[TimelineEvent]:
    with Session(running.deskhand.tickets.engine) as session:
        return list(session.scalars(select(TimelineEvent).order_by(TimelineEvent.id)))


def test_a_payroll_question_goes_straight_to_hr_and_says_why(running: Running) -> None:
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", "My payslip shows the wrong amount")
    slack.user("bob").react(question, "ticket")
    running.settle()

    [ticket] = running.tickets()
    assert (ticket.key, ticket.team, ticket.priority) == ("HR-1", "HR", "high")
    assert slack.bot_posts("#it-triage") == []  # never a card in the wrong team's channel
    [card] = [m for m in slack.bot_posts("#hr-triage") if m.thread_ts in (None, m.ts)]
    why = "Routed to HR by `hr-keywords`: matched 'payslip'"
    assert why in str(card.blocks)
    routed = [e for e in timeline(running) if e.kind == "team_changed"]
    assert [(e.recipe, e.reason) for e in routed] == [("hr-keywords", why)]
    alice = running.world.slack.workspace.find_user("alice")
    assert alice is not None
    replies = [m.text for m in slack.thread(question)]
    assert f"Thanks <@{alice.id}>, HR will answer." in replies
    assert "Routed here by keywords." in [m.text for m in slack.thread(card)]


def test_round_robin_takes_the_teams_agents_in_turn(running: Running) -> None:
    slack = running.world.slack.driver
    for text in ("VPN is down", "Printer jammed", "Monitor flickers"):
        question = slack.user("alice").post("#help", text)
        slack.user("bob").react(question, "ticket")
        running.settle()
    ws = running.world.slack.workspace
    agents = sorted(u.id for u in (ws.find_user("bob"), ws.find_user("carol")) if u is not None)
    assert [t.assignee for t in running.tickets()] == [agents[0], agents[1], agents[0]]


def test_an_agents_emoji_moves_the_ticket_and_a_requesters_does_not(running: Running) -> None:
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", "Need a new laptop bag")
    slack.user("bob").react(question, "ticket")
    running.settle()
    slack.user("alice").react(question, "hr")  # not an agent: nothing happens
    running.settle()
    assert [t.team for t in running.tickets()] == ["IT"]

    [triage] = slack.bot_posts("#it-triage")
    slack.user("bob").react(triage, "hr")
    running.settle()
    assert [t.team for t in running.tickets()] == ["HR"]
    [moved] = slack.bot_posts("#hr-triage")
    assert "Routed to HR by `emoji-to-hr`" in str(moved.blocks)


def test_message_posted_recipes_answer_before_any_ticket(running: Running) -> None:
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", "I forgot my password again")
    slack.user("alice").post("#help", "The printer is out of paper")
    running.settle()
    assert running.tickets() == []
    replies = [m.text for m in slack.thread(question)[1:]]
    assert replies == ["You can reset it yourself at https://id.example.com/reset"]
    assert len(slack.bot_posts("#help")) == 1  # the other message got nothing


def test_comment_and_status_recipes_follow_the_conversation(running: Running) -> None:
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", "Docking station not detected")
    slack.user("bob").react(question, "ticket")
    running.settle()
    slack.user("alice").reply(question, "Thanks, it works now")
    running.settle()

    [ticket] = running.tickets()
    assert ticket.status == "resolved"
    kinds = [(e.kind, e.recipe) for e in timeline(running) if e.recipe]
    assert ("status_changed", "thanks-closes") in kinds
    assert ("recipe_message", "resolved-note") in kinds
    [triage] = [m for m in slack.bot_posts("#it-triage") if m.thread_ts in (None, m.ts)]
    notes = [m.text for m in slack.thread(triage)]
    assert "Resolved; the requester can reopen by replying." in notes
