"""The other ways in: the request form, the message shortcut, DMs to the bot and auto-ticket
channels. Each handler takes one intake event from the inbox (the emoji has its own, in
:mod:`deskhand.intake`, and shares :func:`~deskhand.intake.ticket_from_message` with these).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine

from deskhand.config import Config
from deskhand.domain import IntakeKind, Priority
from deskhand.events import (
    ChannelMessage,
    DirectMessage,
    DmTicketRequested,
    MessageShortcut,
    RequestSubmitted,
)
from deskhand.intake import default_team, ticket_from_message
from deskhand.notices import Notices
from deskhand.outbox import enqueue
from deskhand.ports import ChannelInfo, ChatPort
from deskhand.tickets.service import Created, NewTicket, TicketService
from recipes.actions import PostToChannel, ReplyToRequester
from recipes.events import RecipeEvent
from recipes.schema import Trigger
from storage.engine import writing

log = logging.getLogger(__name__)

CHANNEL_TTL = 300.0
"""Seconds a channel's name and privacy are trusted (auto-ticket channels are checked by name
on every top-level message)."""


class RequestIntake:
    """A submitted request form becomes a ticket, confirmed to the requester in their DM."""

    def __init__(self, config: Config, tickets: TicketService) -> None:
        self.config = config
        self.tickets = tickets

    def handle(self, payload: dict[str, object]) -> None:
        event = RequestSubmitted.from_payload(dict(payload))
        teams = {team.name for team in self.config.teams}
        team = event.team if event.team in teams else default_team(self.config)
        try:
            priority = Priority(event.priority)
        except ValueError:
            priority = Priority.NORMAL
        self.tickets.create(
            NewTicket(
                team=team,
                requester=event.user,
                text=event.description,
                title=event.title,
                origin_kind=IntakeKind.COMMAND,
                actor=event.user,
                priority=priority,
                service=event.service,
                fields=dict(event.fields),
                ref=event.ref,
                confirmation={"user": event.user, "channel": event.channel},
            )
        )


class MessageIntake:
    """Messages that become tickets without the emoji: by the shortcut (any channel the bot
    sees, anyone), by the button offered under a DM to the bot, and every top-level message
    in an auto-ticket channel."""

    def __init__(
        self,
        config: Config,
        chat: ChatPort,
        tickets: TicketService,
        notices: Notices,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.chat = chat
        self.tickets = tickets
        self.notices = notices
        self.engine = engine
        self.clock = clock
        self._lock = threading.Lock()
        self._channels: dict[str, tuple[ChannelInfo | None, float]] = {}

    def shortcut(self, payload: dict[str, object]) -> None:
        event = MessageShortcut.from_payload(dict(payload))
        channel = self._channel(event.channel)
        created = None
        if channel is not None:
            created = self._ticket_from(channel, event.ts, event.user, IntakeKind.SHORTCUT)
        if created is None:
            text = (
                "I cannot make a ticket of that message: I cannot see it (invite me to the "
                "channel), or it is a bot's message or gone."
            )
        elif not created.new:
            text = f"That message already is ticket {created.key}."
        else:
            return  # the ticket card in the message's thread says it
        self.notices.ephemeral(
            channel=event.channel, user=event.user, text=text, key=f"shortcut:{event.ref}"
        )

    def direct_message(self, payload: dict[str, object]) -> None:
        """Offer a "Create ticket" button under a DM to the bot (through the outbox)."""
        event = DirectMessage.from_payload(dict(payload))
        if not self.config.slack.dm_intake:
            return
        with writing(self.engine) as session:
            enqueue(
                session,
                ticket_id=None,
                target="slack",
                action="dm_ticket_offer",
                payload={"channel": event.channel, "ts": event.ts, "user": event.user},
                key=f"dm_offer:{event.channel}:{event.ts}",
            )

    def dm_ticket(self, payload: dict[str, object]) -> None:
        """The button under a DM was pressed: that DM becomes a ticket (its author asks)."""
        event = DmTicketRequested.from_payload(dict(payload))
        channel = self._channel(event.channel)
        if channel is None or not channel.is_im:
            log.info("dm ticket for %s:%s: not a DM with the bot", event.channel, event.ts)
            return
        self._ticket_from(channel, event.ts, event.user, IntakeKind.DM)

    def channel_message(self, payload: dict[str, object]) -> None:
        """A top-level message in an auto-ticket channel is a ticket; one in a request
        channel is shown to the ``message.posted`` recipes; elsewhere, nothing."""
        event = ChannelMessage.from_payload(dict(payload))
        auto = self.config.slack.auto_ticket_channels
        requests = self.config.slack.request_channels
        if not auto and (not requests or self.tickets.recipes is None):
            return
        channel = self._channel(event.channel)
        if channel is None or channel.is_im:
            return
        if channel.name in requests and channel.name not in auto:
            self._message_recipes(event, channel)
            return
        if channel.name not in auto:
            return
        self._ticket_from(channel, event.ts, event.user, IntakeKind.AUTO)

    def _ticket_from(
        self, channel: ChannelInfo, ts: str, actor: str, kind: IntakeKind
    ) -> Created | None:
        """The message at (``channel``, ``ts``) as a ticket of the default team (recipes
        may route it on)."""
        return ticket_from_message(
            self.chat,
            self.tickets,
            team=default_team(self.config),
            channel=channel,
            ts=ts,
            actor=actor,
            kind=kind,
        )

    def _message_recipes(self, event: ChannelMessage, channel: ChannelInfo) -> None:
        """``message.posted``: before any ticket exists, recipes may answer in the message's
        thread or post elsewhere (e.g. the on-call runbook after hours)."""
        runner = self.tickets.recipes
        if runner is None:
            return
        routing = runner.route(
            RecipeEvent(
                trigger=Trigger.MESSAGE_POSTED,
                at=runner.now(),
                text=event.text,
                channel=None if channel.is_private else channel.name,
                requester_id=event.user,
            )
        )
        with writing(self.engine) as session:
            for n, decision in enumerate(routing.actions):
                action = decision.action
                if isinstance(action, ReplyToRequester):
                    where, text, target = "message", action.text, channel.id
                elif isinstance(action, PostToChannel):
                    where, text, target = "channel", action.text, action.channel
                else:
                    continue  # no ticket yet: nothing else applies
                enqueue(
                    session,
                    ticket_id=None,
                    target="slack",
                    action="recipe_message",
                    payload={
                        "ticket_id": None,
                        "where": where,
                        "channel": target,
                        "thread_ts": event.ts,
                        "text": text,
                        "recipe": decision.recipe,
                        "private": channel.is_private,
                    },
                    key=f"message:{channel.id}:{event.ts}:recipe:{n}",
                )

    def _channel(self, channel_id: str) -> ChannelInfo | None:
        with self._lock:
            cached = self._channels.get(channel_id)
        if cached is not None and self.clock() - cached[1] < CHANNEL_TTL:
            return cached[0]
        info = self.chat.channel(channel_id)
        with self._lock:
            self._channels[channel_id] = (info, self.clock())
        return info
