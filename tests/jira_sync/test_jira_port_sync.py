"""The port's calls the two-way sync needs: who Deskhand is in Jira, people by email, finding
its own comment after an unknown outcome, and the remote link back to Slack."""

from __future__ import annotations

from deskhand.tracker import ticket_label
from jira_sync.jira_port import JiraTrackerPort
from sandbox.jira import JiraDriver, JiraFake


def own_account(fake: JiraFake) -> str:
    return fake.bot.account_id if fake.flavour == "cloud" else fake.bot.name


def test_me_is_the_api_users_account(fake: JiraFake, port: JiraTrackerPort) -> None:
    assert port.me() == own_account(fake)
    asked = len([r for r in fake.requests if r.route and r.route.endswith("/myself")])
    port.me()
    assert len([r for r in fake.requests if r.route and r.route.endswith("/myself")]) == asked


def test_account_for_email_matches_the_whole_address(fake: JiraFake, port: JiraTrackerPort) -> None:
    bob = fake.state.users["bob"]
    expected = bob.account_id if fake.flavour == "cloud" else bob.name
    assert port.account_for_email("BOB@example.com") == expected
    assert port.account_for_email("bo@example.com") is None
    assert port.account_for_email("nobody@example.com") is None


def test_find_comment_finds_only_its_own_with_the_same_body(
    fake: JiraFake, port: JiraTrackerPort
) -> None:
    ref = port.create_issue("IT", "Task", "VPN", "", ["deskhand", ticket_label(1)], {})
    JiraDriver(fake).user("bob").comment(ref.key, "same words")
    assert port.find_comment(ref.key, "same words") is None  # bob's, not ours
    ours = port.add_comment(
        ref.key, "same words", internal=False, service_desk=False, visibility=None
    )
    assert port.find_comment(ref.key, "same words") == ours
    assert port.find_comment(ref.key, "other words") is None


def test_remote_link_is_added_once(fake: JiraFake, port: JiraTrackerPort) -> None:
    ref = port.create_issue("IT", "Task", "VPN", "", ["deskhand"], {})
    port.add_remote_link(ref.key, "https://example.slack.com/archives/C1/p1", "Slack thread")
    port.add_remote_link(ref.key, "https://example.slack.com/archives/C1/p1", "Slack thread")
    links = fake.state.issue(ref.key).remote_links
    assert [(link.object["url"], link.object["title"]) for link in links] == [
        ("https://example.slack.com/archives/C1/p1", "Slack thread")
    ]
