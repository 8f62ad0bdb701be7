"""``deskhand recipes reload`` against a running Deskhand (issue 6): the command lints the
files, asks through the database, and the running process reloads its recipes within a few
seconds and answers; a set it cannot load leaves the last good one running, and says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deskhand.cli import app
from deskhand.config import parse_config
from recipes.book import RecipeBook
from tests.e2e.conftest import CONFIG, Running

ROUTE_PAYROLL = """\
recipes:
  - name: payroll-to-hr
    trigger: ticket.created
    conditions: {text: {keywords: [payroll]}}
    actions: [{route: HR}]
"""

ROUTE_LAPTOPS_TOO = (
    ROUTE_PAYROLL
    + """\
  - name: laptops-to-hr
    trigger: ticket.created
    conditions: {text: {keywords: [laptop]}}
    actions: [{route: HR}]
"""
)

BROKEN = ROUTE_LAPTOPS_TOO + "    colour: red\n"

runner = CliRunner()


@pytest.fixture
def transport() -> str:
    return "socket"


@pytest.fixture
def recipe_file(tmp_path: Path) -> Path:
    path = tmp_path / "running" / "routing.yaml"
    path.parent.mkdir()
    path.write_text(ROUTE_PAYROLL)
    return path


@pytest.fixture
def build_options(recipe_file: Path) -> dict[str, Any]:
    return {"recipes": RecipeBook.from_paths([recipe_file], parse_config(CONFIG))}


def reload(tmp_path: Path, database_url: str, recipes: str) -> tuple[int, str, str]:
    """``deskhand recipes reload`` with a config.yaml whose recipes are ``recipes``."""
    (tmp_path / "cli.yaml").write_text(recipes)
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG + "recipes: {paths: [cli.yaml]}\n")
    result = runner.invoke(
        app,
        ["recipes", "reload", "-c", str(config), "--database-url", database_url, "--wait", "30"],
        env={"COLUMNS": "250"},
    )
    return result.exit_code, result.stdout, result.stderr


def ticket_team(running: Running, text: str) -> str:
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", text)
    slack.user("bob").react(question, "ticket")
    running.settle()
    return next(t.team for t in running.tickets() if t.title == text)


def test_a_reload_reaches_the_running_deskhand(
    running: Running, recipe_file: Path, tmp_path: Path, database_url: str
) -> None:
    assert ticket_team(running, "My laptop is slow") == "IT"
    recipe_file.write_text(ROUTE_LAPTOPS_TOO)

    code, out, err = reload(tmp_path, database_url, ROUTE_LAPTOPS_TOO)

    assert (code, err) == (0, ""), out + err
    lines = out.splitlines()
    assert lines[0].startswith("loaded 2 recipes from 1 file: reload requested")
    [answer] = lines[1:]
    assert answer.endswith(": loaded 2 recipes from 1 file")
    assert ticket_team(running, "My new laptop will not boot") == "HR"


def test_a_set_the_running_deskhand_cannot_load_keeps_the_last_good_one(
    running: Running, recipe_file: Path, tmp_path: Path, database_url: str
) -> None:
    # The files this command lints are fine; the running process's copy is not.
    recipe_file.write_text(BROKEN)

    code, out, err = reload(tmp_path, database_url, ROUTE_LAPTOPS_TOO)

    assert code == 1, out + err
    answer = out.split("\n", 1)[1]
    assert "recipes not reloaded; still using the last good set (1 recipes):" in answer
    assert f"{recipe_file}:10:5: recipes.1.colour: unknown key" in answer
    assert ticket_team(running, "Payroll is late") == "HR"  # the old set still routes
    assert ticket_team(running, "My laptop is slow") == "IT"  # and the new one never ran
