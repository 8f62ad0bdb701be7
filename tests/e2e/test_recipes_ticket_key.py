"""``{{ ticket_key }}`` in the messages of ``ticket.created`` recipes, through the running app
and the sandbox: the key is given out once recipes have chosen the team (IT-1, or HR-1 for a
ticket they route to HR), and the reply, the note and the post say that key."""

from __future__ import annotations

from typing import Any

import pytest

from deskhand.config import parse_config
from recipes.book import RecipeBook
from recipes.loader import parse_recipes
from tests.e2e.conftest import CONFIG, Running

RECIPES = """\
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
      - note: "{{ ticket_key }} came in from #{{ channel }}"
      - post: {channel: hr-triage, text: "New for {{ team }}: {{ ticket_key }}"}
"""


@pytest.fixture
def transport() -> str:
    return "socket"


@pytest.fixture
def build_options() -> dict[str, Any]:
    config = parse_config(CONFIG)
    return {"recipes": RecipeBook(lambda: parse_recipes(RECIPES, config))}


def test_ticket_created_messages_say_the_key_the_ticket_was_given(running: Running) -> None:
    slack = running.world.slack.driver
    asked = []
    for text in ("The VPN is down", "My payslip is missing", "The printer is jammed"):
        question = slack.user("alice").post("#help", text)
        slack.user("bob").react(question, "ticket")
        running.settle()  # one at a time: the keys follow the order they were asked in
        asked.append(question)

    assert [(t.title, t.key) for t in running.tickets()] == [
        ("The VPN is down", "IT-1"),
        ("My payslip is missing", "HR-1"),
        ("The printer is jammed", "IT-2"),  # HR's ticket took no number of IT's
    ]
    replies = [[m.text for m in slack.thread(q)[1:] if m.text.startswith("We got")] for q in asked]
    assert replies == [
        ["We got your request IT-1"],
        ["We got your request HR-1"],
        ["We got your request IT-2"],
    ]
    notes = [
        reply.text
        for channel in ("#it-triage", "#hr-triage")
        for card in slack.bot_posts(channel)
        if card.thread_ts in (None, card.ts)
        for reply in slack.thread(card)[1:]
    ]
    assert sorted(notes) == [
        "HR-1 came in from #help",
        "IT-1 came in from #help",
        "IT-2 came in from #help",
    ]
    posts = [m.text for m in slack.bot_posts("#hr-triage") if m.text.startswith("New for")]
    assert posts == ["New for IT: IT-1", "New for HR: HR-1", "New for IT: IT-2"]
