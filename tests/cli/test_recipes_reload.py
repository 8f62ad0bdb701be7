"""``deskhand recipes reload`` on its own: files with problems ask nothing of anyone, a
database that cannot be used says why, and a request nobody answers says so (the answered
case runs against a live Deskhand in tests/e2e/test_recipes_reload.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from deskhand.cli import app
from deskhand.recipes_cli import EXIT_BAD_INPUT, EXIT_DATABASE, EXIT_NOT_RELOADED
from recipes.reloads import CURSOR, POLL_SECONDS
from storage.cursors import read_cursor
from storage.engine import make_engine, writing
from storage.migrate import upgrade
from storage.models import RecipeReplica, SyncCursor
from storage.types import utcnow
from tests.cli.closed_port import closed_port

__all__ = ["closed_port"]  # a fixture, used by name

CONFIG = """\
slack:
  request_channels: [help]
teams:
  - {name: IT, key_prefix: IT, triage_channel: it-triage}
recipes: {paths: [routing.yaml]}
"""

GOOD = """\
recipes:
  - name: vpn
    trigger: ticket.created
    conditions: {text: {keywords: [vpn]}}
    actions: [{set_priority: high}]
"""

runner = CliRunner()


def reload(tmp_path: Path, url: str, recipes: str, *extra: str) -> tuple[int, str, str]:
    (tmp_path / "routing.yaml").write_text(recipes)
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    result = runner.invoke(
        app,
        ["recipes", "reload", "-c", str(config), "--database-url", url, *extra],
        env={"COLUMNS": "250"},
    )
    return result.exit_code, result.stdout, result.stderr


def test_files_with_problems_are_reported_and_nothing_is_requested(
    tmp_path: Path, database_url: str
) -> None:
    upgrade(database_url)
    broken = GOOD.replace("{set_priority: high}", "{route: Nowhere}")

    code, out, err = reload(tmp_path, database_url, broken)

    assert (code, out) == (EXIT_BAD_INPUT, "")
    routing = tmp_path / "routing.yaml"
    assert err.splitlines() == [
        f"{routing}:5:23: recipes.0.actions.0.route: no team called 'Nowhere' (known: IT)",
        "Nothing was reloaded.",
    ]
    engine = make_engine(database_url)
    try:
        assert read_cursor(engine, CURSOR) is None
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(SyncCursor)) == 0
    finally:
        engine.dispose()


def test_a_request_nobody_answers_says_so(tmp_path: Path, database_url: str) -> None:
    upgrade(database_url)

    code, out, err = reload(tmp_path, database_url, GOOD, "--wait", "0.01")

    assert code == EXIT_NOT_RELOADED
    assert out == "loaded 1 recipe from 1 file: reload requested; waiting up to 0.01 s\n"
    assert err == (
        "No running Deskhand answered within 0.01 s: is one running on this database? "
        f"Each running Deskhand looks for requests every {POLL_SECONDS:g} s and reloads then.\n"
    )
    assert requested(database_url)  # the request stands for later


def test_running_deskhands_that_do_not_answer_in_time_are_named(
    tmp_path: Path, database_url: str
) -> None:
    """A replica seen lately that has not answered yet: it is running, the wait was short."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with writing(engine) as session:
            now = utcnow()
            session.add(
                RecipeReplica(replica="vm:21096", ok=True, outcome="", answered_at=now, seen_at=now)
            )
    finally:
        engine.dispose()

    code, out, err = reload(tmp_path, database_url, GOOD, "--wait", "0.01")

    assert code == EXIT_NOT_RELOADED
    assert out.splitlines()[1:] == ["vm:21096: no answer within 0.01 s"]
    assert err.startswith(
        "None of the running Deskhands answered within 0.01 s; a longer --wait gives them time."
    )
    assert "is one running" not in err


def test_wait_0_asks_and_does_not_wait(tmp_path: Path, database_url: str) -> None:
    upgrade(database_url)

    code, out, err = reload(tmp_path, database_url, GOOD, "--wait", "0")

    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "loaded 1 recipe from 1 file: reload requested, not waiting (--wait 0).",
        f"Each running Deskhand looks for requests every {POLL_SECONDS:g} s and reloads then.",
    ]
    assert requested(database_url)


def requested(url: str) -> bool:
    engine = make_engine(url)
    try:
        return read_cursor(engine, CURSOR) is not None
    finally:
        engine.dispose()


def test_a_missing_database_is_refused_and_not_made(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    code, out, err = reload(tmp_path, f"sqlite:///{missing}", GOOD)
    assert (code, out) == (EXIT_DATABASE, "")
    assert err.splitlines() == [
        f"no database at {missing}",
        "Run deskhand migrate to create or upgrade it.",
        "Nothing was reloaded.",
    ]
    assert not missing.exists()


def test_an_unmigrated_database_shows_the_cause(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    code, out, err = reload(tmp_path, f"sqlite:///{empty}", GOOD)
    assert (code, out) == (EXIT_DATABASE, "")
    assert err.splitlines() == [
        "cannot use the database: no such table: sync_cursors",
        "The database is not migrated. Run deskhand migrate to create or upgrade it.",
        "Nothing was reloaded.",
    ]


def test_an_unreachable_database_shows_the_cause(tmp_path: Path, closed_port: int) -> None:
    url = f"postgresql://nobody@127.0.0.1:{closed_port}/x"
    code, out, err = reload(tmp_path, url, GOOD)
    assert (code, out) == (EXIT_DATABASE, "")
    lines = err.splitlines()
    assert lines[0].startswith("cannot use the database: ")
    assert "Connection refused" in lines[0]
    assert lines[1:] == [
        "Is it reachable, and migrated (deskhand migrate)?",
        "Nothing was reloaded.",
    ]


def test_a_database_that_fails_after_the_request_says_the_request_stands(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Migrated far enough to take the request, not to read the answers."""
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE recipe_replicas"))
    finally:
        engine.dispose()

    code, out, err = reload(tmp_path, sqlite_url, GOOD, "--wait", "5")

    assert code == EXIT_DATABASE
    assert out == "loaded 1 recipe from 1 file: reload requested; waiting up to 5 s\n"
    assert err.splitlines() == [
        "cannot use the database: no such table: recipe_replicas",
        "The database is not migrated. Run deskhand migrate to create or upgrade it.",
        "The request stands: running Deskhands reload when they see it.",
    ]
    assert requested(sqlite_url)


def test_an_unusable_config_reloads_nothing(tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("teams: []\n")
    result = runner.invoke(
        app, ["recipes", "reload", "-c", str(config), "--database-url", sqlite_url]
    )
    assert (result.exit_code, result.stdout) == (EXIT_BAD_INPUT, "")
    assert result.stderr.startswith(f"{config}:1:8: teams: ")
    assert result.stderr.splitlines()[-1] == "Nothing was reloaded."


def test_the_help_gives_every_exit_status() -> None:
    result = runner.invoke(app, ["recipes", "reload", "--help"], env={"COLUMNS": "250"})
    text = " ".join(result.output.split())
    assert "Exit status 0: every Deskhand that answered reloaded" in text
    assert f"; {EXIT_NOT_RELOADED}: no Deskhand answered" in text
    assert f"; {EXIT_BAD_INPUT}: config.yaml or the recipe files have problems" in text
    assert f"; {EXIT_DATABASE}: the database cannot be used" in text
    assert len({0, EXIT_NOT_RELOADED, EXIT_BAD_INPUT, EXIT_DATABASE}) == 4
