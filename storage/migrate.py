"""Alembic, driven from code: no ``alembic.ini`` to keep in step with ``config.yaml``.

``python -m storage.migrate revision "add articles"`` writes a new migration by comparing the
models with a database migrated to head (a throwaway SQLite file by default).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from storage.engine import normalise_url

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a literal '%' in a password must be doubled.
    rendered = normalise_url(url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creating the SQLite file if needed)."""
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def new_revision(message: str, url: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = url or f"sqlite:///{scratch}/revision.db"
        upgrade(url)
        command.revision(alembic_config(url), message=message, autogenerate=True)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "revision":
        new_revision(argv[1])
        return 0
    print('usage: python -m storage.migrate revision "what changed"', file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
