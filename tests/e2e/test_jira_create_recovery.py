"""ACCEPTANCE 5: the process dies after Jira created the issue but before the link was
committed; the row is taken up again after its lease and finds the issue by its label."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from deskhand.domain import IntakeKind
from deskhand.tickets.service import NewTicket
from deskhand.tracker import IssueRef
from deskhand.wiring import build
from sandbox.world import SandboxWorld
from storage.models import OutboxRow
from storage.types import utcnow
from tests.e2e.conftest import config_for
from tests.e2e.test_jira_issue import JIRA_CONFIG


@pytest.fixture(params=["cloud", "server"])
def jira_flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler sees it."""


class DiesAfterCreating:
    def __init__(self, tracker: Any) -> None:
        self.tracker = tracker

    def create_issue(self, *args: Any) -> IssueRef:
        self.tracker.create_issue(*args)
        raise Killed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tracker, name)


def test_a_create_whose_link_was_never_committed_is_found_by_its_label(
    sandbox_world: SandboxWorld, database_url: str
) -> None:
    world = sandbox_world
    deskhand = build(
        config_for(world, JIRA_CONFIG),
        bot_token=world.slack.bot_token,
        signing_secret=None,
        database_url=database_url,
        jira_token=world.jira.api_token,
    )
    alice = world.slack.workspace.find_user("alice")
    assert alice is not None
    created = deskhand.tickets.create(
        NewTicket(
            team="IT",
            requester=alice.id,
            text="VPN is down",
            origin_kind=IntakeKind.COMMAND,
            actor=alice.id,
            ref="view-1",
        )
    )
    issues = deskhand.relay.executors["create_jira_issue"].__self__  # type: ignore[attr-defined]
    tracker = issues.tracker
    issues.tracker = DiesAfterCreating(tracker)
    try:
        while True:
            deskhand.relay.run_once()  # the cards go out; then the create dies mid-way
    except Killed:
        pass
    assert len(world.jira.state.issues) == 1
    assert deskhand.tickets.get(created.ticket_id).jira_key is None

    issues.tracker = tracker  # "restarted"; the dead owner's lease runs out
    with Session(deskhand.relay.engine) as session, session.begin():
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.status == "claimed")
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )
    while deskhand.relay.run_once():
        pass
    ticket = deskhand.tickets.get(created.ticket_id)
    assert list(world.jira.state.issues) == [ticket.jira_key]
    creates = [r for r in world.jira.requests if r.route == "POST /issue"]
    assert len(creates) == 1
