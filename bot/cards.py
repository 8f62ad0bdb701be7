"""Outbox executors that bring a ticket's two cards up to date in Slack.

Cards are rendered from the ticket's state when the row runs, so several changes in a row
end in one current card. A first post that may have happened already (the row's earlier
attempt timed out) is looked up by its tag before posting again.

The rows queued behind the first of such a run render the same card again. ``chat.update``
is one of Slack's slower tiers, so an update that would show what Slack last confirmed for the
message (its text and blocks; the metadata's tag differs per row) is not sent. What Slack
confirmed is remembered as a digest on the card's link, in the database (replicas share it and
it outlives restarts): written only once Slack confirmed the post or update, and cleared
before an update is sent, so a failed or timed-out update leaves nothing to trust and the next
row sends again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from typing import Any

from bot import blocks
from bot.ids import Card, card_metadata
from deskhand.agents import AgentDirectory
from deskhand.config import Config
from deskhand.outbox import OutboxTask
from deskhand.ports import ChatPort, PortError, RateLimitedError
from deskhand.tickets.service import TicketService
from deskhand.tickets.views import TicketView

log = logging.getLogger(__name__)


class CardSync:
    def __init__(
        self, chat: ChatPort, tickets: TicketService, config: Config, agents: AgentDirectory
    ) -> None:
        self.chat = chat
        self.tickets = tickets
        self.config = config
        self.agents = agents

    def ticket_card(self, task: OutboxTask) -> dict[str, Any]:
        ticket_id = int(task.payload["ticket_id"])
        ticket = self.tickets.get(ticket_id)
        if ticket.thread_channel is None or ticket.thread_ts is None:
            return {"skipped": "the ticket has no thread"}
        text, card = blocks.ticket_card(self._view(ticket_id))
        return self._sync(
            task, Card.TICKET, ticket.key, ticket.thread_channel, ticket.thread_ts, text, card
        )

    def triage_card(self, task: OutboxTask) -> dict[str, Any]:
        ticket_id = int(task.payload["ticket_id"])
        ticket = self.tickets.get(ticket_id)
        channel = self.agents.triage_channel_id(ticket.team)
        if channel is None:
            team = self.config.team(ticket.team)
            raise LookupError(f"the bot cannot see #{team.triage_channel}; invite it there")
        teams = [team.name for team in self.config.teams]
        text, card = blocks.triage_card(self._view(ticket_id), teams=teams)
        return self._sync(task, Card.TRIAGE, ticket.key, channel, None, text, card)

    def _say_queued(self, ticket_id: int, channel: str, key: str) -> None:
        """Under a storm the card waits its turn; tell the requester rather than fall silent.
        Ephemeral messages are not paced like posts, so this one gets through."""
        requester = self.tickets.get(ticket_id).requester
        try:
            self.chat.post_ephemeral(
                channel, requester, f"Got it: {key} is queued and its card will appear here soon."
            )
        except PortError as exc:
            log.info("could not tell %s that %s is queued: %s", requester, key, exc)

    def _view(self, ticket_id: int) -> TicketView:
        view = self.tickets.view(ticket_id)
        ticket = self.tickets.get(ticket_id)
        link = None
        if ticket.origin_channel and ticket.origin_ts:
            link = self.chat.permalink(ticket.origin_channel, ticket.origin_ts)
        jira_url = None
        if view.jira_key and self.config.jira is not None:
            jira_url = f"{self.config.jira.url.rstrip('/')}/browse/{view.jira_key}"
        return dataclasses.replace(view, origin_permalink=link, jira_url=jira_url)

    def _sync(
        self,
        task: OutboxTask,
        card: Card,
        key: str,
        channel: str,
        thread_ts: str | None,
        text: str,
        content: list[dict[str, Any]],
    ) -> dict[str, Any]:
        ticket_id = int(task.payload["ticket_id"])
        metadata = card_metadata(key, card.value, task.tag)
        digest = content_digest(text, content)
        posted = self.tickets.posted_card(ticket_id, card.value)
        if posted is not None:
            # After an unknown outcome, resend rather than trust what is remembered.
            if posted.digest == digest and not task.maybe_done:
                return {"unchanged": posted.ts}
            if posted.digest is not None:
                self.tickets.record_card_content(
                    ticket_id, card.value, posted.channel, posted.ts, None
                )
            self.chat.update(posted.channel, posted.ts, text, blocks=content, metadata=metadata)
            self.tickets.record_card_content(
                ticket_id, card.value, posted.channel, posted.ts, digest
            )
            return {"updated": posted.ts}
        ts = self.chat.find_tagged(channel, thread_ts, task.tag) if task.maybe_done else None
        found = ts is not None
        if ts is None:
            try:
                ts = self.chat.post(
                    channel, text, blocks=content, thread_ts=thread_ts, metadata=metadata
                )
            except RateLimitedError:
                if card is Card.TICKET and task.attempts == 1:
                    self._say_queued(ticket_id, channel, key)
                raise
        # A card found after a timeout shows what was rendered then, which may not be this.
        confirmed = None if found else digest
        self.tickets.record_card(ticket_id, card.value, channel, ts, digest=confirmed)
        return {"posted": ts, "found_after_unknown_outcome": found}


def content_digest(text: str, content: list[dict[str, Any]]) -> str:
    """A digest of what a message shows (its text and blocks), equal for equal content."""
    canonical = json.dumps(
        {"text": text, "blocks": content},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
