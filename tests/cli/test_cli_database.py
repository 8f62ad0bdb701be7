"""The database as the command line opens it: never created, its failures in plain words."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from deskhand.cli_database import UnusableDatabaseError, existing_engine, explain
from storage.engine import make_engine
from tests.cli.closed_port import closed_port

__all__ = ["closed_port"]  # a fixture, used by name


def test_a_missing_sqlite_file_is_refused_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(UnusableDatabaseError) as caught:
        existing_engine(f"sqlite:///{missing}")
    assert caught.value.lines == (
        f"no database at {missing}",
        "Run deskhand migrate to create or upgrade it.",
    )
    assert not missing.exists()


def test_an_existing_sqlite_file_is_opened(tmp_path: Path) -> None:
    present = tmp_path / "present.db"
    sqlite3.connect(present).close()
    engine = existing_engine(f"sqlite:///{present}")
    try:
        assert engine.url.database == str(present)
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["bogus://x", "nonsense", "postgresql+nodriver://x/y"])
def test_a_url_that_names_no_usable_database_is_refused(url: str) -> None:
    with pytest.raises(UnusableDatabaseError) as caught:
        existing_engine(url)
    first, second = caught.value.lines
    assert first.startswith("cannot use the database URL: ")
    assert second == "Expected sqlite:///path.db or postgresql://user@host/db."


def failure(url: str, statement: str) -> SQLAlchemyError:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    except SQLAlchemyError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError(f"{statement} did not fail")


def test_a_missing_table_means_run_migrate(database_url: str) -> None:
    cause, hint = explain(failure(database_url, "select * from no_table_here"))
    assert "no_table_here" in cause
    assert "\n" not in cause
    assert hint == "The database is not migrated. Run deskhand migrate to create or upgrade it."


def test_an_unreachable_server_says_so_in_one_line(closed_port: int) -> None:
    url = f"postgresql://nobody@127.0.0.1:{closed_port}/x"
    cause, hint = explain(failure(url, "select 1"))
    assert "Connection refused" in cause
    assert "\n" not in cause
    assert hint == "Is it reachable, and migrated (deskhand migrate)?"
