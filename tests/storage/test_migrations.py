"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from storage.migrate import current_revision, head_revision, upgrade
from storage.models import Base


def test_migrations_match_the_models(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_migrate_creates_every_table_at_head(migrated_engine: Engine) -> None:
    tables = set(inspect(migrated_engine).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert current_revision(migrated_engine) == head_revision()


def test_migrate_twice_is_a_no_op(database_url: str, migrated_engine: Engine) -> None:
    upgrade(database_url)
    assert current_revision(migrated_engine) == head_revision()


def test_sqlite_pragmas(sqlite_url: str) -> None:
    from storage.engine import make_engine

    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }
    engine.dispose()
    # synchronous=NORMAL is 1
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout": 5000,
        "foreign_keys": 1,
    }


def test_postgres_uses_timestamptz_and_jsonb(postgres_url: str) -> None:
    from storage.engine import make_engine

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    with engine.connect() as connection:
        types: dict[str, str] = dict(
            connection.execute(
                text(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = 'tickets' AND column_name IN ('created_at', 'fields')"
                )
            ).all()
        )
    engine.dispose()
    assert types == {"created_at": "timestamp with time zone", "fields": "jsonb"}
