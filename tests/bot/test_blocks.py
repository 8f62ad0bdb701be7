"""bot.blocks: the two cards, with ordinary and hostile tickets, within Slack's limits."""

from __future__ import annotations

import re

import pytest
from slack_sdk import WebClient

from bot import text as t
from bot.blocks import BlockLimitError, assert_within_limits, limit_problems, ticket_card
from bot.blocks import triage_card as _triage_card
from bot.ids import (
    Action,
    Card,
    card_metadata,
    parse_card_metadata,
    parse_ticket_block_id,
    parse_ticket_value,
)
from deskhand.domain import IntakeKind, Priority, TicketStatus
from deskhand.tickets.views import TicketView
from sandbox.slack.blocks import block_problems
from sandbox.slack.fake import SlackFake
from tests.bot.views import (
    AGENT,
    JIRA_URL,
    PERMALINK,
    REQUESTER,
    TEAMS,
    Block,
    elements,
    hostile_view,
    make_view,
    mrkdwn_texts,
    walk,
)


def triage_card(view: TicketView, agents_hint: str | None = None) -> tuple[str, list[Block]]:
    return _triage_card(view, teams=TEAMS, agents_hint=agents_hint)


def assert_nothing_pings(view: TicketView, text: str, blocks: list[Block]) -> None:
    """Only Deskhand's own constructs may use <…>: the people's mentions and known links."""
    ours = {f"<@{REQUESTER}>", f"<@{AGENT}>"}
    allowed_links = re.compile(rf"<(?:{re.escape(PERMALINK)}|{re.escape(JIRA_URL)})\|[^<>]*>")
    for piece in [text, *mrkdwn_texts(blocks)]:
        rest = allowed_links.sub("", piece)
        for mention in ours:
            rest = rest.replace(mention, "")
        assert "<" not in rest, piece
        assert ">" not in rest.replace("\n>", "\n").removeprefix(">"), piece
        assert not re.search(r"@(here|channel|everyone)\b", rest, re.IGNORECASE), piece
    for node in walk(blocks):
        if "text" in node and isinstance(node["text"], str) and "<" in node["text"]:
            assert node["type"] == "mrkdwn"  # plain_text never parses mentions, but check


def assert_valid(blocks: list[Block]) -> None:
    assert block_problems(blocks, surface="message") == []
    assert limit_problems(blocks) == []
    assert_within_limits(blocks)


def test_ticket_card_for_an_open_ticket() -> None:
    text, blocks = ticket_card(make_view())
    assert text == "Ticket IT-12 opened: VPN is down"
    assert blocks[0]["text"]["text"] == "*IT-12* · VPN is down"
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert fields == [
        "*Status*\nOpen",
        "*Team*\nIT",
        "*Assignee*\n_Unassigned_",
        "*Priority*\nNormal",
    ]
    actions = elements(blocks)
    assert set(actions) == {Action.CLOSE_TICKET}
    assert actions[Action.CLOSE_TICKET]["value"] == "12"
    assert "confirm" in actions[Action.CLOSE_TICKET]
    assert_valid(blocks)


def test_ticket_card_links_jira_and_mentions_the_assignee() -> None:
    view = make_view(
        status=TicketStatus.IN_PROGRESS, assignee=AGENT, jira_key="IT-12", jira_url=JIRA_URL
    )
    text, blocks = ticket_card(view)
    assert text == "Ticket IT-12 is in progress: VPN is down"
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert f"*Assignee*\n<@{AGENT}>" in fields
    assert f"*Jira*\n<{JIRA_URL}|IT-12>" in fields
    assert_valid(blocks)


@pytest.mark.parametrize("status", [TicketStatus.RESOLVED, TicketStatus.CLOSED])
def test_ticket_card_offers_reopen_once_done(status: TicketStatus) -> None:
    _, blocks = ticket_card(make_view(status=status))
    assert set(elements(blocks)) == {Action.REOPEN_TICKET}
    assert elements(blocks)[Action.REOPEN_TICKET]["value"] == "12"


def test_ticket_card_with_hostile_data_is_literal_and_valid() -> None:
    view = hostile_view(title="<!channel> " + "x" * 5000)
    text, blocks = ticket_card(view)
    assert blocks[0]["text"]["text"].startswith("*IT-12* · &lt;!channel&gt; xxx")
    assert len(text) <= t.ADVISED_TEXT
    assert_nothing_pings(view, text, blocks)
    assert_valid(blocks)


def test_triage_card_for_a_new_ticket() -> None:
    view = make_view()
    text, blocks = triage_card(view, agents_hint="Agents: members of #it-triage")
    assert text == "New ticket IT-12: VPN is down"
    headline = blocks[0]["text"]["text"]
    assert headline == (
        f"*IT-12* · VPN is down\nFrom <@{REQUESTER}> · Network · <{PERMALINK}|original message>"
    )
    assert blocks[1]["text"]["text"] == (
        ">Since this morning the VPN drops every 5 minutes.\n>On Wi-Fi &amp; cable."
    )
    assert [f["text"] for f in blocks[2]["fields"]] == ["*Office*\nBerlin", "*Device*\nLaptop"]
    context = [e["text"] for e in blocks[3]["elements"]]
    assert context == ["Open · Normal · L1 · _Unassigned_ · IT", "Agents: members of #it-triage"]
    actions = elements(blocks)
    assert set(actions) == {
        "claim",
        "assign",
        "escalate",
        "set_status",
        "set_priority",
        "move_team",
    }
    assert "initial_user" not in actions[Action.ASSIGN]
    assert actions[Action.SET_STATUS]["initial_option"]["value"] == "open"
    assert actions[Action.SET_PRIORITY]["initial_option"]["value"] == "normal"
    statuses = [o["value"] for o in actions[Action.SET_STATUS]["options"]]
    assert statuses == [s.value for s in TicketStatus]
    teams = [o["value"] for o in actions[Action.MOVE_TEAM]["options"]]
    assert teams == ["HR", "Facilities"]
    assert_valid(blocks)


def test_every_control_names_its_ticket() -> None:
    _, blocks = triage_card(hostile_view(level=2))
    for block in blocks:
        assert parse_ticket_block_id(block["block_id"]) is not None
        for element in block.get("elements", []):
            if element.get("type") == "button":
                assert parse_ticket_value(element["value"]) == 12
            if "action_id" in element:
                assert parse_ticket_block_id(block["block_id"]) == (12, block["block_id"][12:])


@pytest.mark.parametrize(
    ("level", "present", "absent"),
    [
        (1, {Action.ESCALATE}, {Action.DEESCALATE}),
        (2, {Action.ESCALATE, Action.DEESCALATE}, set()),
        (3, {Action.DEESCALATE}, {Action.ESCALATE}),
    ],
)
def test_level_buttons_follow_the_level(
    level: int, present: set[Action], absent: set[Action]
) -> None:
    actions = elements(triage_card(make_view(level=level))[1])
    assert present <= set(actions)
    assert not absent & set(actions)


def test_assigned_ticket_in_jira_with_a_status_and_priority() -> None:
    view = make_view(
        assignee=AGENT,
        jira_key="IT-12",
        jira_url=JIRA_URL,
        status=TicketStatus.WAITING_ON_REQUESTER,
        priority=Priority.URGENT,
        routed_by="Routed to IT by `it-keywords`: matched 'vpn'",
    )
    _, blocks = triage_card(view)
    actions = elements(blocks)
    assert actions[Action.ASSIGN]["initial_user"] == AGENT
    assert actions[Action.OPEN_IN_JIRA]["url"] == JIRA_URL
    assert actions[Action.SET_STATUS]["initial_option"] == {
        "text": {"type": "plain_text", "text": "Waiting on requester", "emoji": True},
        "value": "waiting_on_requester",
    }
    assert actions[Action.SET_PRIORITY]["initial_option"]["value"] == "urgent"
    context = [e["text"] for e in blocks[3]["elements"]]
    assert context[0] == f"Waiting on requester · Urgent · L1 · <@{AGENT}> · IT"
    assert context[1] == "Routed to IT by `it-keywords`: matched 'vpn'"
    assert_valid(blocks)


def test_no_move_select_when_there_is_no_other_team() -> None:
    _, blocks = _triage_card(make_view(), teams=["IT"])
    assert Action.MOVE_TEAM not in elements(blocks)
    assert Action.OPEN_IN_JIRA not in elements(blocks)
    assert_valid(blocks)


def test_triage_card_with_hostile_data_is_literal_truncated_and_valid() -> None:
    view = hostile_view()
    text, blocks = triage_card(view, agents_hint="<!here> on call: @here")
    assert_nothing_pings(view, text, blocks)
    assert text.startswith("New ticket IT-12: &lt;!channel&gt;")
    description = blocks[1]["text"]["text"]
    assert description.startswith(">&lt;!subteam^S123&gt; &lt;https://evil|ok&gt; @\u2060every")
    assert description.endswith(f"… <{PERMALINK}|more>")
    assert len(description) <= t.SECTION_TEXT
    form = [b for b in blocks if b["block_id"].startswith("deskhand:12:form_")]
    assert [len(b["fields"]) for b in form] == [10, 2]  # all 12 answers, 10 per section
    assert all(len(f["text"]) <= t.SECTION_FIELD for b in form for f in b["fields"])
    assert form[0]["fields"][0]["text"].startswith("*Field &lt;!here&gt; 0*\n&lt;@U123&gt;")
    assert_valid(blocks)


def test_many_form_answers_are_counted_beyond_three_sections() -> None:
    fields = {f"Q{n}": f"A{n}" for n in range(35)}
    _, blocks = triage_card(make_view(fields=fields))
    form = [b for b in blocks if b["block_id"].startswith("deskhand:12:form_")]
    assert [len(b["fields"]) for b in form] == [10, 10, 10]
    assert blocks[-4]["text"]["text"] == "_…and 5 more form answers._"
    assert_valid(blocks)


def test_private_origin_shows_a_stub_and_a_link_only() -> None:
    view = hostile_view(private_origin=True, origin_kind=IntakeKind.DM)
    text, blocks = triage_card(view)
    assert text == "New ticket IT-12: _Request from a private conversation_"
    assert blocks[0]["text"]["text"].startswith("*IT-12* · _Request from a private conversation_")
    assert blocks[1]["text"]["text"] == (
        "_The text stays in the conversation the request came from._ "
        f"<{PERMALINK}|Open it>\n_12 form answer(s) hidden._"
    )
    everything = " ".join([text, *mrkdwn_texts(blocks)])
    for secret in ("everything is broken", "subteam", "evil", "value 0", "Field"):
        assert secret not in everything
    assert_nothing_pings(view, text, blocks)
    assert_valid(blocks)


def test_the_limit_checker_catches_what_slack_refuses() -> None:
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    assert limit_problems(too_long) == ["/blocks/0/text: longer than 3000"]
    with pytest.raises(BlockLimitError):
        assert_within_limits([{"type": "divider"}] * 51)
    assert block_problems(too_long, surface="message") != []


def test_both_cards_are_accepted_by_chat_post_message() -> None:
    with SlackFake(rate_limits=False) as fake:
        ws = fake.workspace
        channel = ws.add_channel("it-triage", private=True, members=[ws.bot])
        client = WebClient(base_url=fake.api_url, token=fake.bot_token)
        views = [make_view(), hostile_view(level=2), hostile_view(private_origin=True)]
        posted = 0
        for view in views:
            cards = [
                (Card.TICKET, *ticket_card(view)),
                (Card.TRIAGE, *triage_card(view, agents_hint="<!here>")),
            ]
            for card, text, blocks in cards:
                metadata = card_metadata(view.key, card, f"{card}-{posted}")
                response = client.chat_postMessage(
                    channel=channel.id, text=text, blocks=blocks, metadata=metadata
                )
                assert response["ok"]
                posted += 1
                stored = ws.get_message(channel.id, response["ts"])
                assert stored.blocks == blocks
                assert parse_card_metadata(stored.metadata) == (
                    view.key,
                    card,
                    f"{card}-{posted - 1}",
                )
        assert len(ws.history(channel.id)) == posted == 6
