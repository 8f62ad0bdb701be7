"""The ticket service: every change to a ticket, each in one transaction with its timeline
event and the outbox rows that tell Slack (and later Jira) about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from deskhand.domain import IntakeKind, Origin, Priority, TicketStatus
from deskhand.outbox import enqueue
from deskhand.recipe_runner import RecipeRunner
from deskhand.tickets import tracker_rows
from deskhand.tickets.changes import (
    Applied,
    Assign,
    Change,
    MoveTeam,
    SetPriority,
    SetStatus,
    apply,
)
from deskhand.tickets.recipe_hooks import RecipeHooks
from deskhand.tickets.timeline import record
from deskhand.tickets.views import TicketView
from recipes.schema import Trigger
from storage.engine import writing
from storage.models import Comment, Link, Team, Ticket, TimelineEvent

TITLE_LIMIT = 120

_REQUESTER_HEARS: dict[type, str] = {
    SetStatus: "status",
    Assign: "assignee",
    SetPriority: "priority",
}
"""Changes the requester is told about, in one line in their thread."""


def sync_cards(session: Session, ticket_id: int, *, reason: str) -> None:
    """Ask the relay to bring both cards up to date (rendered from state when it runs)."""
    for card in ("ticket", "triage"):
        enqueue(
            session,
            ticket_id=ticket_id,
            target="slack",
            action=f"sync_{card}_card",
            payload={"ticket_id": ticket_id},
            key=f"ticket:{ticket_id}:{card}_card:{reason}",
        )


@dataclass(frozen=True)
class ThreadReply:
    """A reply that sat in the thread before the ticket existed: it becomes a comment."""

    user: str
    text: str
    ts: str


@dataclass(frozen=True)
class NewTicket:
    team: str
    requester: str
    """Slack user id of the person asking."""
    text: str
    """The request as written; the title is its first line."""
    origin_kind: IntakeKind
    actor: str
    """Who made it a ticket (the reacting agent, the requester for a command)."""
    origin_channel: str | None = None
    origin_ts: str | None = None
    thread_channel: str | None = None
    thread_ts: str | None = None
    """Where the ticket card goes: the thread of the request."""
    private_origin: bool = False
    title: str | None = None
    priority: Priority = Priority.NORMAL
    service: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    earlier_replies: list[ThreadReply] = field(default_factory=list)
    file_links: list[str] = field(default_factory=list)
    channel_name: str | None = None
    """The name of the channel the request came from, for recipes' channel conditions."""
    ref: str | None = None
    """The request's own id when no message is its origin (a form's view id and hash): one
    ticket per ref, as one per (channel, ts)."""
    confirmation: dict[str, Any] | None = None
    """Confirm the new ticket to the requester: a ``ticket_confirmation`` outbox row with this
    payload, ahead of the cards (the confirmation becomes the ticket's thread)."""


@dataclass(frozen=True)
class Created:
    ticket_id: int
    key: str
    new: bool
    """False when the request already was a ticket (a second reaction, a redelivery)."""


@dataclass(frozen=True)
class PostedCard:
    """A card in Slack, as the ticket's links remember it."""

    channel: str
    ts: str
    digest: str | None
    """Of the content Slack last confirmed for it; None when that is not known."""


def title_from(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = first or "(no text)"
    return first if len(first) <= TITLE_LIMIT else first[: TITLE_LIMIT - 1].rstrip() + "…"


class TicketService:
    def __init__(self, engine: Engine, *, recipes: RecipeRunner | None = None) -> None:
        """``recipes``: routing recipes consulted for every new ticket (none: no routing)."""
        self.engine = engine
        self.recipes = recipes
        self._hooks = RecipeHooks(recipes, self.change_in) if recipes is not None else None

    # creation --------------------------------------------------------------------------------

    def create(self, new: NewTicket) -> Created:
        """Make ``new`` a ticket, once: a request that already is one returns that ticket."""
        try:
            with writing(self.engine) as session:
                existing = self._existing(session, new)
                if existing is not None:
                    return existing
                return self._insert(session, new)
        except IntegrityError:
            # Another worker created it between our check and insert: theirs stands.
            with Session(self.engine) as session:
                existing = self._existing(session, new)
            if existing is None:
                raise
            return existing

    def _existing(self, session: Session, new: NewTicket) -> Created | None:
        if new.ref is not None:
            by_ref = session.execute(
                select(Ticket.id, Ticket.key)
                .join(Link, Link.ticket_id == Ticket.id)
                .where(Link.system == "deskhand", Link.external_id == new.ref)
            ).first()
            return Created(by_ref.id, by_ref.key, new=False) if by_ref is not None else None
        if new.origin_channel is None or new.origin_ts is None:
            return None
        return self._from_message(session, new.origin_channel, new.origin_ts)

    def for_message(self, channel: str, ts: str) -> Created | None:
        """The ticket the message at (``channel``, ``ts``) already is, if any."""
        with Session(self.engine) as session:
            return self._from_message(session, channel, ts)

    @staticmethod
    def _from_message(session: Session, channel: str, ts: str) -> Created | None:
        row = session.execute(
            select(Ticket.id, Ticket.key).where(
                Ticket.origin_channel == channel, Ticket.origin_ts == ts
            )
        ).first()
        return Created(row.id, row.key, new=False) if row is not None else None

    def _insert(self, session: Session, new: NewTicket) -> Created:
        hooks = self._hooks
        planned = hooks.route_new(new) if hooks is not None else None
        routing = planned.routing if planned is not None else None
        decided = RecipeHooks.fields(new, routing)
        chosen = RecipeHooks.jira_project(routing)
        number = session.execute(
            update(Team)
            .where(Team.name == decided.team)
            .values(next_number=Team.next_number + 1)
            .returning(Team.next_number, Team.key_prefix, Team.jira_project)
        ).first()
        if number is None:
            raise KeyError(f"unknown team {decided.team!r}")
        key = f"{number.key_prefix}-{number.next_number - 1}"
        if planned is not None:  # the team is decided, so is the key: messages can say it
            routing = planned.with_key(key)
        # The project the ticket's issue goes into (a recipe's choice, else its team's):
        # remembered, so a retried create looks for the issue where it was made.
        jira_project = chosen.project if chosen is not None else number.jira_project
        description = new.text
        if new.file_links:
            description += "\n\nFiles:\n" + "\n".join(f"- {link}" for link in new.file_links)
        ticket = Ticket(
            key=key,
            team=decided.team,
            requester=new.requester,
            title=new.title or title_from(new.text),
            description=description,
            service=decided.service,
            level=decided.level,
            status=TicketStatus.OPEN.value,
            priority=decided.priority.value,
            fields=dict(new.fields),
            labels=decided.labels,
            origin_kind=new.origin_kind.value,
            origin_channel=new.origin_channel,
            origin_ts=new.origin_ts,
            private_origin=new.private_origin,
            thread_channel=new.thread_channel,
            thread_ts=new.thread_ts,
            jira_project=jira_project,
        )
        session.add(ticket)
        session.flush()
        for reply in new.earlier_replies:
            session.add(
                Comment(
                    ticket_id=ticket.id,
                    author=reply.user,
                    body=reply.text,
                    visibility="public",
                    origin=Origin.SLACK.value,
                    slack_channel=new.thread_channel,
                    slack_ts=reply.ts,
                )
            )
        record(
            session,
            ticket.id,
            actor=new.actor,
            kind="created",
            origin=Origin.SLACK,
            data={
                "via": new.origin_kind.value,
                "channel": new.origin_channel,
                "ts": new.origin_ts,
                "comments_from_thread": len(new.earlier_replies),
                # channel names are what recipes match; replaying old tickets needs them
                **({"channel_name": new.channel_name} if new.channel_name else {}),
            },
        )
        if new.ref is not None:
            session.add(
                Link(ticket_id=ticket.id, system="deskhand", kind="request", external_id=new.ref)
            )
        if hooks is not None and routing is not None:
            hooks.record_new(session, ticket, routing)
        if new.confirmation is not None:
            enqueue(
                session,
                ticket_id=ticket.id,
                target="slack",
                action="ticket_confirmation",
                payload={**new.confirmation, "ticket_id": ticket.id},
                key=f"ticket:{ticket.id}:confirmation",
            )
        sync_cards(session, ticket.id, reason="created")
        if jira_project is not None:  # the ticket gets an issue in Jira
            tracker_rows.create_issue(session, ticket.id)
            session.flush()
            for comment in ticket.comments:
                tracker_rows.add_comment(session, ticket.id, comment.id, backlog=True)
        if hooks is not None and routing is not None:
            hooks.after_insert(session, ticket, routing)
        return Created(ticket.id, key, new=True)

    # changes ---------------------------------------------------------------------------------

    def change(
        self, ticket_id: int, change: Change, *, actor: str, origin: Origin, teams: list[str]
    ) -> Applied:
        """Apply ``change``: state, timeline and card updates in one transaction. A change
        that changes nothing writes nothing."""
        with writing(self.engine) as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                raise KeyError(ticket_id)
            return self.change_in(session, ticket, change, actor=actor, origin=origin, teams=teams)

    def change_in(
        self,
        session: Session,
        ticket: Ticket,
        change: Change,
        *,
        actor: str,
        origin: Origin,
        teams: list[str],
        recipe: str | None = None,
        reason: str | None = None,
    ) -> Applied:
        """:meth:`change` inside the caller's transaction (e.g. with a Jira high-water mark).

        The change goes out to every system it did not come from: the cards and the
        requester's line in Slack, and the issue in Jira when the team works there.
        """
        ticket_id = ticket.id
        applied = apply(ticket, change, teams=teams)
        if not applied.changed:
            return applied
        event = record(
            session,
            ticket_id,
            actor=actor,
            kind=applied.kind,
            origin=origin,
            data={"from": applied.before, "to": applied.after},
            recipe=recipe,
            reason=reason,
        )
        session.flush()
        cause = f"event:{event.id}"
        if isinstance(change, MoveTeam):
            # First the old team's card says where the ticket went; then the new team
            # gets a card of its own (rows of a ticket run in order).
            enqueue(
                session,
                ticket_id=ticket_id,
                target="slack",
                action="retire_triage_card",
                payload={"ticket_id": ticket_id, "moved_to": ticket.team, "actor": actor},
                key=f"ticket:{ticket_id}:retire_triage:{cause}",
            )
        sync_cards(session, ticket_id, reason=cause)
        field = _REQUESTER_HEARS.get(type(change))
        if field is not None:
            enqueue(
                session,
                ticket_id=ticket_id,
                target="slack",
                action="notify_requester",
                payload={
                    "ticket_id": ticket_id,
                    "field": field,
                    "value": applied.after,
                    "actor": actor,
                },
                key=f"ticket:{ticket_id}:notify:{cause}",
            )
        if origin is not Origin.JIRA:
            tracker_rows.after_change(session, ticket, change, reason=cause)
        if isinstance(change, SetStatus):
            previous = TicketStatus(applied.before)
            self.run_recipes(
                session, ticket, Trigger.TICKET_STATUS_CHANGED, previous_status=previous
            )
        return applied

    def run_recipes(
        self,
        session: Session,
        ticket: Ticket,
        trigger: Trigger,
        *,
        text: str | None = None,
        previous_status: TicketStatus | None = None,
    ) -> None:
        """Consult the recipes about ``trigger`` on ``ticket`` and carry out what they ask,
        in the caller's transaction (see :meth:`RecipeHooks.run`)."""
        if self._hooks is not None:
            self._hooks.run(session, ticket, trigger, text=text, previous_status=previous_status)

    # cards -----------------------------------------------------------------------------------

    def record_card(
        self, ticket_id: int, card: str, channel: str, ts: str, *, digest: str | None = None
    ) -> None:
        """Remember where a card was posted, so later changes update it in place. The triage
        card's thread is where the team's internal notes go. ``digest``: of the content Slack
        confirmed posting (None when that is not known, e.g. a post found after a timeout)."""
        with writing(self.engine) as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                raise KeyError(ticket_id)
            if card == "triage":
                ticket.triage_channel, ticket.triage_ts = channel, ts
            session.add(
                Link(
                    ticket_id=ticket_id,
                    system="slack",
                    kind=f"{card}_card",
                    external_id=f"{channel}:{ts}",
                    content_digest=digest,
                )
            )

    def record_card_content(
        self, ticket_id: int, card: str, channel: str, ts: str, digest: str | None
    ) -> None:
        """Remember the digest of the content the card at (``channel``, ``ts``) shows: after
        Slack confirmed an update with it, or None just before an update is sent, so that an
        update whose outcome never becomes known leaves nothing to trust."""
        with writing(self.engine) as session:
            session.execute(
                update(Link)
                .where(
                    Link.ticket_id == ticket_id,
                    Link.system == "slack",
                    Link.kind == f"{card}_card",
                    Link.external_id == f"{channel}:{ts}",
                )
                .values(content_digest=digest)
            )

    def retire_card(self, ticket_id: int, card: str) -> None:
        """Forget a card (the ticket moved on): the next sync posts a new one."""
        with writing(self.engine) as session:
            link = session.scalar(
                select(Link).where(
                    Link.ticket_id == ticket_id, Link.system == "slack", Link.kind == f"{card}_card"
                )
            )
            if link is not None:
                link.kind = f"retired_{card}_card"
            ticket = session.get(Ticket, ticket_id)
            if ticket is not None and card == "triage":
                ticket.triage_channel, ticket.triage_ts = None, None

    def card_location(self, ticket_id: int, card: str) -> tuple[str, str] | None:
        """(channel, ts) of the ticket's ``card`` ('ticket' or 'triage'), once posted."""
        posted = self.posted_card(ticket_id, card)
        return (posted.channel, posted.ts) if posted is not None else None

    def posted_card(self, ticket_id: int, card: str) -> PostedCard | None:
        """Where the ticket's ``card`` is and what it last showed, once posted."""
        with Session(self.engine) as session:
            row = session.execute(
                select(Link.external_id, Link.content_digest).where(
                    Link.ticket_id == ticket_id, Link.system == "slack", Link.kind == f"{card}_card"
                )
            ).first()
        if row is None:
            return None
        channel, _, ts = row.external_id.partition(":")
        return PostedCard(channel, ts, row.content_digest)

    # reading ---------------------------------------------------------------------------------

    def get(self, ticket_id: int) -> Ticket:
        with Session(self.engine, expire_on_commit=False) as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                raise KeyError(ticket_id)
            session.expunge(ticket)
            return ticket

    def view(self, ticket_id: int) -> TicketView:
        ticket = self.get(ticket_id)
        return TicketView(
            id=ticket.id,
            key=ticket.key,
            title=ticket.title,
            description=ticket.description,
            team=ticket.team,
            status=TicketStatus(ticket.status),
            priority=Priority(ticket.priority),
            level=ticket.level,
            requester=ticket.requester,
            assignee=ticket.assignee,
            service=ticket.service,
            jira_key=ticket.jira_key,
            jira_url=None,
            origin_kind=IntakeKind(ticket.origin_kind),
            origin_permalink=None,
            private_origin=ticket.private_origin,
            created_at=ticket.created_at,
            fields={str(k): str(v) for k, v in ticket.fields.items()},
            routed_by=self._routed_by(ticket),
        )

    def _routed_by(self, ticket: Ticket) -> str | None:
        """Why the ticket is with its team, when a recipe put it there."""
        with Session(self.engine) as session:
            event = session.execute(
                select(TimelineEvent.reason, TimelineEvent.data)
                .where(
                    TimelineEvent.ticket_id == ticket.id,
                    TimelineEvent.kind == "team_changed",
                )
                .order_by(TimelineEvent.id.desc())
                .limit(1)
            ).first()
        if event is None or event.reason is None or (event.data or {}).get("to") != ticket.team:
            return None  # moved by a person last, or never moved
        return str(event.reason)
