"""A line console for a running sandbox: act as its people, one command a line, and see what
happens in the fake Slack and Jira.

::

    say alice #help My laptop will not connect to the VPN
    react bob 1 ticket
    reply alice 1 From home today
    show #it-triage
    jira-comment carol IT-1 Which office are you in?
    jira-move carol IT-1 In Progress

Every message that appears in the workspace, the people's and the app's, is printed with a
number (``[3] deskhand in #it-triage: …``) that ``react`` and ``reply`` take; edits,
deletions, reactions and Jira's changes are printed as they happen. The console knows nothing
of the app under test: it only uses the sandbox's drivers.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.jira.driver import JiraDriver
from sandbox.jira.errors import JiraError
from sandbox.jira.model import Comment, History, Issue
from sandbox.jira.model import User as JiraUser
from sandbox.slack.driver import Person
from sandbox.slack.errors import SlackError
from sandbox.slack.state import Channel, Message
from sandbox.world import SandboxWorld

HELP = """\
Commands (one a line; USER is a sandbox person, N a message's [number]):
  say USER #CHANNEL TEXT        post a message
  reply USER N TEXT             reply in the thread of message N
  react USER N [EMOJI]          add a reaction (default: ticket)
  show #CHANNEL                 list a channel's messages and their threads
  jira-comment USER KEY TEXT    comment on a Jira issue (agents only)
  jira-move USER KEY STATUS     move a Jira issue, e.g. jira-move carol IT-1 In Progress
  help                          this list
  quit                          stop the sandbox"""

_MENTION = re.compile(r"<@(\w+)>")
_CHANNEL_LINK = re.compile(r"<#\w+\|([^>]*)>")
_LINK = re.compile(r"<([^|>]+)\|([^>]*)>")


class UsageError(Exception):
    """A command the console does not understand, or whose arguments are missing."""


class SandboxConsole:
    """Turns command lines into the drivers' actions, and changes into printed lines.

    ``write`` receives each output line; it is called from whichever thread made the change
    (the console's, or the fakes' request threads when the app acts).
    """

    def __init__(self, world: SandboxWorld, write: Callable[[str], None]) -> None:
        self.world = world
        self.write = write
        self._numbers: dict[tuple[str, str], int] = {}
        self._messages: list[Message] = []
        self._lock = threading.Lock()
        world.slack.workspace.subscribe(self._on_slack_event)
        world.jira.subscribe(self._on_jira_change)

    # commands -------------------------------------------------------------------------------

    def handle(self, line: str) -> bool:
        """Carry out one command line; False once the console is asked to quit."""
        words = line.split(maxsplit=1)
        if not words:
            return True
        verb, rest = words[0].lower(), (words[1] if len(words) > 1 else "")
        if verb in ("quit", "exit"):
            return False
        try:
            self._dispatch(verb, rest)
        except UsageError as exc:
            self.write(f"usage: {exc}")
        except SlackError as exc:
            self.write(f"error: Slack says {exc.code}")
        except JiraError as exc:
            self.write(f"error: Jira says {'; '.join(exc.messages + list(exc.errors.values()))}")
        except (LookupError, PermissionError) as exc:
            self.write(f"error: {exc.args[0] if exc.args else exc}")
        except Exception as exc:  # a console reports anything else, and reads the next line
            self.write(f"error: {type(exc).__name__}: {exc}")
        return True

    def _dispatch(self, verb: str, rest: str) -> None:
        if verb == "help":
            self.write(HELP)
        elif verb == "say":
            user, channel, text = _words(rest, 3, "say USER #CHANNEL TEXT")
            self._person(user).post(channel, text)
        elif verb == "reply":
            user, number, text = _words(rest, 3, "reply USER N TEXT")
            self._person(user).reply(self._message(number), text)
        elif verb == "react":
            parts = rest.split()
            if len(parts) not in (2, 3):
                raise UsageError("react USER N [EMOJI]")
            emoji = parts[2].strip(":") if len(parts) == 3 else "ticket"
            self._person(parts[0]).react(self._message(parts[1]), emoji)
        elif verb == "show":
            (channel,) = _words(rest, 1, "show #CHANNEL")
            self._show(channel)
        elif verb == "jira-comment":
            user, key, text = _words(rest, 3, "jira-comment USER KEY TEXT")
            self._jira(user).comment(key.upper(), text)
        elif verb == "jira-move":
            user, key, status = _words(rest, 3, "jira-move USER KEY STATUS")
            self._jira(user).transition(key.upper(), status)
        else:
            raise UsageError(f"no command {verb!r}; type help for the list")

    def _person(self, name: str) -> Person:
        workspace = self.world.slack.workspace
        if workspace.find_user(name) is None or name == workspace.bot.name:
            people = ", ".join(u.name for u in workspace.users.values() if not u.is_bot)
            raise LookupError(f"no sandbox user {name!r}; the people are {people}")
        return self.world.slack.driver.user(name)

    def _message(self, number: str) -> Message:
        with self._lock:
            if not number.isdigit() or not 0 < int(number) <= len(self._messages):
                raise LookupError(f"no message [{number}]; show #CHANNEL lists the numbers")
            message = self._messages[int(number) - 1]
        if (message.channel, message.ts) not in self.world.slack.workspace.messages:
            raise LookupError(f"message [{number}] was deleted")
        return message

    def _jira(self, name: str) -> JiraDriver:
        if name not in self.world.jira.state.users:
            raise LookupError(f"no Jira user {name!r}; the agents are in Jira, requesters not")
        return JiraDriver(self.world.jira).user(name)

    def _show(self, channel: str) -> None:
        slack = self.world.slack.driver
        messages = slack.messages(channel)
        if not messages:
            self.write(f"{channel}: no messages")
        for message in messages:
            for item in slack.thread(message) if message.thread_ts else [message]:
                self.write(self._describe(item, self._number(item)))

    # what happens ---------------------------------------------------------------------------

    def _on_slack_event(self, event: dict[str, Any]) -> None:
        """A workspace listener, called with the workspace's lock held."""
        kind, subtype = event.get("type"), event.get("subtype")
        channel = str(event.get("channel", ""))
        if kind == "message" and subtype in (None, "file_share", "thread_broadcast"):
            message = self.world.slack.workspace.messages.get((channel, str(event["ts"])))
            if message is not None:
                self.write(self._describe(message, self._number(message)))
        elif kind == "message" and subtype == "message_changed":
            message = self.world.slack.workspace.messages.get(
                (channel, str(event["message"]["ts"]))
            )
            if message is not None:
                editor = self._user_name((message.edited or {}).get("user", message.user))
                text = self._content(message)
                self.write(f"[{self._number(message)}] edited by {editor}: {text}")
        elif kind == "message" and subtype == "message_deleted":
            number = self._numbers.get((channel, str(event["deleted_ts"])))
            self.write(f"[{number}] deleted" if number else "a message was deleted")
        elif kind in ("reaction_added", "reaction_removed"):
            item = event["item"]
            number = self._numbers.get((str(item["channel"]), str(item["ts"])))
            verb = "reacted" if kind == "reaction_added" else "took back"
            who = self._user_name(str(event["user"]))
            self.write(f"{who} {verb} :{event['reaction']}: on [{number}]")

    def _on_jira_change(self, event: str, issue: Issue, extra: Mapping[str, Any]) -> None:
        user = extra.get("user")
        actor = user.name if isinstance(user, JiraUser) else "someone"
        comment = extra.get("comment")
        if event == "jira:issue_created":
            self.write(f"jira: {issue.key} created by {actor}: {issue.summary}")
        elif event == "comment_created" and isinstance(comment, Comment):
            self.write(f"jira: {issue.key} comment by {actor}: {_one_line(comment.body)}")
        elif event == "jira:issue_updated" and isinstance(extra.get("changelog"), History):
            for item in extra["changelog"].items:
                before, after = item.from_string or "-", item.to_string or "-"
                self.write(f"jira: {issue.key} {item.field} {before} -> {after} by {actor}")

    def _number(self, message: Message) -> int:
        with self._lock:
            key = (message.channel, message.ts)
            if key not in self._numbers:
                self._messages.append(message)
                self._numbers[key] = len(self._messages)
            return self._numbers[key]

    def _describe(self, message: Message, number: int) -> str:
        where = self._where(self.world.slack.workspace.channels[message.channel])
        if message.is_reply and message.thread_ts is not None:
            parent = self._numbers.get((message.channel, message.thread_ts))
            where += f", thread of [{parent}]"
        author = self._user_name(message.user)
        return f"[{number}] {author} in {where}: {self._content(message)}"

    def _content(self, message: Message) -> str:
        """The text, and the notes of any context blocks (where cards show their state)."""
        notes = [
            element.get("text", "")
            for block in message.blocks
            if block.get("type") == "context"
            for element in block.get("elements", [])
            if isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text")
        ]
        context = f" ({' · '.join(notes)})" if notes else ""
        return self._readable(message.text + context)

    def _where(self, channel: Channel) -> str:
        if channel.is_im:
            people = sorted(self._user_name(member) for member in channel.members)
            return "DM " + "/".join(people)
        return f"#{channel.name}"

    def _user_name(self, user_id: str) -> str:
        user = self.world.slack.workspace.users.get(user_id)
        return user.name if user is not None else user_id

    def _readable(self, text: str) -> str:
        """Slack's markup as a person reads it: names for mentions, labels for links."""
        text = _MENTION.sub(lambda m: "@" + self._user_name(m.group(1)), text)
        text = _CHANNEL_LINK.sub(lambda m: "#" + m.group(1), text)
        return _one_line(_LINK.sub(lambda m: m.group(2), text))


def _words(rest: str, count: int, usage: str) -> list[str]:
    """The first ``count - 1`` words and the remainder, all of them present."""
    parts = rest.split(maxsplit=count - 1)
    if len(parts) < count:
        raise UsageError(usage)
    return parts


def _one_line(text: str) -> str:
    return " / ".join(line.strip() for line in text.splitlines() if line.strip())
