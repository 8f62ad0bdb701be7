"""A failed outbox or inbox row in the log: the other side's failure is one short line per
attempt (no traceback, no body), a bug its full traceback at ERROR."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import Engine

from deskhand.inbox import Delivery, Inbox, InboxWorker
from deskhand.ports import UnavailableError, UnknownOutcomeError
from tests.core.outbox_harness import Clock, FakeService, add_row, new_ticket, relay_for, rows

# The fixture, imported under its own name so pytest finds it here.
from tests.core.outbox_harness import clock as clock

PAGE = "HTTP 503 <!DOCTYPE html>\n<html><body>Set-Cookie: JSESSIONID=s3cr3t</body></html>"
"""An UnavailableError's message with an HTML error page as its detail."""


def records(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger]


def test_an_outbox_row_the_other_side_fails_is_one_line_per_attempt(
    migrated_engine: Engine, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="deskhand.outbox")
    ticket = new_ticket(migrated_engine, 1)
    add_row(migrated_engine, ticket, "slack", "slack_post", 0)
    script = iter([UnavailableError(PAGE), UnknownOutcomeError("Slack did not answer in time")])
    slack = FakeService(clock, lambda task, now: next(script, None))
    relay = relay_for(migrated_engine, clock, {"slack_post": slack})
    relay.run_once()
    clock.advance(60)
    relay.run_once()
    failed = [
        (r.levelno, r.getMessage(), r.exc_info)
        for r in records(caplog, "deskhand.outbox")
        if "outbox row" in r.getMessage()
    ]
    [row] = rows(migrated_engine)
    first = row.id
    assert failed == [
        (logging.WARNING, f"outbox row {first} (slack_post) failed: HTTP 503", None),
        (
            logging.WARNING,
            f"outbox row {first} (slack_post) outcome unknown: Slack did not answer in time",
            None,
        ),
    ]
    assert "s3cr3t" not in caplog.text


def test_an_outbox_row_that_hits_a_bug_logs_its_traceback(
    migrated_engine: Engine, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="deskhand.outbox")
    add_row(migrated_engine, new_ticket(migrated_engine, 1), "slack", "slack_post", 0)
    slack = FakeService(clock, lambda task, now: KeyError("channel"))
    relay_for(migrated_engine, clock, {"slack_post": slack}).run_once()
    [failed] = [r for r in records(caplog, "deskhand.outbox") if "failed" in r.getMessage()]
    assert failed.levelno == logging.ERROR
    assert failed.exc_info is not None
    assert failed.exc_info[0] is KeyError
    assert "Traceback (most recent call last)" in caplog.text
    assert rows(migrated_engine)[0].status == "pending"  # retried later all the same


def _worker_with(engine: Engine, error: Exception) -> InboxWorker:
    def handler(payload: dict[str, Any]) -> None:
        raise error

    Inbox(engine).store(Delivery("jira", "hook-1", "jira_issue_seen", {"key": "IT-1"}))
    return InboxWorker(engine, {"jira_issue_seen": handler}, owner="test")


def test_an_inbox_row_the_other_side_fails_is_one_line(
    migrated_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="deskhand.inbox")
    worker = _worker_with(migrated_engine, UnavailableError(PAGE))
    assert worker.run_once() == 1
    [failed] = records(caplog, "deskhand.inbox")
    assert (failed.levelno, failed.exc_info) == (logging.WARNING, None)
    assert failed.getMessage().endswith("(jira_issue_seen) failed: HTTP 503")
    assert "s3cr3t" not in caplog.text


def test_an_inbox_row_that_hits_a_bug_logs_its_traceback(
    migrated_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="deskhand.inbox")
    worker = _worker_with(migrated_engine, KeyError("fields"))
    worker.run_once()
    [failed] = records(caplog, "deskhand.inbox")
    assert failed.levelno == logging.ERROR
    assert failed.exc_info is not None
    assert failed.exc_info[0] is KeyError
