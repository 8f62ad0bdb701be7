"""The note an outbox row keeps of its last error reads back what was written."""

from __future__ import annotations

import pytest

from deskhand.outbox import RowNote


@pytest.mark.parametrize(
    "note",
    [
        RowNote("HTTP 503"),
        RowNote("timed out: [x] 1 s", outcome_unknown=True),
        RowNote("rate limited for 7 s", rate_limited=3, waited=21),
        RowNote("a\nb", outcome_unknown=True, rate_limited=1, waited=1),
    ],
)
def test_the_row_note_reads_back_what_it_wrote(note: RowNote) -> None:
    assert RowNote.parse(note.text()) == note
    assert RowNote.parse(note.text()).replayed() == RowNote(
        note.error, outcome_unknown=note.outcome_unknown
    )


def test_any_old_error_text_is_a_plain_note() -> None:
    assert RowNote.parse("ConnectionError('[Errno 111]')") == RowNote(
        "ConnectionError('[Errno 111]')"
    )
    assert RowNote.parse(None) == RowNote("")
