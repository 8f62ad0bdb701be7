"""Action ids, block ids and message metadata shared by the cards and their click handlers.

Handlers match on these constants, never on literals, and find the ticket a click is about
from typed data (a button's ``value``, a block id, the message's metadata), never by parsing
the text of a message.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    """``action_id`` of every interactive element on Deskhand's cards."""

    # triage card
    CLAIM = "claim"
    ASSIGN = "assign"
    """users_select"""
    SET_STATUS = "set_status"
    """static_select; option values are ``TicketStatus`` values"""
    SET_PRIORITY = "set_priority"
    """static_select; option values are ``Priority`` values"""
    MOVE_TEAM = "move_team"
    """static_select; option values are team names"""
    ESCALATE = "escalate"
    DEESCALATE = "deescalate"
    OPEN_IN_JIRA = "open_in_jira"
    """url button: Slack still sends block_actions, which only needs an ack"""
    # ticket card (in the requester's thread)
    CLOSE_TICKET = "close_ticket"
    REOPEN_TICKET = "reopen_ticket"


class Card(StrEnum):
    """Which card a message is, as recorded in its metadata."""

    TICKET = "ticket"
    TRIAGE = "triage"


TICKET_CARD_EVENT = "deskhand_card"
"""``event_type`` of the message metadata on every card Deskhand posts."""


def card_metadata(ticket_key: str, card: str, tag: str) -> dict[str, Any]:
    """Slack message metadata for a card (``metadata`` argument of chat.postMessage/update).

    ``tag`` identifies this post, so that after a timeout the relay can look for it in the
    channel before posting again (no idempotency key in chat.postMessage).
    """
    return {
        "event_type": TICKET_CARD_EVENT,
        "event_payload": {"ticket": ticket_key, "card": card, "tag": tag},
    }


def parse_card_metadata(metadata: Any) -> tuple[str, str, str] | None:
    """``(ticket key, card, tag)`` from a message's metadata, or None if it is not a card's."""
    if not isinstance(metadata, dict) or metadata.get("event_type") != TICKET_CARD_EVENT:
        return None
    payload = metadata.get("event_payload")
    if not isinstance(payload, dict):
        return None
    key, card, tag = payload.get("ticket"), payload.get("card"), payload.get("tag")
    if isinstance(key, str) and isinstance(card, str) and isinstance(tag, str) and key and card:
        return key, card, tag
    return None


_BLOCK_ID = re.compile(r"deskhand:(\d{1,18}):([a-z0-9_]{1,32})")


def ticket_block_id(ticket_id: int, part: str) -> str:
    """A block id that names the ticket, e.g. ``deskhand:42:controls``.

    Select menus carry enum values, not the ticket id, so their block names the ticket.
    """
    return f"deskhand:{ticket_id}:{part}"


def parse_ticket_block_id(block_id: Any) -> tuple[int, str] | None:
    """``(ticket id, part)`` from a block id made by :func:`ticket_block_id`, else None."""
    if not isinstance(block_id, str):
        return None
    match = _BLOCK_ID.fullmatch(block_id)
    if match is None:
        return None
    return int(match.group(1)), match.group(2)


def parse_ticket_value(value: Any) -> int | None:
    """The ticket id a button's ``value`` carries (``str(ticket.id)``), or None."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None
