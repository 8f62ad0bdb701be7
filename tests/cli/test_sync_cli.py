"""``deskhand sync status`` and ``deskhand sync retry``, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from deskhand import sync_cli
from deskhand.domain import Origin
from deskhand.outbox import REPORT_DEAD_LETTER, OutboxRelay, OutboxTask, enqueue
from deskhand.ports import RejectedError, UnknownOutcomeError
from deskhand.sync_cli import EXIT_DATABASE, EXIT_USAGE, sync_app
from deskhand.tickets.timeline import record
from storage.engine import writing
from storage.migrate import upgrade
from storage.models import OutboxRow, TimelineEvent
from tests import rows

runner = CliRunner()


@dataclass
class Seeded:
    engine: Engine
    config: Path
    tickets: dict[str, int]
    dead: dict[str, int]
    """The dead letter of each ticket, by key."""


def add_ticket(engine: Engine, number: int) -> int:
    with writing(engine) as session:
        ticket = rows.add_ticket(session, number, title=f"Printer {number} is jammed")
        record(session, ticket.id, actor="U0AGENT", kind="created", origin=Origin.SLACK, data={})
        for action, target in (("sync_triage_card", "slack"), ("create_jira_issue", "jira")):
            enqueue(
                session,
                ticket_id=ticket.id,
                target=target,
                action=action,
                payload={"ticket_id": ticket.id},
                key=f"ticket:{ticket.id}:{action}",
            )
        return ticket.id


def jira_that_fails(task: OutboxTask) -> dict[str, Any]:
    if task.attempts == 1:
        raise UnknownOutcomeError("timed out waiting for Jira")
    raise RejectedError("400", "Field 'summary' [bold]is required[/bold]")


@pytest.fixture
def seeded(migrated_engine: Engine, database_url: str, tmp_path: Path) -> Seeded:
    """Two tickets whose Jira creates are dead letters; their cards and reports went out."""
    config = tmp_path / "config.yaml"
    config.write_text(
        f"teams:\n  - {{name: IT, key_prefix: IT, triage_channel: it-triage}}\n"
        f"database:\n  url: '{database_url}'\n"
    )
    tickets = {f"IT-{n}": add_ticket(migrated_engine, n) for n in (1, 2)}
    relay = OutboxRelay(
        migrated_engine,
        {
            "sync_triage_card": lambda task: {"posted": "1.1"},
            "create_jira_issue": jira_that_fails,
            REPORT_DEAD_LETTER: lambda task: {"channel": "C0TRIAGE", "ts": f"2.{task.id}"},
        },
        owner="test",
        retry_delay=lambda attempts: timedelta(0),
    )
    while relay.run_once():
        pass
    dead = {key: dead_row(migrated_engine, ticket) for key, ticket in tickets.items()}
    return Seeded(migrated_engine, config, tickets, dead)


def dead_row(engine: Engine, ticket_id: int) -> int:
    with Session(engine) as session:
        found = session.scalar(
            select(OutboxRow.id).where(OutboxRow.ticket_id == ticket_id, OutboxRow.status == "dead")
        )
    assert found is not None
    return found


def state(engine: Engine) -> list[tuple[Any, ...]]:
    with Session(engine) as session:
        outbox = session.execute(
            select(
                OutboxRow.id, OutboxRow.status, OutboxRow.attempts, OutboxRow.last_error
            ).order_by(OutboxRow.id)
        ).all()
        timeline = session.execute(
            select(TimelineEvent.id, TimelineEvent.kind).order_by(TimelineEvent.id)
        ).all()
    return [tuple(row) for row in (*outbox, *timeline)]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as wide as they need to be, whatever the terminal running the tests."""
    monkeypatch.setattr(sync_cli, "out", Console(width=300, highlight=False, soft_wrap=True))


def sync(*args: str, config: Path) -> Result:
    return runner.invoke(sync_app, [*args, "--config", str(config)])


# status -----------------------------------------------------------------------------------------


def test_status_counts_rows_by_target_and_lists_every_dead_letter(seeded: Seeded) -> None:
    result = sync("status", config=seeded.config)
    assert result.exit_code == 0, result.output
    table = [cells(line) for line in result.output.splitlines() if line.startswith("│")]
    assert ["jira", "0", "0", "0", "2"] in table
    assert ["slack", "0", "0", "4", "0"] in table
    assert "Dead letters" in result.output
    for key, row_id in seeded.dead.items():
        [line] = [row for row in table if key in row]
        assert line[:6] == [str(row_id), key, "create_jira_issue", "jira", "dead", "2"]
        # Error text is shown as written, brackets and all, never read as markup.
        assert (
            line[6] == "[outcome unknown] rejected: 400: Field 'summary' [bold]is required[/bold]"
        )


def cells(line: str) -> list[str]:
    """The cells of one row of a rich table."""
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_status_of_a_ticket_shows_its_sync_log_and_outbox_rows(seeded: Seeded) -> None:
    result = sync("status", "it-1", config=seeded.config)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("IT-1 · IT · Printer 1 is jammed\n")
    assert "sync_failed" in result.output
    assert "created" not in result.output.replace("created (UTC)", "")
    for action in ("sync_triage_card", "create_jira_issue", REPORT_DEAD_LETTER):
        assert action in result.output
    assert "IT-2" not in result.output
    by_id = sync("status", str(seeded.tickets["IT-1"]), config=seeded.config)
    assert by_id.output == result.output


def test_status_of_an_unknown_ticket_is_an_error(seeded: Seeded) -> None:
    result = sync("status", "IT-99", config=seeded.config)
    assert result.exit_code == EXIT_USAGE
    assert "no ticket IT-99" in result.output


def test_status_at_80_columns_shows_every_value_whole(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As piped output or a narrow terminal gets it: a block per row, nothing cut to '…'."""
    monkeypatch.setattr(sync_cli, "out", Console(width=80, highlight=False, soft_wrap=True))
    overview = sync("status", config=seeded.config)
    ticket = sync("status", "IT-1", config=seeded.config)
    for result in (overview, ticket):
        assert result.exit_code == 0, result.output
        assert all(len(line) <= 80 for line in result.stdout.splitlines()), result.stdout
    assert "…" not in ticket.stdout
    log = ticket.stdout.splitlines()
    assert "  kind      sync_failed" in log
    assert "  action         create_jira_issue" in log
    assert "  status         dead" in log
    dead = seeded.dead["IT-1"]
    block = overview.stdout.split(f"  row            {dead}\n", 1)[1].split("\n\n")[0]
    assert [line.split()[0] for line in block.splitlines()][:5] == [
        "ticket",
        "action",
        "target",
        "status",
        "attempts",
    ]
    assert "  ticket         IT-1" in block


def test_a_ticket_without_sync_events_says_so(seeded: Seeded) -> None:
    fresh = add_ticket(seeded.engine, 3)
    result = sync("status", str(fresh), config=seeded.config)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == "No sync events yet."
    assert "Sync log" not in result.stdout
    assert "Outbox" in result.stdout


def test_the_dead_letters_table_leaves_out_columns_no_dead_letter_fills(seeded: Seeded) -> None:
    result = sync("status", config=seeded.config)
    dead = result.stdout.split("Dead letters", 1)[1]
    header = cells(
        next(line for line in dead.splitlines() if line.startswith("┃")).replace("┃", "│")
    )
    assert header == [
        "row",
        "ticket",
        "action",
        "target",
        "status",
        "attempts",
        "last error",
        "created (UTC)",
    ]


def test_an_empty_outbox_says_so(tmp_path: Path, sqlite_url: str) -> None:
    upgrade(sqlite_url)
    result = sync("status", config=config_on(tmp_path, sqlite_url))
    assert result.exit_code == 0, result.output
    assert result.stdout == "The outbox is empty: nothing has been sent yet.\n"


def test_status_without_dead_letters_says_so(seeded: Seeded) -> None:
    assert sync("retry", "--all", config=seeded.config).exit_code == 0
    result = sync("status", config=seeded.config)
    assert result.exit_code == 0
    assert "No dead letters." in result.output


# retry ------------------------------------------------------------------------------------------


def test_retry_replays_named_rows_and_records_it_as_the_cli(seeded: Seeded) -> None:
    row_id = seeded.dead["IT-1"]
    result = sync("retry", str(row_id), config=seeded.config)
    assert result.exit_code == 0, result.output
    assert "retried" in result.output
    assert "1 of 1 retried." in result.output
    with Session(seeded.engine) as session:
        row = session.get(OutboxRow, row_id)
        assert row is not None
        assert (row.status, row.attempts) == ("pending", 0)
        [event] = session.scalars(
            select(TimelineEvent).where(TimelineEvent.kind == "sync_retried")
        ).all()
        assert (event.ticket_id, event.actor, event.origin) == (
            seeded.tickets["IT-1"],
            "cli",
            "cli",
        )
        other = session.get(OutboxRow, seeded.dead["IT-2"])
        assert other is not None
        assert other.status == "dead"

    before = state(seeded.engine)
    again = sync("retry", str(row_id), config=seeded.config)
    assert again.exit_code == EXIT_USAGE
    assert again.stderr.splitlines() == [
        f"row {row_id} is not a dead letter (status pending); left as it is",
        "Nothing was retried.",
    ]
    assert again.stdout == ""
    assert state(seeded.engine) == before


def test_retry_says_which_named_rows_are_not_dead_letters_and_retries_the_rest(
    seeded: Seeded,
) -> None:
    done = card_row(seeded.engine, seeded.tickets["IT-1"])
    dead = seeded.dead["IT-2"]
    result = sync("retry", str(done), str(dead), config=seeded.config)
    assert result.exit_code == 0, result.output
    assert result.stderr == f"row {done} is not a dead letter (status done); left as it is\n"
    assert "1 of 2 retried." in result.stdout
    retried = [cells(line) for line in result.stdout.splitlines() if line.startswith("│")]
    assert retried == [[str(dead), "IT-2", "create_jira_issue", "jira"]]
    assert dead_status(seeded) == {"IT-1": "dead", "IT-2": "pending"}


def card_row(engine: Engine, ticket_id: int) -> int:
    with Session(engine) as session:
        found = session.scalar(
            select(OutboxRow.id).where(
                OutboxRow.ticket_id == ticket_id, OutboxRow.action == "sync_triage_card"
            )
        )
    assert found is not None
    return found


def test_retry_of_an_unknown_row_is_an_error_and_changes_nothing(seeded: Seeded) -> None:
    before = state(seeded.engine)
    result = sync("retry", str(seeded.dead["IT-1"]), "987654", config=seeded.config)
    assert result.exit_code == EXIT_USAGE
    assert "no outbox row 987654; nothing was changed" in result.output
    assert state(seeded.engine) == before


def test_retry_by_ticket_and_all(seeded: Seeded) -> None:
    by_ticket = sync("retry", "--ticket", "IT-2", config=seeded.config)
    assert by_ticket.exit_code == 0, by_ticket.output
    assert "1 of 1 retried." in by_ticket.output
    assert dead_status(seeded) == {"IT-1": "dead", "IT-2": "pending"}
    everything = sync("retry", "--all", config=seeded.config)
    assert everything.exit_code == 0
    assert "1 of 1 retried." in everything.output
    assert dead_status(seeded) == {"IT-1": "pending", "IT-2": "pending"}
    nothing = sync("retry", "--all", config=seeded.config)
    assert "No dead letters to retry." in nothing.output


def dead_status(seeded: Seeded) -> dict[str, str]:
    with Session(seeded.engine) as session:
        return {
            key: str(session.scalar(select(OutboxRow.status).where(OutboxRow.id == row_id)))
            for key, row_id in seeded.dead.items()
        }


ALL_AND_MORE = (
    "--all retries every dead letter: give it without ROW or --ticket; nothing was changed"
)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name the rows to retry, or use --ticket KEY or --all"),
        (("--ticket", "IT-77"), "no ticket IT-77; nothing was changed"),
        (("DEAD", "--all"), ALL_AND_MORE),
        (("--all", "--ticket", "IT-1"), ALL_AND_MORE),
    ],
)
def test_retry_without_a_usable_selection_is_an_error(
    seeded: Seeded, args: tuple[str, ...], message: str
) -> None:
    before = state(seeded.engine)
    named = [str(seeded.dead["IT-1"]) if arg == "DEAD" else arg for arg in args]
    result = sync("retry", *named, config=seeded.config)
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.strip() == message
    assert state(seeded.engine) == before


def test_retry_usage_reads_as_the_readme_has_it() -> None:
    result = runner.invoke(sync_app, ["retry", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    usage = next(line for line in result.output.splitlines() if "Usage:" in line)
    assert usage.split("retry", 1)[1].strip() == "[ROW ...] [--all] [--ticket KEY] [OPTIONS]"


# the database -------------------------------------------------------------------------------


def config_on(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"teams:\n  - {{name: IT, key_prefix: IT, triage_channel: it-triage}}\n"
        f"database:\n  url: '{url}'\n"
    )
    return config


@pytest.mark.parametrize("args", [("status",), ("status", "IT-1"), ("retry", "--all")])
def test_a_missing_sqlite_file_is_reported_and_never_created(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    missing = tmp_path / "missing.db"
    result = sync(*args, config=config_on(tmp_path, f"sqlite:///{missing}"))
    assert result.exit_code == EXIT_DATABASE
    assert result.stderr.splitlines() == [
        f"no database at {missing}",
        "Run deskhand migrate to create or upgrade it.",
    ]
    assert not missing.exists()


def test_an_unmigrated_database_says_to_migrate(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()  # a database without tables
    result = sync("status", config=config_on(tmp_path, f"sqlite:///{empty}"))
    assert result.exit_code == EXIT_DATABASE
    assert result.stderr.splitlines() == [
        "cannot read the database: no such table: outbox",
        "The database is not migrated. Run deskhand migrate to create or upgrade it.",
    ]


def test_a_bad_configuration_is_reported_before_any_database_work(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("teams: []\ncolour: red\n")
    result = sync("status", config=config)
    assert result.exit_code == EXIT_USAGE
    assert "config.yaml" in result.output
