"""Dead letters: outbox rows that exhausted their attempts (see :mod:`deskhand.outbox`).

The relay reports each in the ticket's triage channel; from there an agent's Retry button,
or ``deskhand sync retry`` on the command line, gives it another round: the row is pending
again with its attempts at 0, the timeline records ``sync_retried`` (who, from where), and the
report is updated to say so. Only a row that is dead is replayed: a second press changes
nothing. How the round ends reaches the same report too (see
:mod:`deskhand.dead_letter_reports`). This module also reads the sync log that
``deskhand sync status`` shows.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from deskhand.config import Config
from deskhand.dead_letter_reports import Retried, latest_report
from deskhand.domain import Origin
from deskhand.events import Event
from deskhand.notices import Notices
from deskhand.outbox import REPORT_RETRIED, RowNote, enqueue, report_key_prefix
from deskhand.tickets.timeline import record
from storage.engine import writing
from storage.models import OutboxRow, Ticket, TimelineEvent
from storage.types import utcnow

log = logging.getLogger(__name__)

SYNC_RETRIED = "sync_retried"
"""Timeline kind recorded when a dead letter is given another round."""
SYNC_KIND_PREFIXES = ("sync", "jira_")
"""Timeline kinds that belong to the sync log: sync_failed, sync_retried, jira_linked, …"""


@dataclass(frozen=True)
class DeadLetterRetryPressed(Event):
    """Someone pressed Retry on the report of a dead letter."""

    KIND: ClassVar[str] = "dead_letter_retry"
    user: str
    row_id: int
    """The dead outbox row the report is about."""
    channel: str | None
    """Where the report is, for an ephemeral answer."""
    ref: str = ""
    """The delivery's own id (Slack's trigger_id)."""


class AgentCheck(Protocol):
    """Who may retry: :class:`deskhand.agents.AgentDirectory` answers it."""

    def is_agent(self, user: str, team: str | None = None) -> bool: ...


class UnknownRowsError(LookupError):
    """Some of the outbox rows named do not exist; nothing was changed."""

    def __init__(self, row_ids: Sequence[int]) -> None:
        self.row_ids = sorted(row_ids)
        names = ", ".join(str(row_id) for row_id in self.row_ids)
        super().__init__(f"no outbox row {names}")


@dataclass(frozen=True)
class RetryOutcome:
    row_id: int
    ticket_id: int | None
    ticket_key: str | None
    action: str
    target: str
    status: str
    """The row's status as found: only a 'dead' one was retried."""

    @property
    def retried(self) -> bool:
        return self.status == "dead"


# replaying ------------------------------------------------------------------------------------


def retry(
    engine: Engine, row_ids: Sequence[int], *, actor: str, origin: Origin
) -> list[RetryOutcome]:
    """Give each dead letter among ``row_ids`` another round, in one transaction; rows that
    are not dead are left as they are. Raises :class:`UnknownRowsError` (and changes
    nothing) if a row does not exist."""
    wanted = sorted(set(row_ids))
    with writing(engine) as session:
        rows = session.scalars(
            select(OutboxRow)
            .where(OutboxRow.id.in_(wanted))
            .order_by(OutboxRow.id)
            # Held until commit on PostgreSQL: two presses at once replay a row once.
            .with_for_update()
        ).all()
        missing = set(wanted) - {row.id for row in rows}
        if missing:
            raise UnknownRowsError(sorted(missing))
        return [_replay(session, row, actor=actor, origin=origin) for row in rows]


def dead_letter_ids(engine: Engine, *, ticket_id: int | None = None) -> list[int]:
    """Every dead letter, or the ticket's, oldest first."""
    query = select(OutboxRow.id).where(OutboxRow.status == "dead").order_by(OutboxRow.id)
    if ticket_id is not None:
        query = query.where(OutboxRow.ticket_id == ticket_id)
    with Session(engine) as session:
        return list(session.scalars(query))


def _replay(session: Session, row: OutboxRow, *, actor: str, origin: Origin) -> RetryOutcome:
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
    key = ticket.key if ticket is not None else None
    outcome = RetryOutcome(row.id, row.ticket_id, key, row.action, row.target, row.status)
    if not outcome.retried:
        return outcome
    attempts, note = row.attempts, RowNote.parse(row.last_error)
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = utcnow()
    row.lease_owner = row.lease_until = None
    row.last_error = note.replayed().text()
    if row.ticket_id is None:
        return outcome
    event = record(
        session,
        row.ticket_id,
        actor=actor,
        kind=SYNC_RETRIED,
        origin=origin,
        data={
            "row_id": row.id,
            "action": row.action,
            "target": row.target,
            "attempts": attempts,
            "error": note.error,
        },
    )
    session.flush()
    report = latest_report(session, row.ticket_id, row.id)
    if report is not None:
        enqueue(
            session,
            ticket_id=row.ticket_id,
            target="slack",
            action=REPORT_RETRIED,
            payload={
                "ticket_id": row.ticket_id,
                "row_id": row.id,
                "report_row_id": report,
                "actor": actor,
                "origin": origin.value,
                "at": event.at.isoformat(),
            },
            key=f"{report_key_prefix(row.id)}retried:{event.id}",
        )
    return outcome


def last_retry(engine: Engine, ticket_id: int, row_id: int) -> Retried | None:
    """The newest retry of the dead letter ``row_id``, from the ticket's timeline."""
    with Session(engine) as session:
        events = session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.ticket_id == ticket_id, TimelineEvent.kind == SYNC_RETRIED)
            .order_by(TimelineEvent.id.desc())
        )
        for event in events:
            if event.data.get("row_id") == row_id:
                return Retried(event.actor, event.origin, event.at)
    return None


class DeadLetterRetries:
    """The inbox handler of :class:`DeadLetterRetryPressed`: agents of the ticket's team may
    retry; anyone else is told why not, and nothing changes."""

    def __init__(
        self, engine: Engine, config: Config, agents: AgentCheck, notices: Notices
    ) -> None:
        self.engine = engine
        self.config = config
        self.agents = agents
        self.notices = notices

    def handle(self, payload: dict[str, Any]) -> None:
        event = DeadLetterRetryPressed.from_payload(dict(payload))
        with Session(self.engine) as session:
            row = session.get(OutboxRow, event.row_id)
            ticket = session.get(Ticket, row.ticket_id) if row and row.ticket_id else None
            team = ticket.team if ticket is not None else None
            key = ticket.key if ticket is not None else None
        if team is None:
            self._tell(event, "That sync is gone or belongs to no ticket. Nothing was changed.")
            return
        if not self.agents.is_agent(event.user, team):
            channel = self.config.team(team).triage_channel
            self._tell(
                event,
                f"Only agents of {team} (members of #{channel}) can retry a sync. "
                "Nothing was changed.",
            )
            return
        [outcome] = retry(self.engine, [event.row_id], actor=event.user, origin=Origin.SLACK)
        if not outcome.retried:
            self._tell(
                event,
                f"That sync of {key} was already retried (it is {outcome.status} now). "
                "Nothing was changed.",
            )

    def _tell(self, event: DeadLetterRetryPressed, text: str) -> None:
        if event.channel is None:
            log.info("dead letter %s, press by %s: %s", event.row_id, event.user, text)
            return
        self.notices.ephemeral(
            channel=event.channel, user=event.user, text=text, key=f"refusal:{event.ref}"
        )


# reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxEntry:
    """An outbox row as ``deskhand sync status`` shows it."""

    id: int
    ticket_id: int | None
    ticket_key: str | None
    action: str
    target: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    done_at: datetime | None


@dataclass(frozen=True)
class SyncEvent:
    at: datetime
    kind: str
    actor: str
    origin: str
    data: dict[str, Any]


@dataclass(frozen=True)
class SyncLog:
    """One ticket's sync: its sync timeline events and every outbox row, oldest first."""

    ticket_id: int
    key: str
    title: str
    team: str
    jira_key: str | None
    events: list[SyncEvent]
    rows: list[OutboxEntry]


@dataclass(frozen=True)
class Overview:
    counts: dict[tuple[str, str], int]
    """Outbox rows by (target, status)."""
    dead: list[OutboxEntry]
    """Every dead letter, oldest first."""


def find_ticket_id(engine: Engine, ref: str) -> int | None:
    """The id of the ticket ``ref`` names: its key (``IT-4``, any case) or its numeric id."""
    ref = ref.strip()
    with Session(engine) as session:
        if ref.isdigit():
            found = session.scalar(select(Ticket.id).where(Ticket.id == int(ref)))
            if found is not None:
                return found
        return session.scalar(select(Ticket.id).where(Ticket.key == ref.upper()))


def sync_log(engine: Engine, ticket_id: int) -> SyncLog:
    with Session(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise KeyError(ticket_id)
        events = session.scalars(
            select(TimelineEvent)
            .where(
                TimelineEvent.ticket_id == ticket_id,
                or_(*(TimelineEvent.kind.startswith(p) for p in SYNC_KIND_PREFIXES)),
            )
            .order_by(TimelineEvent.id)
        ).all()
        rows = session.scalars(
            select(OutboxRow).where(OutboxRow.ticket_id == ticket_id).order_by(OutboxRow.id)
        ).all()
        return SyncLog(
            ticket_id=ticket.id,
            key=ticket.key,
            title=ticket.title,
            team=ticket.team,
            jira_key=ticket.jira_key,
            events=[SyncEvent(e.at, e.kind, e.actor, e.origin, dict(e.data)) for e in events],
            rows=[_entry(row, ticket.key) for row in rows],
        )


def overview(engine: Engine) -> Overview:
    with Session(engine) as session:
        counts: Counter[tuple[str, str]] = Counter()
        for target, status, count in session.execute(
            select(OutboxRow.target, OutboxRow.status, func.count(OutboxRow.id)).group_by(
                OutboxRow.target, OutboxRow.status
            )
        ):
            counts[(target, status)] = int(count)
        dead = session.execute(
            select(OutboxRow, Ticket.key)
            .outerjoin(Ticket, Ticket.id == OutboxRow.ticket_id)
            .where(OutboxRow.status == "dead")
            .order_by(OutboxRow.id)
        ).all()
        return Overview(dict(counts), [_entry(row, key) for row, key in dead])


def _entry(row: OutboxRow, ticket_key: str | None) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        ticket_id=row.ticket_id,
        ticket_key=ticket_key,
        action=row.action,
        target=row.target,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        done_at=row.done_at,
    )
