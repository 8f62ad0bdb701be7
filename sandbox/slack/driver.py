"""Drive the workspace as people would, and read back what happened.

``slack.user("alice").post("#help", "VPN is down")`` posts as Alice (the app hears it through
its transport); ``.react(msg, "ticket")``, ``.command("/helpdesk", "…")``, ``.shortcut(msg, id)``,
``.click(msg, action_id)`` and ``.submit(view, values)`` do what a click in Slack does.
Interactions return the app's :class:`Reply` (the ack), as Slack would see it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.slack import envelopes
from sandbox.slack.api_views import view_object
from sandbox.slack.delivery import Reply
from sandbox.slack.state import Channel, Message, User, View, Workspace

if TYPE_CHECKING:
    from sandbox.slack.fake import SlackFake


class Person:
    def __init__(self, fake: SlackFake, user: User) -> None:
        self.fake = fake
        self.user = user

    @property
    def workspace(self) -> Workspace:
        return self.fake.workspace

    def _channel(self, name_or_id: str) -> Channel:
        channel = self.workspace.find_channel(name_or_id)
        if channel is None:
            raise LookupError(f"no channel {name_or_id}")
        if self.user.id not in channel.members:
            if channel.is_private or channel.is_im:
                raise PermissionError(f"{self.user.name} is not in private {name_or_id}")
            self.workspace.join(channel, self.user)
        return channel

    # messages -------------------------------------------------------------------------------

    def post(
        self, channel: str, text: str, *, files: list[dict[str, Any]] | None = None
    ) -> Message:
        return self.workspace.post(self._channel(channel), self.user, text, files=files)

    def reply(self, message: Message, text: str, *, broadcast: bool = False) -> Message:
        channel = self._channel(message.channel)
        return self.workspace.post(
            channel,
            self.user,
            text,
            thread_ts=message.thread_ts or message.ts,
            reply_broadcast=broadcast,
        )

    def dm_bot(self, text: str) -> Message:
        channel = self.workspace.im_channel(self.user.id, self.workspace.bot.id)
        return self.workspace.post(channel, self.user, text)

    def edit(self, message: Message, text: str) -> Message:
        return self.workspace.update(message, self.user, text=text, blocks=None)

    def delete(self, message: Message) -> None:
        self.workspace.delete(message)

    def react(self, message: Message, name: str = "ticket") -> None:
        self.workspace.react(message, self.user, name)

    def unreact(self, message: Message, name: str = "ticket") -> None:
        self.workspace.unreact(message, self.user, name)

    def open_home(self) -> None:
        self.workspace.emit(
            {
                "type": "app_home_opened",
                "user": self.user.id,
                "channel": self.workspace.im_channel(self.user.id, self.workspace.bot.id).id,
                "tab": "home",
                "event_ts": self.workspace.next_ts(),
            }
        )

    # interactions ---------------------------------------------------------------------------

    def command(self, command: str, text: str = "", *, channel: str = "#help") -> Reply:
        where = self._channel(channel)
        trigger = self.workspace.issue_trigger(self.user)
        fields = envelopes.slash_command(self.workspace, self.user, where, command, text, trigger)
        return self.fake.transport().deliver_interaction("slash_commands", fields)

    def shortcut(self, message: Message, callback_id: str) -> Reply:
        channel = self.workspace.channels[message.channel]
        trigger = self.workspace.issue_trigger(self.user)
        payload = envelopes.message_shortcut(
            self.workspace, self.user, channel, message, callback_id, trigger
        )
        return self.fake.transport().deliver_interaction("interactive", payload)

    def click(self, target: Message | View, action_id: str, *, value: Any = None) -> Reply:
        """Press a button or choose in a select; ``value`` picks an option, user or date."""
        blocks = target.blocks if isinstance(target, Message) else target.body.get("blocks", [])
        block, element = find_element(blocks, action_id)
        action: dict[str, Any] = {
            "type": element["type"],
            "action_id": action_id,
            "block_id": block.get("block_id", ""),
            "action_ts": self.workspace.next_ts(),
        }
        action.update(_chosen(element, value))
        trigger = self.workspace.issue_trigger(self.user)
        if isinstance(target, Message):
            payload = envelopes.block_actions(
                self.workspace, self.user, trigger, action, message=target
            )
        else:
            payload = envelopes.block_actions(
                self.workspace,
                self.user,
                trigger,
                action,
                view=target,
                view_object=view_object(self.workspace, target),
            )
        return self.fake.transport().deliver_interaction("interactive", payload)

    def submit(self, view: View, values: dict[str, Any]) -> Reply:
        """Fill the modal's inputs (by action_id) and press its submit button."""
        view.state = {"values": _state_values(view.body.get("blocks", []), values)}
        trigger = self.workspace.issue_trigger(self.user)
        payload = envelopes.view_submission(
            self.workspace, self.user, view_object(self.workspace, view), trigger
        )
        reply = self.fake.transport().deliver_interaction("interactive", payload)
        self._apply_response_action(view, reply)
        return reply

    def close(self, view: View) -> Reply | None:
        self.workspace.close_views(view.root_view_id)
        if not view.body.get("notify_on_close"):
            return None
        payload = envelopes.view_closed(
            self.workspace, self.user, view_object(self.workspace, view)
        )
        return self.fake.transport().deliver_interaction("interactive", payload)

    def _apply_response_action(self, view: View, reply: Reply) -> None:
        action = reply.body.get("response_action") if isinstance(reply.body, dict) else None
        if action == "errors":
            return
        if action == "update" and isinstance(reply.body, dict):
            view.body = reply.body["view"]
            return
        if action == "clear":
            self.workspace.close_views(view.root_view_id)
            return
        if action != "push":
            # No response action: this view closes; the stack below it stays.
            self.workspace.views.pop(view.id, None)


def find_element(
    blocks: list[dict[str, Any]], action_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    for block in blocks:
        candidates = list(block.get("elements", []))
        for key in ("accessory", "element"):
            if key in block:
                candidates.append(block[key])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block, element
    raise LookupError(f"no element with action_id {action_id!r}")


def _chosen(element: dict[str, Any], value: Any) -> dict[str, Any]:
    kind = element["type"]
    if kind == "button":
        return {"value": element.get("value", ""), "text": element["text"]}
    if kind in ("static_select", "overflow", "radio_buttons"):
        options = element.get("options", [])
        option = next((o for o in options if o.get("value") == value), None)
        if option is None:
            raise LookupError(f"no option {value!r} in {element['action_id']}")
        return {"selected_option": option}
    if kind == "users_select":
        return {"selected_user": value}
    if kind == "conversations_select" or kind == "channels_select":
        return {
            "selected_conversation" if kind == "conversations_select" else "selected_channel": value
        }
    if kind == "datepicker":
        return {"selected_date": value}
    return {"value": value}


def _state_values(blocks: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, Any]:
    """view.state.values for the given answers, keyed by block_id then action_id."""
    state: dict[str, Any] = {}
    for block in blocks:
        if block.get("type") != "input":
            continue
        element = block["element"]
        action_id = element.get("action_id", "")
        value = values.get(action_id)
        kind = element["type"]
        entry: dict[str, Any] = {"type": kind}
        if kind == "plain_text_input":
            entry["value"] = value
        elif kind == "static_select":
            option = next((o for o in element.get("options", []) if o.get("value") == value), None)
            entry["selected_option"] = option
        elif kind == "users_select":
            entry["selected_user"] = value
        elif kind == "datepicker":
            entry["selected_date"] = value
        elif kind == "multi_users_select":
            entry["selected_users"] = list(value or [])
        else:
            entry["value"] = value
        state.setdefault(block.get("block_id", ""), {})[action_id] = entry
    unknown = set(values) - {
        block["element"].get("action_id") for block in blocks if block.get("type") == "input"
    }
    if unknown:
        raise LookupError(f"the view has no inputs {sorted(unknown)}")
    return state


class SlackDriver:
    """People acting in the workspace, and what they can see afterwards."""

    def __init__(self, fake: SlackFake) -> None:
        self.fake = fake

    @property
    def workspace(self) -> Workspace:
        return self.fake.workspace

    def user(self, name: str) -> Person:
        found = self.workspace.find_user(name)
        if found is None:
            raise LookupError(f"no user {name!r}; add them with workspace.add_user")
        return Person(self.fake, found)

    def messages(self, channel: str) -> list[Message]:
        """Top-level messages of a channel, oldest first."""
        found = self.workspace.find_channel(channel)
        if found is None:
            raise LookupError(f"no channel {channel}")
        return list(reversed(self.workspace.history(found.id)))

    def thread(self, message: Message) -> list[Message]:
        return self.workspace.thread(message.channel, message.thread_ts or message.ts)

    def bot_posts(self, channel: str | None = None) -> list[Message]:
        found = self.workspace.find_channel(channel) if channel else None
        return sorted(
            (
                m
                for m in self.workspace.messages.values()
                if m.user == self.workspace.bot.id and (found is None or m.channel == found.id)
            ),
            key=lambda m: float(m.ts),
        )

    def open_modal(self, person: Person) -> View | None:
        """The modal on top of the person's stack, if any."""
        stack = self.workspace.modal_stack(person.user.id)
        return stack[-1] if stack else None

    def home(self, person: Person) -> View | None:
        return self.workspace.home_views.get(person.user.id)

    def ephemerals(self, person: Person) -> list[dict[str, Any]]:
        return [e for e in self.workspace.ephemerals if e["user"] == person.user.id]
