"""Tables for the command line that stay readable at any width.

A rich table squeezed into a narrow terminal (or 80 columns, rich's width when output is
piped) cuts its cells to ``sync_…`` and ``2026-…``. :func:`print_table` prints the table as
it is when it fits, and otherwise one block per row, a name and a value a line, the values
folded rather than cut. Cells are shown as written, never read as rich markup (error text
may hold ``[…]``).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

UNLIMITED = 10_000
"""A width no table here reaches: measuring at it gives the width a table wants."""
INDENT = 2
GAP = 2
NARROWEST = 20
"""Values are folded to at least this width, however narrow the console."""


def print_table(
    out: Console,
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    drop_empty: bool = True,
) -> None:
    """``rows`` under ``columns``, as a table when it fits ``out``, else a block per row.
    With ``drop_empty``, a column that is empty in every row is left out."""
    keep = [
        index
        for index in range(len(columns))
        if not drop_empty or not rows or any(row[index] for row in rows)
    ]
    names = [columns[index] for index in keep]
    cells = [[row[index] for index in keep] for row in rows]
    table = Table(*names, title=title)
    for row in cells:
        table.add_row(*(Text(cell) for cell in row))
    wanted = out.measure(table, options=out.options.update_width(UNLIMITED)).maximum
    if wanted <= out.width:
        out.print(table)
        return
    out.print(Text(title, style="italic"))
    width = max((len(name) for name in names), default=0)
    for number, row in enumerate(cells):
        if number:
            out.print()
        fields = [(name, cell) for name, cell in zip(names, row, strict=True) if cell]
        _print_block(out, fields, width)


def _print_block(out: Console, fields: Sequence[tuple[str, str]], width: int) -> None:
    """One row as ``name  value`` lines, names ``width`` wide, a value too long for the line
    folded under itself (wrapped here, so no line carries trailing padding)."""
    room = max(out.width - INDENT - width - GAP, NARROWEST)
    for name, value in fields:
        lines = Text(value).wrap(out, room, overflow="fold") or [Text("")]
        for index, line in enumerate(lines):
            label = name if index == 0 else ""
            line.rstrip()
            prefix = " " * INDENT + label.ljust(width) + " " * GAP
            out.print(Text(prefix) + line, soft_wrap=True, highlight=False)
