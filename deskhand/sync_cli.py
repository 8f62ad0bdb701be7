"""``deskhand sync``: read the sync log and replay dead letters from the command line.

``sync status [TICKET]`` shows one ticket's sync (its sync timeline events and outbox rows),
or, without TICKET, the outbox by target and status and every dead letter. ``sync retry``
gives dead letters another round, as the Retry button in Slack does; a running Deskhand picks
them up at its next poll.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from deskhand.config import ConfigError, load_config
from deskhand.dead_letters import (
    OutboxEntry,
    UnknownRowsError,
    dead_letter_ids,
    find_ticket_id,
    overview,
    retry,
    sync_log,
)
from deskhand.domain import Origin
from storage.engine import make_engine

sync_app = typer.Typer(
    help="The sync log and dead letters (outbox rows that exhausted their attempts).",
    no_args_is_help=True,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_USAGE = 2
"""Exit status for an unusable configuration, an unknown ticket or row, or no selection."""
EXIT_DATABASE = 1
ERROR_WIDTH = 120

ConfigPath = Annotated[
    Path, typer.Option("--config", "-c", help="Path to config.yaml.", envvar="DESKHAND_CONFIG")
]


@contextmanager
def _database(path: Path) -> Iterator[Engine]:
    """The engine on ``database.url`` of the configuration at ``path``."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    engine = make_engine(config.database.url)
    try:
        yield engine
    except (OperationalError, ProgrammingError) as exc:
        err.print(f"cannot read the database: {exc.orig or exc}", markup=False)
        err.print("Is it reachable, and migrated (deskhand migrate)?", markup=False)
        raise typer.Exit(EXIT_DATABASE) from None
    finally:
        engine.dispose()


@sync_app.command()
def status(
    ticket: Annotated[
        str | None, typer.Argument(metavar="TICKET", help="A ticket's key (IT-4) or numeric id.")
    ] = None,
    config: ConfigPath = Path("config.yaml"),
) -> None:
    """A ticket's sync log; without TICKET, the outbox by status and every dead letter."""
    with _database(config) as engine:
        if ticket is None:
            _print_overview(engine)
            return
        ticket_id = find_ticket_id(engine, ticket)
        if ticket_id is None:
            err.print(f"no ticket {ticket}", markup=False)
            raise typer.Exit(EXIT_USAGE)
        _print_log(engine, ticket_id)


@sync_app.command("retry")
def retry_command(
    row_ids: Annotated[
        list[int] | None,
        typer.Argument(metavar="ROW_ID...", help="Ids of dead outbox rows (see sync status)."),
    ] = None,
    all_rows: Annotated[bool, typer.Option("--all", help="Every dead letter.")] = False,
    ticket: Annotated[
        str | None, typer.Option("--ticket", help="Every dead letter of this ticket.")
    ] = None,
    config: ConfigPath = Path("config.yaml"),
) -> None:
    """Replay dead letters: pending again, attempts from 0, recorded on the timeline."""
    if not row_ids and not all_rows and ticket is None:
        err.print("name the rows to retry, or use --ticket KEY or --all", markup=False)
        raise typer.Exit(EXIT_USAGE)
    with _database(config) as engine:
        chosen = set(row_ids or [])
        if ticket is not None:
            ticket_id = find_ticket_id(engine, ticket)
            if ticket_id is None:
                err.print(f"no ticket {ticket}; nothing was changed", markup=False)
                raise typer.Exit(EXIT_USAGE)
            chosen.update(dead_letter_ids(engine, ticket_id=ticket_id))
        if all_rows:
            chosen.update(dead_letter_ids(engine))
        try:
            outcomes = retry(engine, sorted(chosen), actor="cli", origin=Origin.CLI)
        except UnknownRowsError as exc:
            err.print(f"{exc}; nothing was changed", markup=False)
            raise typer.Exit(EXIT_USAGE) from None
    if not outcomes:
        out.print("No dead letters to retry.", markup=False)
        return
    table = Table("row", "ticket", "action", "target", "result", title="sync retry")
    for outcome in outcomes:
        result = "retried" if outcome.retried else f"left as is: {outcome.status}, not dead"
        cells = [str(outcome.row_id), outcome.ticket_key or "—", outcome.action, outcome.target]
        table.add_row(*_plain(*cells, result))
    out.print(table)
    retried = sum(outcome.retried for outcome in outcomes)
    out.print(f"{retried} of {len(outcomes)} retried.", markup=False)


def _print_overview(engine: Engine) -> None:
    summary = overview(engine)
    statuses = ["pending", "claimed", "done", "dead"]
    statuses += sorted({status for _, status in summary.counts} - set(statuses))
    counts = Table("target", *statuses, title="Outbox rows by status")
    for target in sorted({target for target, _ in summary.counts}):
        cells = [str(summary.counts.get((target, status), 0)) for status in statuses]
        counts.add_row(*_plain(target, *cells))
    out.print(counts)
    if not summary.dead:
        out.print("No dead letters.", markup=False)
        return
    out.print(_rows_table("Dead letters", summary.dead, with_ticket=True))


def _print_log(engine: Engine, ticket_id: int) -> None:
    log = sync_log(engine, ticket_id)
    jira = f" · Jira {log.jira_key}" if log.jira_key else ""
    out.print(f"{log.key} · {log.team} · {log.title}{jira}", markup=False)
    events = Table("at (UTC)", "kind", "actor", "origin", "details", title="Sync log")
    for event in log.events:
        details = json.dumps(event.data, sort_keys=True, default=str)
        cells = [_time(event.at), event.kind, event.actor, event.origin, _cut(details)]
        events.add_row(*_plain(*cells))
    out.print(events)
    out.print(_rows_table("Outbox", log.rows, with_ticket=False))


def _rows_table(title: str, rows: list[OutboxEntry], *, with_ticket: bool) -> Table:
    columns = ["row", *(["ticket"] if with_ticket else []), "action", "target", "status"]
    columns += ["attempts", "last error", "created (UTC)", "next attempt", "done"]
    table = Table(*columns, title=title)
    for row in rows:
        cells = [str(row.id)]
        if with_ticket:
            cells.append(row.ticket_key or "—")
        cells += [row.action, row.target, row.status, str(row.attempts)]
        cells += [_cut(row.last_error or ""), _time(row.created_at)]
        cells += [_time(row.next_attempt_at) if row.status == "pending" else "", _time(row.done_at)]
        table.add_row(*_plain(*cells))
    return table


def _plain(*cells: str) -> list[Text]:
    """Cells shown as written: error text may hold ``[…]``, which rich would read as markup."""
    return [Text(cell) for cell in cells]


def _time(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") if at is not None else ""


def _cut(text: str) -> str:
    return text if len(text) <= ERROR_WIDTH else text[: ERROR_WIDTH - 1] + "…"
