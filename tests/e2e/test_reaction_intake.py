"""The ticket emoji turns a message into a ticket, once, with its two cards."""

from __future__ import annotations

from tests.e2e.conftest import Running


def test_an_agents_ticket_emoji_makes_a_ticket_with_both_cards(running: Running) -> None:
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", "VPN is down\nsince 9am, from Berlin")
    slack.user("bob").react(question, "ticket")
    running.settle()

    [ticket] = running.tickets()
    assert ticket.key == "IT-1"
    assert ticket.title == "VPN is down"
    assert ticket.requester == slack.user("alice").user.id
    assert ticket.origin_kind == "reaction"

    [question_again, card] = slack.thread(question)
    assert question_again.ts == question.ts
    assert card.user == running.world.slack.workspace.bot.id
    assert "IT-1" in card.text
    assert card.metadata is not None
    assert card.metadata["event_payload"]["ticket"] == "IT-1"

    [triage] = slack.bot_posts("#it-triage")
    assert "IT-1" in triage.text
    assert ticket.triage_ts == triage.ts
    assert slack.bot_posts("#hr-triage") == []


def test_the_emoji_from_someone_who_is_not_an_agent_changes_nothing(running: Running) -> None:
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", "printer on fire")
    slack.user("alice").react(question, "ticket")
    slack.user("dave").react(question, "ticket")
    running.settle()
    assert running.tickets() == []
    assert slack.bot_posts() == []


def test_other_emoji_change_nothing(running: Running) -> None:
    slack = running.world.slack.driver
    question = slack.user("alice").post("#help", "thanks!")
    slack.user("bob").react(question, "tada")
    running.settle()
    assert running.tickets() == []


def test_many_reactions_and_redeliveries_make_one_ticket(running: Running) -> None:
    world = running.world
    ws = world.slack.workspace
    triage = ws.find_channel("it-triage")
    assert triage is not None
    agents = [ws.add_user(f"agent{n}") for n in range(60)]
    triage.members.update(agent.id for agent in agents)
    question = world.slack.driver.user("alice").post("#help", "Wi-Fi down on floor 3")
    for agent in agents:
        ws.react(ws.get_message(question.channel, question.ts), agent, "ticket")
    # Slack may deliver an event again (a retry): the same event_id changes nothing.
    reactions = [e for e in world.slack.router.delivered if e["event"]["type"] == "reaction_added"]
    for envelope in reactions[:10]:
        world.slack.transport().deliver_event(envelope)
    running.settle()
    assert [t.key for t in running.tickets()] == ["IT-1"]
    assert len(world.slack.driver.bot_posts("#it-triage")) == 1
    assert len([m for m in world.slack.driver.thread(question) if m.user == ws.bot.id]) == 1
    # The message is read once: the other reactions find it is a ticket already (each read
    # would spend Slack's tier-3 budget, about 50 a minute, for nothing).
    assert len(world.slack.web.calls_to("reactions.get")) == 1


def test_a_reaction_on_a_reply_takes_the_earlier_replies_along(running: Running) -> None:
    slack = running.world.slack.driver
    alice, bob = slack.user("alice"), slack.user("bob")
    root = alice.post("#help", "Does anyone know the guest Wi-Fi password?")
    first = bob.reply(root, "It changed on Monday")
    ask = alice.reply(root, "I still cannot connect with the new one")
    bob.react(ask, "ticket")
    running.settle()

    [ticket] = running.tickets()
    assert ticket.title == "I still cannot connect with the new one"
    assert ticket.thread_ts == root.ts
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from storage.models import Comment

    with Session(running.deskhand.tickets.engine) as session:
        comments = list(session.scalars(select(Comment).order_by(Comment.id)))
    assert [(c.body, c.slack_ts) for c in comments] == [
        ("Does anyone know the guest Wi-Fi password?", root.ts),
        ("It changed on Monday", first.ts),
    ]
    cards = [m for m in slack.thread(root) if m.user == running.world.slack.workspace.bot.id]
    assert len(cards) == 1


def test_reactions_where_the_bot_is_absent_or_on_deleted_messages_do_nothing(
    running: Running,
) -> None:
    world = running.world
    ws = world.slack.workspace
    ws.add_channel("random", members=[])
    slack = world.slack.driver
    elsewhere = slack.user("alice").post("#random", "lunch?")
    slack.user("bob").react(elsewhere, "ticket")
    gone = slack.user("alice").post("#help", "never mind")
    slack.user("alice").delete(gone)
    # A reaction on a message deleted before Deskhand looked at it: simulate the race by
    # reacting to the stored copy after deletion is not possible in Slack, so react first.
    late = slack.user("alice").post("#help", "oops")
    world.slack.router.hold = lambda envelope: True  # keep the reaction from Deskhand...
    slack.user("bob").react(late, "ticket")
    world.slack.router.hold = None
    slack.user("alice").delete(late)
    held = [e for e in world.slack.router.delivered if e["event"]["type"] == "reaction_added"]
    world.slack.transport().deliver_event(held[-1])  # ...until the message is gone
    running.settle()
    assert running.tickets() == []


def test_a_reaction_on_a_file_is_acknowledged_and_changes_nothing(running: Running) -> None:
    from sandbox.slack.envelopes import event_callback

    world = running.world
    ws = world.slack.workspace
    bob = ws.find_user("bob")
    assert bob is not None
    envelope = event_callback(
        ws,
        {
            "type": "reaction_added",
            "user": bob.id,
            "reaction": "ticket",
            "item": {"type": "file", "file": "F0SCREENSHOT"},
            "event_ts": ws.next_ts(),
        },
    )
    world.slack.transport().deliver_event(envelope)
    running.settle()
    assert running.tickets() == []
    attempts = getattr(world.slack.transport(), "attempts", [])
    outcomes = [a.outcome for a in attempts if a.key == envelope["event_id"]]
    # Acknowledged, never refused: a try is only ever late (Slack's 3 s passed on a loaded
    # machine, and Slack tried again), never answered with an error.
    assert outcomes[-1:] == ["acked"]
    assert set(outcomes) <= {"acked", "timeout", "http_timeout"}
