"""ACCEPTANCE item 31: a malformed recipe file, an unknown key, a catastrophic regex and a
routing cycle are refused at load with file:line; on reload the last good set stays;
routing stops after N hops."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskhand.config import Config
from recipes.book import RecipeBook
from recipes.engine import route
from recipes.loader import RecipeError, load_recipes
from tests.recipes.conftest import make_event

GOOD = (
    "recipes:\n  - name: hr-keywords\n    trigger: ticket.created\n"
    "    conditions: {text: {keywords: payroll}}\n    actions: [{route: HR}]\n"
)

REFUSED = {
    "malformed": ("recipes:\n  - name: a\n   trigger: x\n", 3, 4, "invalid YAML"),
    "unknown key": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n    stop: true\n    colour: red\n",
        5,
        5,
        "unknown key",
    ),
    "catastrophic regex": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n"
        "    conditions: {text: {regex: '(a+)+\\1'}}\n    stop: true\n",
        4,
        32,
        "backreferences can backtrack catastrophically",
    ),
    "routing cycle": (
        "recipes:\n"
        "  - {name: a, trigger: ticket.created, conditions: {team: IT}, actions: [{route: HR}]}\n"
        "  - {name: b, trigger: ticket.created, conditions: {team: HR}, actions: [{route: IT}]}\n",
        3,
        82,
        "routing cycle IT → HR → IT",
    ),
}


@pytest.mark.parametrize("kind", list(REFUSED))
def test_refused_at_load_with_file_and_line(kind: str, config: Config, tmp_path: Path) -> None:
    text, line, column, message = REFUSED[kind]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(RecipeError) as caught:
        load_recipes([path], config)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.column) == (str(path), line, column)
    assert message in problem.message
    assert str(problem).startswith(f"{path}:{line}:{column}: ")


@pytest.mark.parametrize("kind", list(REFUSED))
def test_a_failing_reload_keeps_the_last_good_set_and_says_why(
    kind: str, config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "recipes.yaml"
    path.write_text(GOOD)
    book = RecipeBook.from_paths([path], config)
    good = book.current
    assert [recipe.name for recipe in good] == ["hr-keywords"]

    text, line, _column, message = REFUSED[kind]
    path.write_text(text)
    result = book.reload()
    assert not result.ok
    assert book.current is good
    assert result.recipes is good
    assert result.problems[0].line == line
    assert message in result.message
    assert result.message.startswith(
        "recipes not reloaded; still using the last good set (1 recipes):"
    )
    payroll = make_event({"text": "payroll", "team": "IT"})
    assert route(book.current, payroll).final_team == "HR"


def test_routing_stops_after_n_hops(config: Config) -> None:
    from recipes.loader import parse_recipes

    # A chain written so the load-time check cannot see it (the team is under "any").
    hops = [("IT", "HR"), ("HR", "Facilities"), ("Facilities", "Legal"), ("Legal", "IT")]
    text = "recipes:\n" + "".join(
        f"  - {{name: r{index}, trigger: ticket.created, conditions: {{any: [{{team: {source}}}]}},"
        f" actions: [{{route: {target}}}]}}\n"
        for index, (source, target) in enumerate(hops)
    )
    recipes = parse_recipes(text, config)
    limited = route(recipes, make_event({"team": "IT"}), max_hops=2)
    assert limited.outcome == "hop_limit"
    assert limited.teams == ("IT", "HR", "Facilities")
    assert "Routing stopped after 2 hops" in (limited.notice or "")
    round_trip = route(recipes, make_event({"team": "IT"}), max_hops=10)
    assert round_trip.outcome == "cycle"
    assert round_trip.teams == ("IT", "HR", "Facilities", "Legal")
    assert "Routing cycle IT → HR → Facilities → Legal → IT" in (round_trip.notice or "")
