"""Routing cycles refused at load where they can be seen in the files."""

from __future__ import annotations

import pytest

from deskhand.config import Config
from recipes.loader import RecipeError, load_recipes, parse_recipes


def recipe(name: str, team: str, target: str, extra: str = "") -> str:
    conditions = f"{{team: {team}{', ' + extra if extra else ''}}}"
    return (
        f"  - name: {name}\n    trigger: ticket.created\n"
        f"    conditions: {conditions}\n    actions: [{{route: {target}}}]\n"
    )


def test_two_teams_routing_to_each_other_are_refused(config: Config) -> None:
    text = "recipes:\n" + recipe("it-to-hr", "IT", "HR") + recipe("hr-to-it", "HR", "IT")
    with pytest.raises(RecipeError) as caught:
        parse_recipes(text, config, "r.yaml")
    assert [str(problem) for problem in caught.value.problems] == [
        "r.yaml:9:23: recipes.1.actions.0.route: routing cycle IT → HR → IT: 'it-to-hr' "
        "(r.yaml:2) routes IT to HR, 'hr-to-it' (r.yaml:6) routes HR to IT; a ticket would "
        "bounce between these teams"
    ]


def test_a_three_team_cycle_across_files_is_refused(config: Config, tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "a.yaml").write_text("recipes:\n" + recipe("it-to-hr", "IT", "HR"))
    (folder / "b.yaml").write_text(
        "recipes:\n"
        + recipe("hr-to-fac", "HR", "Facilities", "text: {keywords: desk}")
        + recipe("fac-to-it", "[Facilities, Legal]", "IT")
    )
    with pytest.raises(RecipeError) as caught:
        load_recipes([folder], config)
    (problem,) = caught.value.problems
    assert problem.file == str(folder / "b.yaml")
    assert (problem.line, problem.column) == (9, 23)
    assert problem.message.startswith("routing cycle IT → HR → Facilities → IT: 'it-to-hr' (")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # conditions that exclude one another: no ticket could go round
        ("priority: high", "priority: low"),
        ("channel: help", "channel: help-it"),
        ("fields: {system: VPN}", "fields: {system: email}"),
    ],
)
def test_exclusive_conditions_are_not_a_cycle(config: Config, first: str, second: str) -> None:
    text = "recipes:\n" + recipe("a", "IT", "HR", first) + recipe("b", "HR", "IT", second)
    assert len(parse_recipes(text, config)) == 2


def test_different_triggers_are_not_a_cycle(config: Config) -> None:
    text = (
        "recipes:\n"
        + recipe("a", "IT", "HR")
        + recipe("b", "HR", "IT").replace("ticket.created", "reaction.added")
    )
    assert len(parse_recipes(text, config)) == 2


def test_a_value_set_on_the_way_round_counts(config: Config) -> None:
    # a sets the priority b needs: IT → HR → IT can happen
    text = (
        "recipes:\n"
        "  - name: a\n    trigger: ticket.created\n"
        "    conditions: {team: IT, priority: high}\n"
        "    actions: [{set_priority: low}, {route: HR}]\n"
        + recipe("b", "HR", "IT", "priority: low")
    )
    with pytest.raises(RecipeError, match="routing cycle IT → HR → IT"):
        parse_recipes(text, config)


def test_a_value_set_on_the_way_round_can_also_break_the_cycle(config: Config) -> None:
    # from IT, a leaves the priority urgent, which b does not take; from HR, b leaves it
    # normal, which a does not take: no ticket can go round
    text = (
        "recipes:\n"
        "  - name: a\n    trigger: ticket.created\n"
        "    conditions: {team: IT, priority: high}\n"
        "    actions: [{set_priority: urgent}, {route: HR}]\n"
        "  - name: b\n    trigger: ticket.created\n"
        "    conditions: {team: HR, priority: low}\n"
        "    actions: [{set_priority: normal}, {route: IT}]\n"
    )
    assert len(parse_recipes(text, config)) == 2
    # the same with b leaving it high goes round from HR
    with pytest.raises(RecipeError, match="routing cycle"):
        parse_recipes(text.replace("normal", "high"), config)


def test_matching_text_conditions_do_not_hide_a_cycle(config: Config) -> None:
    text = (
        "recipes:\n"
        + recipe("a", "IT", "HR", "text: {keywords: payroll}")
        + recipe("b", "HR", "IT", "text: {keywords: laptop}")
    )
    with pytest.raises(RecipeError, match="routing cycle IT → HR → IT"):
        parse_recipes(text, config)
