"""The engine, case by case: a recipe file, an event, the actions and reasons expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from deskhand.config import Config
from recipes.actions import summary
from recipes.engine import evaluate
from recipes.loader import parse_recipes
from tests.recipes.conftest import make_event

CASES: list[dict[str, Any]] = YAML(typ="safe").load(Path(__file__).with_name("engine_cases.yaml"))


@pytest.mark.parametrize("case", CASES, ids=[case["case"] for case in CASES])
def test_engine_case(case: dict[str, Any], config: Config) -> None:
    recipes = parse_recipes(case["recipes"], config, "case.yaml")
    result = evaluate(recipes, make_event(case["event"]))
    got = [[summary(decision.action), decision.reason] for decision in result.actions]
    assert got == case["actions"]
    if "fired" in case:
        assert [firing.recipe for firing in result.fired] == case["fired"]
    if "stopped_by" in case:
        assert result.stopped_by == case["stopped_by"]
    expected_errors = case.get("errors", [])
    if expected_errors:
        assert len(result.errors) == 1, result.errors
        for part in expected_errors:
            assert part in result.errors[0]
    else:
        assert result.errors == ()


def test_the_recipe_of_each_decision_is_one_that_fired(config: Config) -> None:
    recipes = parse_recipes(CASES[0]["recipes"], config)
    result = evaluate(recipes, make_event(CASES[0]["event"]))
    assert {decision.recipe for decision in result.actions} == {"hr-keywords"}
    assert result.fired[0].matched == ("matched 'payroll'",)
    assert result.fired[0].source == "recipes.yaml:2"  # the line of its name


def test_evaluation_is_pure(config: Config) -> None:
    case = next(case for case in CASES if case["case"].startswith("a later recipe"))
    recipes = parse_recipes(case["recipes"], config)
    event = make_event(case["event"])
    first, second = evaluate(recipes, event), evaluate(recipes, event)
    assert first == second
    assert event.team == "IT"  # the event given is never changed
