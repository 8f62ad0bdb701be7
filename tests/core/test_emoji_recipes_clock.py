"""``reaction.added`` recipes read the runner's clock, as ``ticket.created`` ones do."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine

from deskhand.config import Config
from deskhand.emoji_recipes import EmojiRecipes
from deskhand.events import ReactionAdded
from deskhand.recipe_runner import RecipeRunner
from deskhand.tickets.service import TicketService
from recipes.loader import parse_recipes
from tests.core.test_new_ticket_recipes import (
    MONDAY_9_IN_BERLIN,
    SATURDAY_9_IN_BERLIN,
    messages,
    new_ticket,
)
from tests.core.test_new_ticket_recipes import config as config
from tests.core.test_new_ticket_recipes import engine as engine

AFTER_HOURS_EMOJI = """\
recipes:
  - name: urgent-after-hours
    trigger: reaction.added
    conditions: {all: [{emoji: rotating_light}, {business_hours: {open: false}}]}
    actions:
      - reply: "{{ team }} is out of office; {{ ticket_key }} waits for the on-call."
"""


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (MONDAY_9_IN_BERLIN, []),
        (SATURDAY_9_IN_BERLIN, ["IT is out of office; IT-1 waits for the on-call."]),
    ],
    ids=["monday", "saturday"],
)
def test_an_emoji_recipe_checks_business_hours_at_the_runners_time(
    engine: Engine, config: Config, now: datetime, expected: list[str]
) -> None:
    recipes = parse_recipes(AFTER_HOURS_EMOJI, config)
    runner = RecipeRunner(lambda: recipes, now=lambda: now)
    tickets = TicketService(engine, recipes=runner)
    tickets.create(new_ticket("VPN is down"))
    reaction = ReactionAdded(user="U0BOB", emoji="rotating_light", channel="C0HELP", ts="1.0")
    EmojiRecipes(engine, tickets, runner).handle(reaction, may=lambda user, team: True)
    assert messages(engine) == expected
