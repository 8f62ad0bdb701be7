"""The domain's tables (see DESIGN.md, "Domain").

Unique constraints carry the project's "exactly once" promises: one ticket per Slack message
(channel, ts), one Jira issue per ticket, one comment per Slack message and per Jira comment,
one inbox row per delivery key and one outbox row per intended effect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import JSONDocument, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid (auto-increment); BIGINT elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONDocument,
    }


class Team(Base):
    """A team as configured; rows are kept in step with ``config.yaml`` at start."""

    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    key_prefix: Mapped[str] = mapped_column(String(10), unique=True)
    triage_channel: Mapped[str] = mapped_column(String(80))
    jira_project: Mapped[str | None] = mapped_column(String(10))
    next_number: Mapped[int] = mapped_column(Integer, default=1)
    """The next ticket number for this team's keys (``IT-<n>``)."""


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("origin_channel", "origin_ts"),
        Index("ix_tickets_team_status", "team", "status"),
        Index("ix_tickets_requester_status", "requester", "status"),
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_resolved_at", "resolved_at"),
        # The thread sweep's searches: tickets not done, and those closed lately.
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_closed_at", "closed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(24), unique=True)
    team: Mapped[str] = mapped_column(ForeignKey("teams.name", onupdate="CASCADE"))
    requester: Mapped[str] = mapped_column(String(32))
    """Slack user id of the person who asked."""
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    service: Mapped[str | None] = mapped_column(String(80))
    level: Mapped[int] = mapped_column(SmallInteger, default=1)
    """Support level: 1, 2 or 3."""
    status: Mapped[str] = mapped_column(String(24), default="open")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    assignee: Mapped[str | None] = mapped_column(String(32))
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Answers to the team's form fields, by field id."""
    labels: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    origin_kind: Mapped[str] = mapped_column(String(16))
    """How the ticket came in: reaction, command, shortcut, dm or auto."""
    origin_channel: Mapped[str | None] = mapped_column(String(32))
    origin_ts: Mapped[str | None] = mapped_column(String(32))
    private_origin: Mapped[bool] = mapped_column(Boolean, default=False)
    """The request came from a private channel or DM: never echo its content publicly."""
    thread_channel: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    triage_channel: Mapped[str | None] = mapped_column(String(32))
    triage_ts: Mapped[str | None] = mapped_column(String(32))
    jira_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    jira_project: Mapped[str | None] = mapped_column(String(10))
    """The Jira project the ticket's issue is (being) created in: a recipe's choice, else its
    team's at the time; None while the ticket has no issue coming."""
    jira_updated: Mapped[datetime | None]
    """Jira's ``updated`` time of the newest issue state applied: older news is ignored."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    csat_score: Mapped[int | None] = mapped_column(SmallInteger)

    comments: Mapped[list[Comment]] = relationship(
        back_populates="ticket", order_by="Comment.id", cascade="all, delete-orphan"
    )
    links: Mapped[list[Link]] = relationship(back_populates="ticket", cascade="all, delete-orphan")


class Link(Base):
    """An object in another system that belongs to a ticket: a Slack card, a Jira issue."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("system", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    system: Mapped[str] = mapped_column(String(16))
    """'slack' or 'jira'."""
    kind: Mapped[str] = mapped_column(String(24))
    """'ticket_card', 'triage_card' or 'issue'."""
    external_id: Mapped[str] = mapped_column(String(128))
    """Slack 'channel:ts', or a Jira issue key."""
    content_digest: Mapped[str | None] = mapped_column(String(64))
    """For a card: a digest of the content (text and blocks) Slack last confirmed for the
    message, so an update that would change nothing is not sent. None while it is not known:
    never confirmed, or an update since whose outcome is not known."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="links")


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("slack_channel", "slack_ts"),
        UniqueConstraint("jira_comment_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(128))
    """Slack user id, or 'jira:<account id>' for a comment written in Jira."""
    author_name: Mapped[str] = mapped_column(String(255), default="")
    body: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    """'public' (the requester sees it) or 'internal' (agents only)."""
    origin: Mapped[str] = mapped_column(String(16))
    """Where it was written: 'slack', 'jira' or 'deskhand'."""
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    jira_comment_id: Mapped[str | None] = mapped_column(String(32))
    jira_updated: Mapped[datetime | None]
    """Jira's ``updated`` time of the comment's newest version applied."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]

    ticket: Mapped[Ticket] = relationship(back_populates="comments")


class TimelineEvent(Base):
    """Append-only: the audit trail, the sync log and the source of reports."""

    __tablename__ = "timeline_events"
    __table_args__ = (
        Index("ix_timeline_events_ticket_id_id", "ticket_id", "id"),
        Index("ix_timeline_events_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    """Who did it: a Slack user id, 'jira:<account>', 'recipe:<name>' or 'deskhand'."""
    kind: Mapped[str] = mapped_column(String(40))
    """What happened, e.g. 'created', 'status_changed', 'assigned', 'synced', 'sync_failed'."""
    origin: Mapped[str] = mapped_column(String(16))
    """Where it happened: 'slack', 'jira', 'deskhand' (scheduler, recipes) or 'cli'."""
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recipe: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)


class ClaimableMixin:
    """Columns of a work queue row that relays claim with a lease (see :mod:`storage.claims`)."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """'pending', 'claimed', 'done' or 'dead' (attempts exhausted)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class InboxRow(ClaimableMixin, Base):
    """A delivery from Slack or Jira, stored before it is acknowledged."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_status_next_attempt_at", "status", "next_attempt_at"),)

    source: Mapped[str] = mapped_column(String(16))
    """'slack' or 'jira'."""
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    """Slack event_id or interaction id; Jira X-Atlassian-Webhook-Identifier."""
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class OutboxRow(ClaimableMixin, Base):
    """A side effect in Slack or Jira, written in the same transaction as the change."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_ticket_id_id", "ticket_id", "id"),
    )

    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(16))
    """'slack' or 'jira'."""
    action: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None] = mapped_column()


class SyncCursor(Base):
    """Where a reader of another system got to, e.g. the Jira poller's last window."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RecipeReplica(Base):
    """A running Deskhand's answer to the last recipe reload request (``deskhand recipes
    reload`` writes the request as the ``recipes.reload`` sync cursor)."""

    __tablename__ = "recipe_replicas"

    replica: Mapped[str] = mapped_column(String(128), primary_key=True)
    """host:pid of the process."""
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When it last looked for a request: replicas not seen lately are not waited for."""
    request_at: Mapped[datetime | None]
    """The request it answered last (the cursor's position then); None: only its start."""
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
    outcome: Mapped[str] = mapped_column(Text, default="")
    """"loaded N recipes from M files", or why the files were not loaded."""
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
