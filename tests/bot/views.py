"""Ticket views and block-tree helpers for the card tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from deskhand.domain import IntakeKind, Priority, TicketStatus
from deskhand.tickets.views import TicketView

REQUESTER, AGENT = "U0REQUEST1", "U0AGENT01"
PERMALINK = "https://acme.slack.com/archives/C0HELP/p1700000000000100"
JIRA_URL = "https://acme.atlassian.net/browse/IT-12"
TEAMS = ["IT", "HR", "Facilities"]
Block = dict[str, Any]


def make_view(**changes: Any) -> TicketView:
    view = TicketView(
        id=12,
        key="IT-12",
        title="VPN is down",
        description="Since this morning the VPN drops every 5 minutes.\nOn Wi-Fi & cable.",
        team="IT",
        status=TicketStatus.OPEN,
        priority=Priority.NORMAL,
        level=1,
        requester=REQUESTER,
        assignee=None,
        service="Network",
        jira_key=None,
        jira_url=None,
        origin_kind=IntakeKind.REACTION,
        origin_permalink=PERMALINK,
        private_origin=False,
        created_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        fields={"Office": "Berlin", "Device": "Laptop"},
    )
    return dataclasses.replace(view, **changes)


def hostile_view(**changes: Any) -> TicketView:
    fields = {f"Field <!here> {n}": f"<@U123> value {n} " + "&" * 900 for n in range(12)}
    hostile: dict[str, Any] = {
        "title": "<!channel> everything is broken @here",
        "description": ("<!subteam^S123> <https://evil|ok> @everyone " * 300)[:10_000],
        "fields": fields,
        "service": "<!everyone>",
        "routed_by": "Routed to IT by `it-keywords`: matched '<!here>'",
        "jira_key": "IT-12",
        "jira_url": JIRA_URL,
        "assignee": AGENT,
    }
    return make_view(**(hostile | changes))


def walk(node: Any) -> Iterator[Block]:
    """Every dict inside a block tree."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def mrkdwn_texts(blocks: list[Block]) -> list[str]:
    return [n["text"] for n in walk(blocks) if n.get("type") == "mrkdwn"]


def elements(blocks: list[Block]) -> dict[str, Block]:
    return {n["action_id"]: n for n in walk(blocks) if "action_id" in n}
