"""Clicks on the cards (block_actions): parsed into CardAction, stored, acked.

The ticket is named by typed data on the element (a button's value, the block id of a
menu), never read from the text. The work, permission checks included, happens in the inbox
worker; the ack only confirms the click was received.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.ids import Action, parse_ticket_block_id, parse_ticket_value
from deskhand.events import CardAction
from deskhand.inbox import Delivery, Inbox


def register(app: App, inbox: Inbox, wake: Callable[[], None]) -> None:
    for action in Action:
        if action is Action.OPEN_IN_JIRA:
            app.action(action.value)(_just_ack)
        else:
            app.action(action.value)(_store(inbox, wake))


def _just_ack(ack: Ack) -> None:
    """A link button: Slack opens the URL; the click only needs an ack."""
    ack()


def _store(inbox: Inbox, wake: Callable[[], None]) -> Callable[..., None]:
    def on_action(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        event = card_action(body, action)
        if event is not None and inbox.store(
            Delivery("slack", f"action:{event.ref}", event.KIND, event.payload())
        ):
            wake()
        ack()

    return on_action


def card_action(body: dict[str, Any], action: dict[str, Any]) -> CardAction | None:
    """The core's CardAction for one clicked element, or None if it names no ticket."""
    ticket_id = parse_ticket_value(action.get("value"))
    if ticket_id is None:
        parsed = parse_ticket_block_id(action.get("block_id"))
        ticket_id = parsed[0] if parsed else None
    if ticket_id is None:
        return None
    value = action.get("value")
    if "selected_option" in action:
        value = (action["selected_option"] or {}).get("value")
    elif "selected_user" in action:
        value = action["selected_user"]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    ref = str(body.get("trigger_id") or f"{body['user']['id']}:{action.get('action_ts')}")
    return CardAction(
        user=str(body["user"]["id"]),
        ticket_id=ticket_id,
        action=str(action["action_id"]),
        value=None if value is None else str(value),
        channel=channel,
        ref=ref,
    )
