"""Part of the composition root (with :mod:`deskhand.wiring`): plugs the form, shortcut, DM and
auto-ticket intake into a Deskhand being built. Like wiring.py it knows the Slack adapter."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App

from bot.confirmations import IntakePosts
from bot.listeners import requests as request_listeners
from bot.slack_port import SlackChatPort
from deskhand.config import Config
from deskhand.events import (
    ChannelMessage,
    DirectMessage,
    DmTicketRequested,
    MessageShortcut,
    RequestSubmitted,
)
from deskhand.inbox import Inbox, InboxWorker
from deskhand.notices import Notices
from deskhand.outbox import OutboxRelay
from deskhand.requests import MessageIntake, RequestIntake
from deskhand.tickets.service import TicketService


def plug_requests(
    config: Config,
    *,
    app: App,
    inbox: Inbox,
    wake: Callable[[], None],
    worker: InboxWorker,
    relay: OutboxRelay,
    chat: SlackChatPort,
    tickets: TicketService,
) -> None:
    """Add the intake handlers to ``worker``, their executors to ``relay`` and the listeners
    to ``app``; call it in ``build()`` before the loops start."""
    engine = tickets.engine
    requests = RequestIntake(config, tickets)
    messages = MessageIntake(config, chat, tickets, Notices(engine), engine)
    worker.handlers.update(
        {
            RequestSubmitted.KIND: requests.handle,
            MessageShortcut.KIND: messages.shortcut,
            DirectMessage.KIND: messages.direct_message,
            DmTicketRequested.KIND: messages.dm_ticket,
            ChannelMessage.KIND: messages.channel_message,
        }
    )
    posts = IntakePosts(chat, tickets, engine)
    relay.executors.update(
        {
            "ticket_confirmation": posts.ticket_confirmation,
            "dm_ticket_offer": posts.dm_ticket_offer,
        }
    )
    request_listeners.register(app, inbox, wake, config)
