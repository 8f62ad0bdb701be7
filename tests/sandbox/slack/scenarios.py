"""Every Web API method of the fake, through the real WebClient: successes and main errors.

Each scenario checks every response against the contract as it goes (``Env.ok``/``Env.error``)
and asserts what the fake must have done; the tests check the requests afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.slack.state import TRIGGER_LIFETIME
from tests.sandbox.slack.harness import Env

MISSING_CHANNEL = "C0MISSING"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _modal(title: str, *, with_input: bool = True) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [_section("Tell us what is wrong.")]
    if with_input:
        blocks.append(
            {
                "type": "input",
                "block_id": "summary",
                "label": {"type": "plain_text", "text": "Summary"},
                "element": {"type": "plain_text_input", "action_id": "summary_input"},
            }
        )
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "new_ticket",
        "title": {"type": "plain_text", "text": title},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": '{"channel": "C1"}',
        "blocks": blocks,
    }
    if with_input:
        view["submit"] = {"type": "plain_text", "text": "Create"}
    return view


def auth_and_team(env: Env) -> None:
    body = env.ok(env.bot.auth_test)
    assert body["user_id"] == env.fake.workspace.bot.id
    assert body["bot_id"] == env.fake.workspace.bot.bot_id
    # For a wrong token (invalid_auth) see test_a_wrong_bearer_token_is_invalid_auth.
    env.error("not_authed", env.client(None).auth_test)

    team = env.ok(env.bot.team_info)["team"]
    assert team["id"] == env.fake.workspace.team_id
    env.error("not_authed", env.client(None).team_info)


def post_message(env: Env) -> None:
    channel = env.support.id
    posted = env.ok(env.bot.chat_postMessage, channel=channel, text="Hello *team*")
    assert posted["channel"] == channel
    assert posted["message"]["text"] == "Hello *team*"

    blocks = [
        _section("A ticket"),
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Take it"},
                    "action_id": "take",
                    "value": "T-1",
                }
            ],
        },
    ]
    with_blocks = env.ok(env.bot.chat_postMessage, channel=channel, text="A ticket", blocks=blocks)
    assert [b["type"] for b in with_blocks["message"]["blocks"]] == ["section", "actions"]

    reply = env.ok(
        env.bot.chat_postMessage,
        channel=channel,
        text="In the thread",
        thread_ts=posted["ts"],
        metadata={"event_type": "ticket_linked", "event_payload": {"key": "HELP-1"}},
    )
    assert reply["message"]["thread_ts"] == posted["ts"]
    assert reply["message"]["metadata"]["event_payload"] == {"key": "HELP-1"}

    env.error("channel_not_found", env.bot.chat_postMessage, channel=MISSING_CHANNEL, text="x")
    env.error("channel_not_found", env.bot.chat_postMessage, channel=env.secret.id, text="x")
    env.error("not_in_channel", env.bot.chat_postMessage, channel=env.random.id, text="x")
    env.error("msg_too_long", env.bot.chat_postMessage, channel=channel, text="x" * 40_001)
    env.error("no_text", env.bot.chat_postMessage, channel=channel, text="")
    too_many = env.error(
        "invalid_blocks",
        env.bot.chat_postMessage,
        channel=channel,
        text="fallback",
        blocks=[{"type": "divider"}] * 51,
    )
    assert any("/blocks" in message for message in too_many["response_metadata"]["messages"])
    too_long = env.error(
        "invalid_blocks",
        env.bot.chat_postMessage,
        channel=channel,
        text="fallback",
        blocks=[_section("y" * 3001)],
    )
    assert any("/blocks/0/text" in m for m in too_long["response_metadata"]["messages"])
    env.error(
        "invalid_metadata_format",
        env.bot.chat_postMessage,
        channel=channel,
        text="x",
        metadata={"event_type": "no_payload"},
    )
    env.error("not_authed", env.client(None).chat_postMessage, channel=channel, text="x")


def update_and_delete(env: Env) -> None:
    channel = env.support.id
    mine = env.ok(env.bot.chat_postMessage, channel=channel, text="before")
    updated = env.ok(env.bot.chat_update, channel=channel, ts=mine["ts"], text="after")
    assert updated["text"] == "after"
    assert updated["message"]["edited"]["user"] == env.fake.workspace.bot.id
    assert env.fake.workspace.get_message(channel, mine["ts"]).text == "after"

    theirs = env.ok(env.alice_client.chat_postMessage, channel=channel, text="from Alice")
    env.error(
        "cant_update_message", env.bot.chat_update, channel=channel, ts=theirs["ts"], text="x"
    )
    env.error("message_not_found", env.bot.chat_update, channel=channel, ts="1.000001", text="x")
    env.error(
        "msg_too_long", env.bot.chat_update, channel=channel, ts=mine["ts"], text="x" * 40_001
    )
    env.error("channel_not_found", env.bot.chat_update, channel=MISSING_CHANNEL, ts="1.2", text="x")

    env.error("cant_delete_message", env.bot.chat_delete, channel=channel, ts=theirs["ts"])
    deleted = env.ok(env.bot.chat_delete, channel=channel, ts=mine["ts"])
    assert deleted["ts"] == mine["ts"]
    assert (channel, mine["ts"]) not in env.fake.workspace.messages
    env.error("message_not_found", env.bot.chat_delete, channel=channel, ts=mine["ts"])


def ephemeral_and_permalink(env: Env) -> None:
    channel = env.support.id
    body = env.ok(env.bot.chat_postEphemeral, channel=channel, user=env.alice.id, text="psst")
    assert env.fake.workspace.ephemerals[-1]["ts"] == body["message_ts"]
    env.error(
        "user_not_in_channel",
        env.bot.chat_postEphemeral,
        channel=channel,
        user=env.bob.id,
        text="psst",
    )
    env.error("no_text", env.bot.chat_postEphemeral, channel=channel, user=env.alice.id, text="")

    root = env.ok(env.bot.chat_postMessage, channel=channel, text="root")
    reply = env.ok(env.bot.chat_postMessage, channel=channel, text="r", thread_ts=root["ts"])
    link = env.ok(env.bot.chat_getPermalink, channel=channel, message_ts=root["ts"])
    assert link["permalink"].endswith("/p" + root["ts"].replace(".", ""))
    thread_link = env.ok(env.bot.chat_getPermalink, channel=channel, message_ts=reply["ts"])
    assert f"thread_ts={root['ts']}" in thread_link["permalink"]
    env.error("message_not_found", env.bot.chat_getPermalink, channel=channel, message_ts="1.5")
    env.error(
        "channel_not_found", env.bot.chat_getPermalink, channel=MISSING_CHANNEL, message_ts="1.5"
    )


def conversations(env: Env) -> None:
    channel = env.support.id
    info = env.ok(env.bot.conversations_info, channel=channel)["channel"]
    assert info["id"] == channel
    assert info["is_member"] is True
    assert "num_members" not in info
    counted = env.ok(env.bot.conversations_info, channel=channel, include_num_members=True)
    assert counted["channel"]["num_members"] == 2
    env.error("channel_not_found", env.bot.conversations_info, channel=env.secret.id)

    root = env.ok(env.bot.chat_postMessage, channel=channel, text="root")
    for text in ("one", "two", "three"):
        env.ok(env.alice_client.chat_postMessage, channel=channel, text=text, thread_ts=root["ts"])
    thread = env.ok(env.bot.conversations_replies, channel=channel, ts=root["ts"], limit=2)
    assert [m["text"] for m in thread["messages"]] == ["root", "one"]
    assert thread["has_more"] is True
    rest = env.ok(
        env.bot.conversations_replies,
        channel=channel,
        ts=root["ts"],
        cursor=thread["response_metadata"]["next_cursor"],
    )
    assert [m["text"] for m in rest["messages"]] == ["two", "three"]
    assert thread["messages"][0]["reply_count"] == 3
    env.error("thread_not_found", env.bot.conversations_replies, channel=channel, ts="1.000001")
    env.error("channel_not_found", env.bot.conversations_replies, channel=MISSING_CHANNEL, ts="1.1")

    history = [
        m["text"] for m in env.ok(env.bot.conversations_history, channel=channel)["messages"]
    ]
    assert history[0] == "root"
    assert not {"one", "two", "three"} & set(history)
    env.error("not_in_channel", env.bot.conversations_history, channel=env.random.id)
    env.error("channel_not_found", env.bot.conversations_history, channel=MISSING_CHANNEL)

    listed = env.ok(env.bot.conversations_list, types="public_channel,private_channel", limit=1)
    names = [c["name"] for c in listed["channels"]]
    cursor = listed["response_metadata"]["next_cursor"]
    while cursor:
        page = env.ok(
            env.bot.conversations_list,
            types="public_channel,private_channel",
            limit=1,
            cursor=cursor,
        )
        names += [c["name"] for c in page["channels"]]
        cursor = page["response_metadata"]["next_cursor"]
    # Public channels whether or not the bot is in them; private ones only where it is.
    assert env.support.name in names
    assert env.random.name in names
    assert env.secret.name not in names
    env.error("invalid_types", env.bot.conversations_list, types="rooms")

    members = env.ok(env.bot.conversations_members, channel=channel)["members"]
    assert set(members) == {env.fake.workspace.bot.id, env.alice.id}
    env.error("channel_not_found", env.bot.conversations_members, channel=MISSING_CHANNEL)


def join_and_open(env: Env) -> None:
    joined = env.ok(env.bot.conversations_join, channel=env.random.id)
    assert joined["channel"]["is_member"] is True
    assert env.fake.workspace.bot.id in env.random.members
    again = env.ok(env.bot.conversations_join, channel=env.random.id)
    assert again["warning"] == "already_in_channel"
    env.error("channel_not_found", env.bot.conversations_join, channel=env.secret.id)
    env.fake.workspace.add_channel("old", members=[]).is_archived = True
    old = env.fake.workspace.find_channel("old")
    assert old is not None
    env.error("is_archived", env.bot.conversations_join, channel=old.id)

    opened = env.ok(env.bot.conversations_open, users=env.alice.id)
    dm = opened["channel"]["id"]
    assert dm.startswith("D")
    assert env.ok(env.bot.conversations_open, users=env.alice.id)["channel"]["id"] == dm
    im_info = env.ok(env.bot.conversations_info, channel=dm)["channel"]
    assert im_info["is_im"] is True
    assert im_info["user"] == env.alice.id
    env.error("user_not_found", env.bot.conversations_open, users="U0NOBODY")


def reactions(env: Env) -> None:
    channel = env.support.id
    ts = env.ok(env.alice_client.chat_postMessage, channel=channel, text="help!")["ts"]
    env.ok(env.bot.reactions_add, channel=channel, timestamp=ts, name="eyes")
    env.ok(env.alice_client.reactions_add, channel=channel, timestamp=ts, name="eyes")
    env.error("already_reacted", env.bot.reactions_add, channel=channel, timestamp=ts, name="eyes")
    env.error(
        "message_not_found", env.bot.reactions_add, channel=channel, timestamp="1.1", name="x"
    )
    env.error("invalid_name", env.bot.reactions_add, channel=channel, timestamp=ts, name="a:b")

    got = env.ok(env.bot.reactions_get, channel=channel, timestamp=ts)
    assert got["message"]["reactions"] == [
        {"name": "eyes", "users": [env.fake.workspace.bot.id, env.alice.id], "count": 2}
    ]
    env.error("message_not_found", env.bot.reactions_get, channel=channel, timestamp="1.1")

    env.ok(env.bot.reactions_remove, channel=channel, timestamp=ts, name="eyes")
    assert env.fake.workspace.get_message(channel, ts).reactions == {"eyes": [env.alice.id]}
    env.error("no_reaction", env.bot.reactions_remove, channel=channel, timestamp=ts, name="eyes")


def people(env: Env) -> None:
    user = env.ok(env.bot.users_info, user=env.alice.id)["user"]
    assert user["profile"]["email"] == "alice@example.com"
    bot = env.ok(env.bot.users_info, user=env.fake.workspace.bot.id)["user"]
    assert bot["is_bot"] is True
    env.error("user_not_found", env.bot.users_info, user="U0NOBODY")

    found = env.ok(env.bot.users_lookupByEmail, email="ALICE@example.com")["user"]
    assert found["id"] == env.alice.id
    env.error("users_not_found", env.bot.users_lookupByEmail, email="nobody@example.com")

    listed = env.ok(env.bot.usergroups_users_list, usergroup=env.usergroup)
    assert listed["users"] == [env.alice.id, env.bob.id]
    env.error("no_such_subteam", env.bot.usergroups_users_list, usergroup="S0NOPE")


def modals(env: Env) -> None:
    workspace = env.fake.workspace
    trigger = workspace.issue_trigger(env.alice)
    opened = env.ok(env.bot.views_open, trigger_id=trigger, view=_modal("New ticket"))["view"]
    assert opened["root_view_id"] == opened["id"]
    assert opened["callback_id"] == "new_ticket"
    env.error("expired_trigger_id", env.bot.views_open, trigger_id=trigger, view=_modal("Again"))

    # Slack's 3 s lifetime is real time; shortened to nothing, every trigger comes too late.
    assert workspace.trigger_lifetime == TRIGGER_LIFETIME == 3.0
    workspace.trigger_lifetime = 0.0
    stale = workspace.issue_trigger(env.alice)
    env.error("expired_trigger_id", env.bot.views_open, trigger_id=stale, view=_modal("Late"))
    workspace.trigger_lifetime = TRIGGER_LIFETIME
    env.error(
        "invalid_arguments",
        env.bot.views_open,
        trigger_id=workspace.issue_trigger(env.alice),
        view=_modal("A title far longer than twenty-four characters"),
    )

    pushed = env.ok(
        env.bot.views_push, trigger_id=workspace.issue_trigger(env.alice), view=_modal("Step 2")
    )["view"]
    assert pushed["previous_view_id"] == opened["id"]
    assert pushed["root_view_id"] == opened["id"]
    env.ok(env.bot.views_push, trigger_id=workspace.issue_trigger(env.alice), view=_modal("3"))
    env.error(
        "push_limit_reached",
        env.bot.views_push,
        trigger_id=workspace.issue_trigger(env.alice),
        view=_modal("4"),
    )

    updated = env.ok(
        env.bot.views_update,
        view_id=opened["id"],
        hash=opened["hash"],
        view=_modal("Updated", with_input=False),
    )["view"]
    assert updated["title"]["text"] == "Updated"
    assert updated["hash"] != opened["hash"]
    env.error(
        "hash_conflict",
        env.bot.views_update,
        view_id=opened["id"],
        hash=opened["hash"],
        view=_modal("Stale"),
    )
    env.error("not_found", env.bot.views_update, view_id="V0NOPE", view=_modal("Nope"))


def home(env: Env) -> None:
    view = {"type": "home", "blocks": [_section("Your open tickets: none")]}
    first = env.ok(env.bot.views_publish, user_id=env.alice.id, view=view)["view"]
    assert first["type"] == "home"
    second = env.ok(env.bot.views_publish, user_id=env.alice.id, view=view, hash=first["hash"])
    assert env.fake.workspace.home_views[env.alice.id].id == second["view"]["id"]
    env.error(
        "hash_conflict", env.bot.views_publish, user_id=env.alice.id, view=view, hash=first["hash"]
    )
    unknown = env.error("invalid_arguments", env.bot.views_publish, user_id="U0NOBODY", view=view)
    assert unknown["response_metadata"]["messages"] == ["invalid `user_id`"]


def socket_mode(env: Env) -> None:
    """apps.connections.open: only its error paths until the Socket Mode server exists."""
    env.error("not_allowed_token_type", env.bot.apps_connections_open, app_token=env.fake.bot_token)
    # The app token is right, but no Socket Mode server is running to hand out a URL.
    body = env.error(
        "internal_error",
        env.client(None).apps_connections_open,
        app_token=env.fake.workspace.app_token,
    )
    assert "url" not in body
    env.error("not_allowed_token_type", env.client(env.fake.workspace.app_token).auth_test)


SCENARIOS: dict[str, Callable[[Env], None]] = {
    scenario.__name__: scenario
    for scenario in (
        auth_and_team,
        post_message,
        update_and_delete,
        ephemeral_and_permalink,
        conversations,
        join_and_open,
        reactions,
        people,
        modals,
        home,
        socket_mode,
    )
}
