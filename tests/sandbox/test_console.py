"""The sandbox console: command lines act as the sandbox's people, and what happens in the
fake Slack and Jira comes back as numbered lines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from sandbox.console import SandboxConsole
from sandbox.jira import JiraDriver
from sandbox.world import SandboxWorld


@pytest.fixture
def world() -> Iterator[SandboxWorld]:
    with SandboxWorld() as started:
        yield started


@pytest.fixture
def lines() -> list[str]:
    return []


@pytest.fixture
def console(world: SandboxWorld, lines: list[str]) -> SandboxConsole:
    return SandboxConsole(world, lines.append)


def run(console: SandboxConsole, lines: list[str], command: str) -> list[str]:
    """What one command printed."""
    before = len(lines)
    assert console.handle(command) is True
    return lines[before:]


def test_say_posts_as_the_person_and_numbers_the_message(
    world: SandboxWorld, console: SandboxConsole, lines: list[str]
) -> None:
    assert run(console, lines, "say alice #help My VPN is down, can't work") == [
        "[1] alice in #help: My VPN is down, can't work"
    ]
    [message] = world.slack.driver.messages("#help")
    assert message.text == "My VPN is down, can't work"
    assert world.slack.workspace.users[message.user].name == "alice"


def test_react_and_reply_take_the_number(
    world: SandboxWorld, console: SandboxConsole, lines: list[str]
) -> None:
    run(console, lines, "say alice #help Printer jammed")
    assert run(console, lines, "react bob 1") == ["bob reacted :ticket: on [1]"]
    assert run(console, lines, "react carol 1 :eyes:") == ["carol reacted :eyes: on [1]"]
    assert run(console, lines, "reply alice 1 Floor 2") == [
        "[2] alice in #help, thread of [1]: Floor 2"
    ]
    [message] = world.slack.driver.messages("#help")
    assert set(message.reactions) == {"ticket", "eyes"}
    assert [reply.text for reply in world.slack.driver.thread(message)[1:]] == ["Floor 2"]


def test_the_apps_posts_and_edits_are_printed_readably(
    world: SandboxWorld, console: SandboxConsole, lines: list[str]
) -> None:
    run(console, lines, "say alice #help Printer jammed")
    alice = world.slack.driver.user("alice").user
    bot = WebClient(base_url=world.slack.api_url, token=world.slack.bot_token)
    channel = world.slack.workspace.find_channel("it-triage")
    assert channel is not None
    posted = bot.chat_postMessage(
        channel=channel.id,
        text=f"*IT-1* from <@{alice.id}> in <#{channel.id}|it-triage>:\n<https://x.test|Open>",
    )
    assert lines[-1] == "[2] deskhand in #it-triage: *IT-1* from @alice in #it-triage: / Open"
    note = {"type": "mrkdwn", "text": f"Open · <@{alice.id}>"}
    state = {"type": "context", "elements": [note]}
    bot.chat_update(channel=channel.id, ts=posted["ts"], text="*IT-1* taken by bob", blocks=[state])
    assert lines[-1] == "[2] edited by deskhand: *IT-1* taken by bob (Open · @alice)"
    bot.chat_delete(channel=channel.id, ts=posted["ts"])
    assert lines[-1] == "[2] deleted"


def test_show_lists_a_channel_with_its_threads(console: SandboxConsole, lines: list[str]) -> None:
    run(console, lines, "say alice #help First")
    run(console, lines, "say dave #help Second")
    run(console, lines, "reply bob 1 Looking")
    assert run(console, lines, "show #help") == [
        "[1] alice in #help: First",
        "[3] bob in #help, thread of [1]: Looking",
        "[2] dave in #help: Second",
    ]
    assert run(console, lines, "show #it-triage") == ["#it-triage: no messages"]


def test_jira_commands_act_as_the_agent_and_changes_are_printed(
    world: SandboxWorld, console: SandboxConsole, lines: list[str]
) -> None:
    JiraDriver(world.jira).create("IT", "[IT-1] Printer jammed")
    assert lines[-1] == "jira: IT-1 created by deskhand: [IT-1] Printer jammed"
    assert run(console, lines, "jira-comment carol it-1 Which floor?") == [
        "jira: IT-1 comment by carol: Which floor?"
    ]
    assert run(console, lines, "jira-move carol IT-1 In Progress") == [
        "jira: IT-1 status To Do -> In Progress by carol"
    ]
    issue = world.jira.state.issue("IT-1")
    assert issue.status == "In Progress"
    assert [(c.author, c.body) for c in issue.comments] == [("carol", "Which floor?")]


PEOPLE = "the people are alice, dave, bob, carol"
NO_ISSUE = "Issue does not exist or you do not have permission to see it."


@pytest.mark.parametrize(
    ("command", "printed"),
    [
        ("say zed #help hi", f"error: no sandbox user 'zed'; {PEOPLE}"),
        ("say deskhand #help hi", f"error: no sandbox user 'deskhand'; {PEOPLE}"),
        ("say alice #nowhere hi", "error: no channel #nowhere"),
        ("say alice #it-triage hi", "error: alice is not in private #it-triage"),
        ("say alice #help", "usage: say USER #CHANNEL TEXT"),
        ("react bob 7", "error: no message [7]; show #CHANNEL lists the numbers"),
        ("react bob one", "error: no message [one]; show #CHANNEL lists the numbers"),
        ("react bob", "usage: react USER N [EMOJI]"),
        ("jira-comment alice IT-1 hi", "error: no Jira user 'alice'; the agents are in Jira, "
         "requesters not"),
        ("jira-move bob IT-9 Done", f"error: Jira says {NO_ISSUE}"),
        ("dance alice", "usage: no command 'dance'; type help for the list"),
    ],
)  # fmt: skip
def test_a_bad_command_prints_one_line_and_the_console_goes_on(
    world: SandboxWorld, console: SandboxConsole, lines: list[str], command: str, printed: str
) -> None:
    assert run(console, lines, command) == [printed]
    assert world.slack.driver.messages("#help") == []
    assert run(console, lines, "say alice #help still here") == ["[1] alice in #help: still here"]


def test_reacting_twice_is_slacks_error(console: SandboxConsole, lines: list[str]) -> None:
    run(console, lines, "say alice #help Printer jammed")
    run(console, lines, "react bob 1")
    assert run(console, lines, "react bob 1 ticket") == ["error: Slack says already_reacted"]


def test_help_blank_lines_and_quit(console: SandboxConsole, lines: list[str]) -> None:
    assert run(console, lines, "") == []
    [listing] = run(console, lines, "help")
    assert all(verb in listing for verb in ("say", "reply", "react", "show", "jira-move"))
    assert console.handle("quit") is False


def test_an_unexpected_failure_is_reported_and_the_console_goes_on(
    world: SandboxWorld, console: SandboxConsole, lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the fake broke")

    monkeypatch.setattr(world.jira.state, "add_comment", broken)
    assert run(console, lines, "jira-comment carol IT-1 hello") == [
        "error: RuntimeError: the fake broke"
    ]
    assert run(console, lines, "say alice #help still here") == ["[1] alice in #help: still here"]
