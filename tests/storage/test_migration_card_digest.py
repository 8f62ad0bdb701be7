"""Migration 0004 (a card's content digest) on a database that already has cards, on SQLite
(where the links table is copied to add the column) and on PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.orm import Session

from storage.engine import make_engine, writing
from storage.migrate import alembic_config, upgrade
from storage.models import Link
from tests.rows import add_ticket


def test_cards_posted_before_0004_are_kept_with_no_content_known(database_url: str) -> None:
    upgrade(database_url, "0003")
    engine = make_engine(database_url)
    with writing(engine) as session:
        ticket = add_ticket(session)  # teams and tickets are the same at 0003 and at head
        session.execute(
            insert(Link).values(  # only the columns links had at 0003
                ticket_id=ticket.id,
                system="slack",
                kind="ticket_card",
                external_id="C0HELP:1700000000.000100",
            )
        )
    engine.dispose()

    upgrade(database_url)
    with Session(engine) as session:
        cards = session.execute(select(Link.kind, Link.external_id, Link.content_digest)).all()
    engine.dispose()
    # Not known: the first sync after the upgrade sends its card and remembers it.
    assert [tuple(card) for card in cards] == [("ticket_card", "C0HELP:1700000000.000100", None)]

    command.downgrade(alembic_config(database_url), "0003")
    columns = {column["name"] for column in inspect(engine).get_columns("links")}
    with engine.connect() as connection:
        kept = connection.execute(text("SELECT external_id FROM links")).scalars().all()
    engine.dispose()
    assert "content_digest" not in columns
    assert kept == ["C0HELP:1700000000.000100"]
