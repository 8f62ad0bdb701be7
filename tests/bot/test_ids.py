"""bot.ids: card metadata and block ids carry the ticket, and strangers are rejected."""

from __future__ import annotations

from bot.ids import (
    TICKET_CARD_EVENT,
    Card,
    card_metadata,
    parse_card_metadata,
    parse_ticket_block_id,
    parse_ticket_value,
    ticket_block_id,
)


def test_card_metadata_round_trips_and_rejects_strangers() -> None:
    metadata = card_metadata("IT-12", Card.TRIAGE, "tag-1")
    assert metadata == {
        "event_type": TICKET_CARD_EVENT,
        "event_payload": {"ticket": "IT-12", "card": "triage", "tag": "tag-1"},
    }
    assert parse_card_metadata(metadata) == ("IT-12", "triage", "tag-1")
    assert parse_card_metadata(None) is None
    assert parse_card_metadata({"event_type": "other", "event_payload": {}}) is None
    assert parse_card_metadata({"event_type": TICKET_CARD_EVENT, "event_payload": []}) is None
    assert parse_card_metadata({"event_type": TICKET_CARD_EVENT, "event_payload": {}}) is None
    assert parse_ticket_block_id(ticket_block_id(42, "people")) == (42, "people")
    assert parse_ticket_block_id("deskhand:x:people") is None
    assert parse_ticket_value("42") == 42
    assert parse_ticket_value("4 2") is None
