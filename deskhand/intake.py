"""Requests becoming tickets: the handlers of intake events taken from the inbox."""

from __future__ import annotations

import logging

from deskhand.agents import AgentDirectory
from deskhand.config import Config
from deskhand.config.schema import EmojiCreators
from deskhand.domain import IntakeKind
from deskhand.emoji_recipes import EmojiRecipes
from deskhand.events import ReactionAdded
from deskhand.ports import ChannelInfo, ChatMessage, ChatPort
from deskhand.tickets.service import Created, NewTicket, ThreadReply, TicketService

log = logging.getLogger(__name__)


class ReactionIntake:
    """The ticket emoji on a message in a request channel makes that message a ticket."""

    def __init__(
        self,
        config: Config,
        chat: ChatPort,
        agents: AgentDirectory,
        tickets: TicketService,
        *,
        emoji_recipes: EmojiRecipes | None = None,
    ) -> None:
        """``emoji_recipes``: other emoji on a ticket's message or cards set off the
        ``reaction.added`` recipes (e.g. :hr: moves the ticket to HR)."""
        self.config = config
        self.chat = chat
        self.agents = agents
        self.tickets = tickets
        self.emoji_recipes = emoji_recipes

    def handle(self, payload: dict[str, object]) -> None:
        event = ReactionAdded.from_payload(dict(payload))
        if event.emoji != self.config.slack.ticket_emoji:
            if self.emoji_recipes is not None:
                self.emoji_recipes.handle(event, may=self._may_route)
            return
        channel = self.chat.channel(event.channel)
        if channel is None or channel.name not in self._request_channels():
            return
        if self.config.slack.emoji_creators is EmojiCreators.AGENTS and not self.agents.is_agent(
            event.user
        ):
            log.info("%s is not an agent; :%s: ignored", event.user, event.emoji)
            return
        ticket_from_message(
            self.chat,
            self.tickets,
            team=self._team_for(channel.name),
            channel=channel,
            ts=event.ts,
            actor=event.user,
            kind=IntakeKind.REACTION,
        )

    def _may_route(self, user: str, team: str) -> bool:
        """Who may set off a ``reaction.added`` recipe on a ticket: its team's agents, or
        anyone where anyone may create tickets by emoji."""
        if self.config.slack.emoji_creators is EmojiCreators.ANYONE:
            return True
        return self.agents.is_agent(user, team)

    def _request_channels(self) -> set[str]:
        slack = self.config.slack
        return {*slack.request_channels, *slack.auto_ticket_channels}

    def _team_for(self, channel_name: str) -> str:
        return default_team(self.config)


def default_team(config: Config) -> str:
    """Until routing recipes land, every request goes to the first team configured."""
    return config.teams[0].name


def ticket_from_message(
    chat: ChatPort,
    tickets: TicketService,
    *,
    team: str,
    channel: ChannelInfo,
    ts: str,
    actor: str,
    kind: IntakeKind,
) -> Created | None:
    """Make the message at (``channel``, ``ts``) a ticket, once, with its author as requester:
    the emoji, the shortcut, the DM button and auto-ticket channels all come through here.

    None when there is no person's message to ask about (deleted meanwhile, invisible to the
    bot, or a bot's message such as a card).
    """
    known = tickets.for_message(channel.id, ts)
    if known is not None:  # a second :ticket:, a redelivery: no need to read the message again
        return known
    message = chat.message(channel.id, ts)
    if message is None or message.bot_id is not None or message.user is None:
        return None
    root = message.thread_ts if message.is_reply else message.ts
    return tickets.create(
        NewTicket(
            team=team,
            requester=message.user,
            text=message.text,
            origin_kind=kind,
            actor=actor,
            origin_channel=channel.id,
            channel_name=None if channel.is_im else channel.name,
            origin_ts=ts,
            thread_channel=channel.id,
            thread_ts=root,
            private_origin=channel.is_private,
            earlier_replies=_earlier(chat, message) if message.is_reply else [],
            file_links=[_file_link(f) for f in message.files],
        )
    )


def _earlier(chat: ChatPort, message: ChatMessage) -> list[ThreadReply]:
    assert message.thread_ts is not None
    thread = chat.thread(message.channel, message.thread_ts)
    return [
        ThreadReply(user=m.user, text=m.text, ts=m.ts)
        for m in thread
        if float(m.ts) < float(message.ts) and m.bot_id is None and m.user is not None
    ]


def _file_link(file: dict[str, object]) -> str:
    for key in ("permalink", "url_private", "name"):
        value = file.get(key)
        if isinstance(value, str) and value:
            return value
    return str(file.get("id", "file"))
