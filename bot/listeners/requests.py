"""The slash command, its modal, the message shortcut and the DM's "Create ticket" button.

Opening (and updating) the modal changes nothing, so it is done in the listener, inside the
trigger's 3 seconds, with a client that gives up in time; nothing slow happens before it. A
submission is checked in the listener (bad input: ``response_action: errors`` and nothing
stored), then stored in the inbox under the view's id and hash before the ack closes the modal.
The shortcut and the button are stored and acked like the cards' clicks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import modals
from bot.confirmations import DM_TICKET_ACTION
from deskhand.config import Config
from deskhand.events import DmTicketRequested, Event, MessageShortcut, RequestSubmitted
from deskhand.inbox import Delivery, Inbox
from deskhand.manifest import SHORTCUT_CALLBACK_ID

log = logging.getLogger(__name__)

TRIGGER_TIMEOUT = 2
"""Seconds views.open may take: the trigger expires 3 s after Slack sent it."""


def register(app: App, inbox: Inbox, wake: Callable[[], None], config: Config) -> None:
    def store(event: Event, key: str) -> None:
        if inbox.store(Delivery("slack", key, event.KIND, event.payload())):
            wake()

    @app.command(config.slack.slash_command)
    def on_command(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Open the form. ack() comes last on purpose: with process_before_response Bolt sends
        the ack when the listener returns anyway, and so the ack can carry the apology when
        neither the modal nor an ephemeral message could reach the person."""
        channel, user = body.get("channel_id"), str(body["user_id"])
        view = modals.request_modal(config, text=str(body.get("text") or ""), channel=channel)
        problem = _open(client, str(body["trigger_id"]), view)
        if problem is None:
            ack()
            return
        log.warning("%s: the request form did not open: %s", config.slack.slash_command, problem)
        sorry = (
            "Sorry, the request form did not open in time (Slack allows 3 seconds). "
            f"Please run {config.slack.slash_command} again."
        )
        try:
            if not channel:
                raise ValueError("no channel to answer in")
            fast(client).chat_postEphemeral(channel=channel, user=user, text=sorry)
        except (SlackApiError, OSError, ValueError):
            ack(sorry)  # shown to the person only, like an ephemeral message
            return
        ack()

    @app.action(modals.Input.TEAM_SERVICE)
    def on_team_chosen(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        """Show the chosen team's or service's form fields, keeping what was typed."""
        ack()
        view = body.get("view") or {}
        choice = modals.Choice.parse((action.get("selected_option") or {}).get("value"))
        updated = modals.request_modal(
            config,
            channel=modals.metadata_channel(view),
            choice=choice,
            values=(view.get("state") or {}).get("values"),
        )
        try:
            fast(client).views_update(view_id=view["id"], hash=view.get("hash"), view=updated)
        except (SlackApiError, OSError) as exc:
            # hash_conflict: a later choice already updated the modal, and that one stands.
            log.info("request form not updated: %s", exc)

    @app.view(modals.CALLBACK_ID)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        checked = modals.read_submission(config, view)
        if not isinstance(checked, modals.Request):
            ack(response_action="errors", errors=checked)
            return
        event = RequestSubmitted(
            user=str(body["user"]["id"]),
            team=checked.team,
            title=checked.title,
            description=checked.description,
            priority=checked.priority.value,
            service=checked.service,
            fields=checked.fields,
            channel=checked.channel,
            ref=f"view:{view['id']}:{view['hash']}",
        )
        store(event, event.ref)
        ack()

    @app.shortcut(SHORTCUT_CALLBACK_ID)
    def on_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ref = str(body.get("trigger_id") or f"{body['user']['id']}:{body.get('action_ts')}")
        event = MessageShortcut(
            user=str(body["user"]["id"]),
            channel=str(body["channel"]["id"]),
            ts=str(body.get("message_ts") or body["message"]["ts"]),
            ref=ref,
        )
        store(event, f"shortcut:{ref}")
        ack()

    @app.action(DM_TICKET_ACTION)
    def on_dm_ticket(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        channel = (body.get("container") or {}).get("channel_id") or (
            body.get("channel") or {}
        ).get("id")
        ref = str(body.get("trigger_id") or f"{body['user']['id']}:{action.get('action_ts')}")
        if channel and action.get("value"):
            event = DmTicketRequested(
                user=str(body["user"]["id"]), channel=str(channel), ts=str(action["value"]), ref=ref
            )
            store(event, f"action:{ref}")
        ack()


def fast(client: WebClient) -> WebClient:
    """A client for calls bound to a trigger: it gives up before the trigger expires, and
    never sleeps in a retry handler on the ack path."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=TRIGGER_TIMEOUT,
        retry_handlers=[],
        logger=client.logger,
    )


def _open(client: WebClient, trigger_id: str, view: dict[str, Any]) -> str | None:
    """None when the modal opened, else why not."""
    try:
        fast(client).views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        return str(exc.response.get("error") or exc)
    except OSError as exc:  # a timeout or a refused connection
        return repr(exc)
    return None
