"""``deskhand sync``: read the sync log and replay dead letters from the command line.

``sync status [TICKET]`` shows one ticket's sync (its sync timeline events and outbox rows),
or, without TICKET, the outbox by target and status and every dead letter. ``sync retry``
gives dead letters another round, as the Retry button in Slack does; a running Deskhand picks
them up at its next poll. Neither creates a database: a SQLite file that is not there is
reported, not made.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
import typer.core
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from deskhand.cli_database import UnusableDatabaseError, existing_engine, explain
from deskhand.cli_tables import print_table
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

sync_app = typer.Typer(
    help="The sync log and dead letters (outbox rows that exhausted their attempts).",
    no_args_is_help=True,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_USAGE = 2
"""Exit status for an unusable configuration, an unknown ticket or row, no selection or a
contradictory one, or rows named for a retry none of which is a dead letter."""
EXIT_DATABASE = 1
"""Exit status for a database that is missing, unreachable or not migrated."""
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
    try:
        engine = existing_engine(config.database.url)
    except UnusableDatabaseError as exc:
        for line in exc.lines:
            err.print(line, markup=False)
        raise typer.Exit(EXIT_DATABASE) from None
    try:
        yield engine
    except (OperationalError, ProgrammingError) as exc:
        cause, hint = explain(exc)
        err.print(f"cannot read the database: {cause}", markup=False)
        err.print(hint, markup=False)
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


class _RetryCommand(typer.core.TyperCommand):
    """``sync retry``, whose usage line reads as the README writes it."""

    def collect_usage_pieces(self, ctx: object) -> list[str]:
        return ["[ROW ...]", "[--all]", "[--ticket KEY]", "[OPTIONS]"]


@sync_app.command("retry", cls=_RetryCommand)
def retry_command(
    row_ids: Annotated[
        list[int] | None,
        typer.Argument(
            metavar="ROW", help="Ids of dead letters (outbox rows; see sync status), any number."
        ),
    ] = None,
    all_rows: Annotated[
        bool, typer.Option("--all", help="Every dead letter (no ROW or --ticket with it).")
    ] = False,
    ticket: Annotated[
        str | None,
        typer.Option("--ticket", metavar="KEY", help="Every dead letter of this ticket."),
    ] = None,
    config: ConfigPath = Path("config.yaml"),
) -> None:
    """Replay dead letters: pending again, attempts from 0, recorded on the timeline. Exit
    status 2: nothing chosen, an unknown row or ticket, --all with ROW or --ticket, or no row
    named is a dead letter (nothing is changed); 1: the database cannot be used."""
    if not row_ids and not all_rows and ticket is None:
        err.print("name the rows to retry, or use --ticket KEY or --all", markup=False)
        raise typer.Exit(EXIT_USAGE)
    if all_rows and (row_ids or ticket is not None):
        err.print(
            "--all retries every dead letter: give it without ROW or --ticket; nothing was changed",
            markup=False,
        )
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
    for outcome in outcomes:
        if not outcome.retried:
            err.print(
                f"row {outcome.row_id} is not a dead letter (status {outcome.status}); "
                "left as it is",
                markup=False,
            )
    retried = [outcome for outcome in outcomes if outcome.retried]
    if not retried:
        err.print("Nothing was retried.", markup=False)
        raise typer.Exit(EXIT_USAGE)
    print_table(
        out,
        "Retried",
        ["row", "ticket", "action", "target"],
        [[str(o.row_id), o.ticket_key or "—", o.action, o.target] for o in retried],
    )
    out.print(f"{len(retried)} of {len(outcomes)} retried.", markup=False)


def _print_overview(engine: Engine) -> None:
    summary = overview(engine)
    if not summary.counts:
        out.print("The outbox is empty: nothing has been sent yet.", markup=False)
        return
    statuses = ["pending", "claimed", "done", "dead"]
    statuses += sorted({status for _, status in summary.counts} - set(statuses))
    print_table(
        out,
        "Outbox rows by status",
        ["target", *statuses],
        [
            [target, *(str(summary.counts.get((target, status), 0)) for status in statuses)]
            for target in sorted({target for target, _ in summary.counts})
        ],
    )
    if not summary.dead:
        out.print("No dead letters.", markup=False)
        return
    _print_rows("Dead letters", summary.dead, with_ticket=True, cut=True)


def _print_log(engine: Engine, ticket_id: int) -> None:
    log = sync_log(engine, ticket_id)
    jira = f" · Jira {log.jira_key}" if log.jira_key else ""
    out.print(f"{log.key} · {log.team} · {log.title}{jira}", markup=False)
    if log.events:
        print_table(
            out,
            "Sync log",
            ["at (UTC)", "kind", "actor", "origin", "details"],
            [
                [
                    _time(event.at),
                    event.kind,
                    event.actor,
                    event.origin,
                    json.dumps(event.data, sort_keys=True, default=str),
                ]
                for event in log.events
            ],
        )
    else:
        out.print("No sync events yet.", markup=False)
    if log.rows:
        _print_rows("Outbox", log.rows, with_ticket=False, cut=False)
    else:
        out.print("No outbox rows.", markup=False)


def _print_rows(title: str, rows: list[OutboxEntry], *, with_ticket: bool, cut: bool) -> None:
    """Outbox rows; a column no row has a value in (a dead letter's next attempt, say) is
    left out. With ``cut``, errors are cut short (the overview lists every dead letter; a
    ticket's own log shows its errors whole)."""
    columns = ["row", *(["ticket"] if with_ticket else []), "action", "target", "status"]
    columns += ["attempts", "last error", "created (UTC)", "next attempt", "done"]
    cells: list[list[str]] = []
    for row in rows:
        line = [str(row.id)]
        if with_ticket:
            line.append(row.ticket_key or "—")
        line += [row.action, row.target, row.status, str(row.attempts)]
        error = row.last_error or ""
        line += [_cut(error) if cut else error, _time(row.created_at)]
        line += [_time(row.next_attempt_at) if row.status == "pending" else "", _time(row.done_at)]
        cells.append(line)
    print_table(out, title, columns, cells)


def _time(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") if at is not None else ""


def _cut(text: str) -> str:
    return text if len(text) <= ERROR_WIDTH else text[: ERROR_WIDTH - 1] + "…"
