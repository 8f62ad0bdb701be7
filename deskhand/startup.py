"""What stops a command before it starts, said in one line: what failed, why, what to do.

Exit statuses (the same for every command):

- 1 (:data:`EXIT_UNAVAILABLE`): something Deskhand needs cannot be reached now (the
  database, Slack); trying again later may work.
- 2 (:data:`EXIT_CONFIG`): the configuration, an option or a token is unusable (as for a
  usage error); it has to be changed first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from deskhand.config.schema import database_url_problem

EXIT_UNAVAILABLE = 1
"""Exit status when the database or Slack cannot be reached."""
EXIT_CONFIG = 2
"""Exit status for an unusable configuration, option or token (as for a usage error)."""


class StartupError(Exception):
    """Deskhand cannot start; the message is one line and ``exit_code`` says which kind."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def one_line(error: BaseException | str) -> str:
    """An error's text on one line (libpq's messages, for one, span several)."""
    return " ".join(str(error).split())


def shown_url(url: str) -> str:
    """A database URL fit to print: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def migrate_database(url: str, *, source: str) -> None:
    """Create or upgrade the database at ``url``, which comes from ``source`` (said in the
    message, e.g. ``--database-url`` or ``database.url in config.yaml``)."""
    from storage.migrate import upgrade  # Alembic: only for the commands that migrate

    problem = database_url_problem(url)
    if problem is not None:
        raise StartupError(f"{source}: {problem}", EXIT_CONFIG)
    with database_errors(url, source=source):
        upgrade(url)


@contextmanager
def database_errors(url: str, *, source: str) -> Iterator[None]:
    """Turns SQLAlchemy's errors about the database at ``url`` into a :class:`StartupError`."""
    try:
        yield
    except ArgumentError as exc:  # e.g. a driver SQLAlchemy does not have
        raise StartupError(f"{source}: {one_line(exc)}", EXIT_CONFIG) from None
    except OperationalError as exc:
        hint = (
            "that its folder exists and may be written to"
            if url.startswith("sqlite")
            else "that the database server is running"
        )
        raise StartupError(
            f"cannot open the database {shown_url(url)}: {one_line(exc.orig or exc)} "
            f"(check {source}, and {hint})",
            EXIT_UNAVAILABLE,
        ) from None
    except DBAPIError as exc:
        raise StartupError(
            f"cannot migrate the database {shown_url(url)}: {one_line(exc.orig or exc)} "
            f"(does the user of {source} own its schema?)",
            EXIT_UNAVAILABLE,
        ) from None
