"""``deskhand recipes reload`` on its own: files with problems ask nothing of anyone, and a
request nobody answers says so (the answered case runs against a live Deskhand in
tests/e2e/test_recipes_reload.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from deskhand.cli import app
from recipes.reloads import CURSOR
from storage.cursors import read_cursor
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import SyncCursor

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

    assert (code, out) == (2, "")
    routing = tmp_path / "routing.yaml"
    assert err.splitlines() == [
        f"{routing}:5:23: recipes.0.actions.0.route: no team called 'Nowhere' (known: IT)"
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

    code, out, err = reload(tmp_path, database_url, GOOD, "--wait", "0")

    assert code == 1
    assert out.startswith("loaded 1 recipe from 1 file: reload requested; waiting up to 0 s")
    assert "No running Deskhand answered within 0 s" in err
    engine = make_engine(database_url)
    try:
        assert read_cursor(engine, CURSOR) is not None  # the request stands for later
    finally:
        engine.dispose()


def test_a_missing_database_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    code, _, err = reload(tmp_path, f"sqlite:///{missing}", GOOD)
    assert code == 2
    assert f"no database at {missing}" in err
