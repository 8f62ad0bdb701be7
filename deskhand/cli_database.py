"""The database as the command-line tools see it: one that must exist already, and what went
wrong with it in a line or two.

Connecting to a SQLite file that is not there creates an empty one, so a command that only
reads (``sync status``, ``recipes replay``) would leave a stray file behind and then fail on
a missing table. :func:`existing_engine` looks before anything connects; ``deskhand migrate``
is the one command that creates a database.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from storage.engine import make_engine

MIGRATE_HINT = "Run deskhand migrate to create or upgrade it."
REACH_HINT = "Is it reachable, and migrated (deskhand migrate)?"


class UnusableDatabaseError(Exception):
    """The database cannot be used; ``lines`` say why, for the user."""

    def __init__(self, *lines: str) -> None:
        super().__init__(" ".join(lines))
        self.lines = lines


def existing_engine(url: str) -> Engine:
    """An engine on ``url``; UnusableDatabaseError for a URL that names no database Deskhand
    knows, or for a SQLite file that does not exist (nothing is created)."""
    try:
        engine = make_engine(url)
    except ArgumentError as exc:  # NoSuchModuleError is one too
        raise UnusableDatabaseError(
            f"cannot use the database URL: {exc}",
            "Expected sqlite:///path.db or postgresql://user@host/db.",
        ) from None
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:" and not Path(database).is_file():
            engine.dispose()
            raise UnusableDatabaseError(f"no database at {database}", MIGRATE_HINT)
    return engine


def explain(exc: SQLAlchemyError) -> list[str]:
    """What a failed database call means, in a line or two: the driver's own first line
    (``no such table: outbox``, ``connection refused``) and what to do about it."""
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc).strip()
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    cause = first or exc.__class__.__name__
    unmigrated = cause.startswith(("no such table", "no such column")) or (
        cause.startswith(("relation ", "column ")) and cause.endswith("does not exist")
    )
    if unmigrated:
        return [cause, f"The database is not migrated. {MIGRATE_HINT}"]
    return [cause, REACH_HINT]
