"""Command-line tables: whole when they fit, a block per row when they do not, never cut."""

from __future__ import annotations

import io

from rich.console import Console

from deskhand.cli_tables import print_table

COLUMNS = ["row", "action", "last error", "done"]
ROWS = [
    ["12", "create_jira_issue", "rejected: 400: Field 'summary' [bold]is required[/bold]", ""],
    ["13", "sync_triage_card", "", ""],
]


def printed(width: int, rows: list[list[str]] = ROWS, *, drop_empty: bool = True) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, highlight=False, soft_wrap=True)
    print_table(console, "Outbox", COLUMNS, rows, drop_empty=drop_empty)
    return buffer.getvalue()


def test_a_table_that_fits_is_printed_as_a_table() -> None:
    output = printed(200)
    lines = output.splitlines()
    assert lines[0].strip() == "Outbox"
    error = "rejected: 400: Field 'summary' [bold]is required[/bold]"
    assert f"│ 12  │ create_jira_issue │ {error} │" in output
    assert max(len(line) for line in lines) <= 200


def test_a_table_too_wide_becomes_a_block_per_row_with_nothing_cut() -> None:
    output = printed(44)
    assert "…" not in output
    lines = output.splitlines()
    assert all(len(line) <= 44 for line in lines), output
    assert all(line == line.rstrip() for line in lines), "no trailing padding"
    assert lines[:5] == [
        "Outbox",
        "  row         12",
        "  action      create_jira_issue",
        "  last error  rejected: 400: Field 'summary'",
        "              [bold]is required[/bold]",
    ]
    # an empty cell is left out of its block; blocks are parted by a blank line
    assert lines[5:] == ["", "  row         13", "  action      sync_triage_card"]


def test_a_value_longer_than_the_line_is_folded_not_cut() -> None:
    token = "x" * 90
    output = printed(40, [["1", token, "", ""]])
    lines = output.splitlines()
    assert lines[1] == "  row     1"
    assert len(lines) > 3
    assert "".join(line.split()[-1] for line in lines[2:]) == token


def test_columns_empty_in_every_row_are_left_out() -> None:
    header = next(line for line in printed(200).splitlines() if "row" in line)
    assert "done" not in header
    kept = next(line for line in printed(200, drop_empty=False).splitlines() if "row" in line)
    assert "done" in kept
    assert "done" in next(
        line for line in printed(200, [["1", "a", "", "2026-01-01"]]).splitlines() if "row" in line
    )
