"""The port on jira820: its own user, people by e-mail, and remote links."""

from __future__ import annotations

from jira_sync.jira_port import JiraTrackerPort
from tests.jira_sync.jira820_site import BOT, Jira820Site, Wire, create

# The fixtures, imported under their own names so pytest finds them here; this ``port``
# (on jira820) overrides the fake's ``port`` of tests/jira_sync/conftest.py.
from tests.jira_sync.jira820_site import port as port
from tests.jira_sync.jira820_site import site as site
from tests.jira_sync.jira820_site import wire as wire

SLACK_THREAD = "https://example.slack.com/archives/C1/p1"


def test_me_is_the_session_user_asked_once(port: JiraTrackerPort, wire: Wire) -> None:
    assert port.me() == BOT
    assert port.me() == BOT
    assert [s.status for s in wire.to("GET", "/myself")] == [200]


def test_gap_user_search_does_not_match_email(
    site: Jira820Site, port: JiraTrackerPort, wire: Wire
) -> None:
    """Gap 4: Jira DC's ``/user/search?username=`` matches "username, name or e-mail address",
    so the port finds bob by ``bob@example.com``; jira820 matches names only and finds no one,
    though bob is there with that address."""
    assert port.account_for_email("BOB@example.com") is None  # Jira: "bob"
    (sent,) = wire.to("GET", "/user/search")
    assert (sent.query["username"], sent.status) == (["BOB@example.com"], 200)
    by_name = site.get("/user/search", username="bob")
    assert [(u["name"], u["emailAddress"]) for u in by_name] == [("bob", "bob@example.com")]


def test_add_remote_link_twice_keeps_one_link(
    site: Jira820Site, port: JiraTrackerPort, wire: Wire
) -> None:
    key = create(port).key
    port.add_remote_link(key, SLACK_THREAD, "Slack thread")
    port.add_remote_link(key, SLACK_THREAD, "Slack thread")
    port.add_remote_link(key, SLACK_THREAD + "0", "Another thread")
    links = site.get(f"/issue/{key}/remotelink")
    assert [(link["object"]["url"], link["object"]["title"]) for link in links] == [
        (SLACK_THREAD, "Slack thread"),
        (SLACK_THREAD + "0", "Another thread"),
    ]
    assert all(link["globalId"].startswith("deskhand:") for link in links)
    assert links[0]["globalId"] != links[1]["globalId"]


def test_gap_remote_link_update_answers_201(port: JiraTrackerPort, wire: Wire) -> None:
    """Gap 9: the second POST with the same ``globalId`` updates the link (as Jira does), but
    jira820 answers 201 Created both times; Jira answers 200 for an update. The port does not
    depend on the status."""
    key = create(port).key
    port.add_remote_link(key, SLACK_THREAD, "Slack thread")
    port.add_remote_link(key, SLACK_THREAD, "Slack thread")
    posts = wire.to("POST", f"/issue/{key}/remotelink")
    assert posts[0].json == posts[1].json
    assert [s.status for s in posts] == [201, 201]  # Jira: [201, 200]
