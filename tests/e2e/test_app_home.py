"""App Home: requesters see their open tickets; agents see their team's queue too."""

from __future__ import annotations

from tests.e2e.conftest import Running
from tests.e2e.test_triage_actions import open_ticket


def home_text(running: Running, name: str) -> str:
    person = running.world.slack.driver.user(name)
    person.open_home()
    running.settle()
    view = running.world.slack.driver.home(person)
    assert view is not None
    return str(view.body["blocks"])


def test_requesters_see_their_open_tickets_and_agents_their_queue(running: Running) -> None:
    open_ticket(running, "VPN is down")
    slack = running.world.slack.driver
    other = slack.user("dave").post("#help", "Printer jammed")
    slack.user("bob").react(other, "ticket")
    running.settle()

    alice = home_text(running, "alice")
    assert "IT-1" in alice
    assert "VPN is down" in alice
    assert "IT-2" not in alice
    assert "Queue of" not in alice

    bob = home_text(running, "bob")
    assert "Queue of IT'" in bob  # bob is in #it-triage only
    assert "IT-1" in bob
    assert "IT-2" in bob


def test_closed_tickets_leave_the_home(running: Running) -> None:
    _, triage = open_ticket(running)
    running.world.slack.driver.user("bob").click(triage, "set_status", value="closed")
    running.settle()
    assert "IT-1" not in home_text(running, "alice")
