"""The database enforces the domain's "exactly once" promises and keeps times in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from storage.models import Comment, InboxRow, Team, Ticket


def _team(session: Session) -> None:
    session.add(Team(name="IT", key_prefix="IT", triage_channel="C0TRIAGE"))
    session.flush()


def _ticket(number: int, **overrides: object) -> Ticket:
    values: dict[str, object] = {
        "key": f"IT-{number}",
        "team": "IT",
        "requester": "U0ALICE",
        "title": "VPN is down",
        "origin_kind": "reaction",
        "origin_channel": "C0HELP",
        "origin_ts": f"1700000000.{number:06d}",
    }
    values.update(overrides)
    return Ticket(**values)


def test_one_ticket_per_slack_message(migrated_engine: Engine) -> None:
    with Session(migrated_engine) as session:
        _team(session)
        session.add(_ticket(1, origin_ts="1700000000.000100"))
        session.commit()
        session.add(_ticket(2, origin_ts="1700000000.000100"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_tickets_without_a_slack_origin_do_not_collide(migrated_engine: Engine) -> None:
    with Session(migrated_engine) as session:
        _team(session)
        session.add_all(
            [_ticket(n, origin_kind="command", origin_channel=None, origin_ts=None) for n in (1, 2)]
        )
        session.commit()
        assert session.scalar(select(Ticket.key).where(Ticket.key == "IT-2")) == "IT-2"


def test_one_comment_per_jira_comment(migrated_engine: Engine) -> None:
    with Session(migrated_engine) as session:
        _team(session)
        ticket = _ticket(1)
        session.add(ticket)
        session.flush()
        for _ in range(2):
            session.add(
                Comment(
                    ticket_id=ticket.id,
                    author="jira:1",
                    body="hi",
                    origin="jira",
                    jira_comment_id="10001",
                )
            )
        with pytest.raises(IntegrityError):
            session.commit()


def test_one_inbox_row_per_delivery(migrated_engine: Engine) -> None:
    with Session(migrated_engine) as session:
        for _ in range(2):
            session.add(
                InboxRow(source="slack", dedupe_key="Ev01", kind="reaction_added", payload={})
            )
        with pytest.raises(IntegrityError):
            session.commit()


def test_ticket_needs_a_known_team(migrated_engine: Engine) -> None:
    with Session(migrated_engine) as session:
        session.add(_ticket(1, team="Nobody"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_times_come_back_aware_utc(migrated_engine: Engine) -> None:
    berlin = timezone(timedelta(hours=1))
    created = datetime(2026, 11, 23, 9, 30, tzinfo=berlin)
    with Session(migrated_engine) as session:
        _team(session)
        session.add(_ticket(1, created_at=created, fields={"system": "VPN"}))
        session.commit()
    with Session(migrated_engine) as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.created_at == created
        assert ticket.created_at.tzinfo is UTC
        assert ticket.created_at.hour == 8
        assert ticket.fields == {"system": "VPN"}


def test_naive_datetimes_are_refused(migrated_engine: Engine) -> None:
    with Session(migrated_engine) as session:
        _team(session)
        session.add(_ticket(1, created_at=datetime(2026, 11, 23, 9, 30)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()
