"""Routing across teams: re-evaluation after a move, cycles and the hop limit."""

from __future__ import annotations

import pytest

from deskhand.config import Config
from recipes.actions import AssignRoundRobin, ReplyToRequester, RouteTo
from recipes.engine import route
from recipes.loader import parse_recipes
from tests.recipes.conftest import make_event

# Each recipe pins its team in a "not" or an "any", where the load-time check does not look,
# so these cycles can only be caught while running.
PING_PONG = """\
recipes:
  - name: it-to-hr
    trigger: ticket.created
    conditions: {any: [{team: IT}], text: {keywords: payroll}}
    actions: [{route: HR}]
  - name: hr-to-it
    trigger: ticket.created
    conditions: {any: [{team: HR}], text: {keywords: laptop}}
    actions: [{route: IT}]
"""

CHAIN = """\
recipes:
  - name: it-to-hr
    trigger: ticket.created
    conditions: {any: [{team: IT}]}
    actions: [{route: HR}]
  - name: hr-to-facilities
    trigger: ticket.created
    conditions: {any: [{team: HR}]}
    actions: [{route: Facilities}]
  - name: facilities-to-legal
    trigger: ticket.created
    conditions: {any: [{team: Facilities}]}
    actions: [{route: Legal}]
"""
CHAIN_NAMES = ["it-to-hr", "hr-to-facilities", "facilities-to-legal"]


def test_a_move_brings_the_new_team_s_recipes_in(config: Config) -> None:
    recipes = parse_recipes(
        """\
recipes:
  - name: hr-round-robin
    trigger: ticket.created
    conditions: {team: HR}
    actions: [{assign: {round_robin: true}}]
  - name: hr-keywords
    trigger: ticket.created
    conditions: {text: {keywords: payroll}}
    actions: [{route: HR}]
    stop: true
  - name: greet
    trigger: ticket.created
    actions: [{reply: "{{ team }} will answer"}]
""",
        config,
    )
    routing = route(recipes, make_event({"text": "payroll", "team": "IT"}))
    assert routing.outcome == "settled"
    assert routing.notice is None
    assert routing.teams == ("IT", "HR")
    assert [decision.action for decision in routing.actions] == [
        RouteTo("HR"),
        AssignRoundRobin("HR"),
        ReplyToRequester("HR will answer"),
    ]
    # hr-keywords fired once, in the first evaluation; its stop ended that one only
    assert [hop.stopped_by for hop in routing.evaluations] == ["hr-keywords", None]
    assert [firing.recipe for firing in routing.fired] == ["hr-keywords", "hr-round-robin", "greet"]


def test_a_cycle_within_one_evaluation_stops_before_the_move_back(config: Config) -> None:
    recipes = parse_recipes(PING_PONG, config)
    routing = route(recipes, make_event({"text": "payroll for my laptop", "team": "IT"}))
    assert routing.outcome == "cycle"
    assert routing.teams == ("IT", "HR")
    assert routing.final_team == "HR"
    assert routing.notice == (
        "Routing cycle IT → HR → IT: the move back to IT by `hr-to-it` was not made; "
        "the ticket stays in HR"
    )
    assert [decision.action for decision in routing.actions] == [RouteTo("HR")]
    assert [firing.recipe for firing in routing.fired] == ["it-to-hr", "hr-to-it"]


def test_a_cycle_across_evaluations_is_caught_too(config: Config) -> None:
    # hr-to-it comes first, so it only sees team HR when the recipes are consulted again
    recipes = parse_recipes(
        """recipes:
  - name: hr-to-it
    trigger: ticket.created
    conditions: {any: [{team: HR}], text: {keywords: laptop}}
    actions: [{route: IT}, {add_labels: from-hr}]
  - name: it-to-hr
    trigger: ticket.created
    conditions: {any: [{team: IT}], text: {keywords: payroll}}
    actions: [{route: HR}]
""",
        config,
    )
    routing = route(recipes, make_event({"text": "payroll for my laptop", "team": "IT"}))
    assert routing.outcome == "cycle"
    assert routing.teams == ("IT", "HR")
    assert len(routing.evaluations) == 2
    assert [decision.recipe for decision in routing.actions] == ["it-to-hr"]
    assert "move back to IT by `hr-to-it` was not made" in (routing.notice or "")


@pytest.mark.parametrize("max_hops", [1, 2])
def test_routing_stops_after_max_hops(config: Config, max_hops: int) -> None:
    recipes = parse_recipes(CHAIN, config)
    routing = route(recipes, make_event({"text": "x", "team": "IT"}), max_hops=max_hops)
    assert routing.outcome == "hop_limit"
    assert routing.hops == max_hops
    path = ("IT", "HR", "Facilities", "Legal")
    assert routing.teams == path[: max_hops + 1]
    assert routing.actions[-1].action == RouteTo(path[max_hops])
    refused = path[max_hops + 1]
    assert routing.notice == (
        f"Routing stopped after {max_hops} hops: the move to {refused} by "
        f"`{CHAIN_NAMES[max_hops]}` was not made ({' → '.join(path[: max_hops + 2])}); "
        f"the ticket stays in {path[max_hops]}"
    )


def test_a_chain_within_the_limit_settles(config: Config) -> None:
    recipes = parse_recipes(CHAIN, config)
    routing = route(recipes, make_event({"text": "x", "team": "IT"}), max_hops=3)
    assert routing.outcome == "settled"
    assert routing.notice is None
    assert routing.teams == ("IT", "HR", "Facilities", "Legal")
    assert routing.hops == 3


def test_a_route_to_the_team_the_ticket_is_in_is_not_a_move(config: Config) -> None:
    recipes = parse_recipes(
        "recipes:\n  - {name: stay, trigger: ticket.created, actions: [{route: IT}]}\n", config
    )
    routing = route(recipes, make_event({"text": "x", "team": "IT"}))
    assert routing.outcome == "settled"
    assert routing.teams == ("IT",)
    assert len(routing.evaluations) == 1
    assert [decision.action for decision in routing.actions] == [RouteTo("IT")]


def test_max_hops_must_allow_a_move(config: Config) -> None:
    recipes = parse_recipes(CHAIN, config)
    with pytest.raises(ValueError, match="at least 1"):
        route(recipes, make_event({"team": "IT"}), max_hops=0)
