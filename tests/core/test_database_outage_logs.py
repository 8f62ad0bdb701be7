"""A database that cannot be reached is an outage for the loops' logs, not a bug: one line
when it starts, not a traceback per step; a wrong statement still is a bug."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from deskhand.step_failures import StepFailures, database_unavailable, is_expected
from tests.cli.closed_port import closed_port as closed_port
from tests.cli.test_cli_database import failure


def raised_by(url: str, statement: str = "SELECT 1") -> DBAPIError:
    """The error SQLAlchemy really raises for ``statement`` on ``url``."""
    error = failure(url, statement)
    assert isinstance(error, DBAPIError), error
    return error


def test_a_refused_postgresql_connection_is_an_outage(closed_port: int) -> None:
    error = raised_by(f"postgresql+psycopg://deskhand@127.0.0.1:{closed_port}/deskhand")
    assert database_unavailable(error)
    assert is_expected(error)


def test_a_sqlite_file_that_cannot_be_opened_is_an_outage(tmp_path: Path) -> None:
    error = raised_by(f"sqlite:///{tmp_path / 'gone' / 'deskhand.db'}")
    assert database_unavailable(error)


@pytest.mark.postgres
def test_a_missing_table_on_postgresql_is_a_bug(postgres_url: str) -> None:
    error = raised_by(postgres_url, "SELECT * FROM no_such_table")
    assert not database_unavailable(error)
    assert not is_expected(error)


def test_a_missing_table_on_sqlite_is_a_bug(tmp_path: Path) -> None:
    error = raised_by(f"sqlite:///{tmp_path / 'deskhand.db'}", "SELECT * FROM no_such_table")
    assert not database_unavailable(error)
    assert not is_expected(error)


def test_an_unreachable_database_logs_one_line_then_the_recovery(
    closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    error = raised_by(f"postgresql+psycopg://deskhand@127.0.0.1:{closed_port}/deskhand")
    now = [0.0]
    failures = StepFailures("inbox", logging.getLogger("test.loops"), clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="test.loops"):
        for _ in range(60):  # thirty seconds of steps every half second
            failures.failed(error)
            now[0] += 0.5
        failures.succeeded()
    assert [(r.levelno, r.getMessage().split(":")[0]) for r in caplog.records] == [
        (logging.WARNING, "inbox"),
        (logging.INFO, "inbox"),
    ]
    assert caplog.records[0].getMessage().startswith("inbox: step failed, will retry: ")
    assert caplog.records[1].getMessage() == "inbox: recovered after 30 s, 60 failed steps"
    assert all(r.exc_info is None for r in caplog.records)
