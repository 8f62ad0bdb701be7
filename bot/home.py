"""The App Home view: a requester's open tickets, and for agents their teams' queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from bot import text as t
from deskhand.agents import AgentDirectory
from deskhand.config import Config
from deskhand.outbox import OutboxTask
from deskhand.ports import ChatPort
from deskhand.tickets.queries import TicketLine, open_requests, team_queue

Block = dict[str, Any]
PRIVATE = "_Request from a private conversation_"


class HomeView:
    def __init__(
        self, chat: ChatPort, engine: Engine, config: Config, agents: AgentDirectory
    ) -> None:
        self.chat = chat
        self.engine = engine
        self.config = config
        self.agents = agents

    def publish(self, task: OutboxTask) -> dict[str, Any]:
        user = str(task.payload["user"])
        teams = [team.name for team in self.config.teams if self.agents.is_agent(user, team.name)]
        view = {"type": "home", "blocks": self.blocks(user, teams)}
        self.chat.publish_home(user, view)
        return {"published_for": user, "agent_of": teams}

    def blocks(self, user: str, teams: list[str]) -> list[Block]:
        mine = open_requests(self.engine, user)
        blocks: list[Block] = [_header("Your open requests")]
        blocks += [_line(line, mine_view=True) for line in mine] or [
            _text("Nothing open. Ask in a help channel, or use the help command.")
        ]
        if teams:
            queue = team_queue(self.engine, teams)
            blocks += [{"type": "divider"}, _header(f"Queue of {', '.join(teams)}"[:150])]
            blocks += [_line(line, mine_view=False) for line in queue] or [
                _text("The queue is empty.")
            ]
        return blocks[: t.BLOCKS_PER_VIEW]


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text[: t.HEADER_TEXT]}}


def _text(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _line(line: TicketLine, *, mine_view: bool) -> Block:
    title = PRIVATE if line.private_origin and not mine_view else t.escape(line.title)
    details = f"{line.status.label} · {line.priority.label}"
    if not mine_view:
        details += f" · {line.team}"
        details += f" · {t.mention(line.assignee)}" if line.assignee else " · unassigned"
    return _text(t.truncate(f"*{line.key}* {title}\n{details}", t.SECTION_TEXT))
