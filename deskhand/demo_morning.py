"""The demo's scripted morning at a help desk, played against the sandbox.

Deskhand runs for real (Socket Mode, SQLite in a temporary folder); people act through the
sandbox's driver; the demo prints what each channel and thread looks like afterwards.

The recipes see the demo's own time (:class:`~deskhand.demo_clock.DemoClock`: a Monday, at
each step's label), so business-hours recipes answer the same whatever day the demo runs.
A step that needs something to have happened first (alice answering carol's question) waits
for it to show in Slack, up to a deadline.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.config import Config
from deskhand.demo_clock import DemoClock, local_time
from deskhand.sandbox_cli import layout_for
from deskhand.wiring import Deskhand, build
from recipes.book import RecipeBook
from sandbox.httpserver import LoopbackServer
from sandbox.jira import JiraDriver
from sandbox.jira.webhooks import WebhookSender
from sandbox.slack.state import Message
from sandbox.world import SandboxWorld
from storage.models import Ticket

WEBHOOK_SECRET = "demo-webhook-secret"  # noqa: S105 - the sandbox's, not a real secret

WAIT_SECONDS = 30.0
"""How long a step waits for what it needs to see in Slack before the demo gives up."""

MENTION = re.compile(r"<@([A-Z0-9]+)>")


class StalledError(RuntimeError):
    """Something the script waits for did not happen in time."""


def play_morning(config: Config, out: Console, *, recipes: RecipeBook | None = None) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="deskhand-demo-") as scratch,
        SandboxWorld(layout_for(config)) as world,
        contextlib.ExitStack() as stack,
    ):
        update: dict[str, Any] = {
            "slack": config.slack.model_copy(update={"api_url": world.slack.api_url})
        }
        if config.jira is not None:  # the sandbox's Jira stands in for the configured one
            update["jira"] = config.jira.model_copy(
                update={"url": world.jira.url, "account": world.jira.bot.email}
            )
        database = f"sqlite:///{Path(scratch) / 'morning.db'}"
        clock = DemoClock(config.teams[0].business_hours.timezone)
        deskhand = build(
            config.model_copy(update=update),
            bot_token=world.slack.bot_token,
            signing_secret=None,
            database_url=database,
            jira_token=world.jira.api_token,
            jira_webhook_secrets=[WEBHOOK_SECRET],
            jira_poll_interval=0,
            recipes=recipes,
            recipe_clock=clock,  # the recipes see the demo's morning, not the machine's clock
        )
        server = world.slack.deliver_socket_mode()
        deskhand.start()
        stack.callback(deskhand.stop)
        web = stack.enter_context(LoopbackServer(deskhand.web_app()))
        webhooks = stack.enter_context(
            WebhookSender(world.jira, f"{web.url}/jira/webhook", WEBHOOK_SECRET)
        )
        deskhand.connect_socket_mode(world.slack.app_token)
        server.wait_for_connection(10)
        morning = Morning(world, deskhand, webhooks, clock)
        out.print(
            f"   A Monday morning, {clock.zone.key} time ({config.teams[0].name}'s): "
            "recipes see these times, not this machine's clock.",
            markup=False,
        )
        _script(morning, config, out)
        _show(world, config, out)
        _tickets(world, deskhand, out)
        _issues(world, out)


@dataclass
class Morning:
    world: SandboxWorld
    deskhand: Deskhand
    webhooks: WebhookSender
    clock: DemoClock

    def settle(self) -> None:
        for _ in range(3):  # Deskhand's own posts and Jira writes come back once
            self.world.slack.transport().wait_idle(10)
            self.deskhand.wait_idle(15)
            self.webhooks.wait_idle(10)

    def in_thread(self, message: Message, text: str) -> bool:
        """Whether a reply in ``message``'s thread says ``text`` (read as Slack stores it)."""
        with self.world.slack.workspace.lock:  # Deskhand may be posting into it right now
            replies = self.world.slack.driver.thread(message)[1:]
        return any(text in reply.text for reply in replies)

    def until(self, what: str, seen: Callable[[], bool], timeout: float = WAIT_SECONDS) -> None:
        """Wait until ``seen()``; :class:`StalledError`, naming ``what``, after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not seen():
            if time.monotonic() >= deadline:
                raise StalledError(f"{what} did not happen within {timeout:.0f} s")
            self.deskhand.wake()
            time.sleep(0.05)


def _script(morning: Morning, config: Config, out: Console) -> None:
    world = morning.world
    people = world.slack.driver
    alice, bob, carol, dave = (people.user(n) for n in ("alice", "bob", "carol", "dave"))
    channel = f"#{world.layout.request_channels[0]}"

    def step(label: str, what: str) -> None:
        morning.clock.set(label)
        out.print(f"  {label}  {what}", markup=False, emoji=False)

    step("08:58", f"alice asks in {channel}; bob (an agent) reacts with the ticket emoji")
    vpn = alice.post(channel, "My laptop will not connect to the VPN")
    bob.react(vpn, "ticket")
    morning.settle()

    step("09:02", "dave asks about a printer; carol and bob both react (one ticket)")
    printer = dave.post(channel, "Printer on floor 2 is jammed again")
    carol.react(printer, "ticket")
    bob.react(printer, "ticket")
    morning.settle()

    step("09:05", "dave runs /helpdesk and fills the form: IT · Access, system GitHub")
    dave.command("/helpdesk", "I need access to the GitHub organisation", channel=channel)
    form = people.open_modal(dave)
    if form is not None:
        dave.click(form, "request_team_service", value='["IT","Access"]')
        dave.submit(
            form,
            {
                "request_title": "GitHub access",
                "request_description": "I need access to the GitHub organisation",
                "request_team_service": '["IT","Access"]',
                "request_priority": "normal",
                "request_field_system": "GitHub",
            },
        )
    morning.settle()

    triage = people.bot_posts(f"#{world.layout.triage_channels[0]}")
    vpn_card = triage[0]
    step("09:07", "bob claims IT-1 from the triage card and raises its priority")
    bob.click(vpn_card, "claim")
    morning.settle()
    bob.click(vpn_card, "set_priority", value="high")
    morning.settle()

    step("09:08", "bob answers alice in her thread; carol leaves an internal note in triage")
    bob.reply(vpn, "Could you try again after restarting the VPN client?")
    carol.reply(vpn_card, "The gateway certificate expired last night; renewing it")
    morning.settle()

    step("09:10", "carol asks alice a question from IT-1's Jira issue; alice answers")
    key = _jira_key(morning.deskhand, "IT-1")
    if key is not None:
        question = "Which office are you working from?"
        JiraDriver(world.jira).user("carol").comment(key, question)
        morning.until(
            f"carol's question in {key} reaching alice's thread",
            lambda: morning.in_thread(vpn, question),
        )
    alice.reply(vpn, "From home today")
    morning.settle()

    step("09:12", "alice confirms it works; bob resolves IT-1; carol escalates IT-2 to L2")
    alice.reply(vpn, "It works again, thank you!")
    morning.settle()
    bob.click(vpn_card, "set_status", value="resolved")
    carol.click(triage[1], "escalate")
    morning.settle()

    step(
        "09:15",
        "dave asks about his payslip; bob reacts; a recipe routes it to HR"
        + _there(config, "HR", morning.clock.at("09:15")),
    )
    payslip = dave.post(channel, "My payslip for November is missing")
    bob.react(payslip, "ticket")
    morning.settle()


def _there(config: Config, team: str, moment: datetime) -> str:
    """What the clock says in ``team``'s time zone at ``moment``, when that zone is not the
    demo's (", where it is 03:15 (America/New_York)"); nothing otherwise."""
    hours = next((t.business_hours for t in config.teams if t.name == team), None)
    if hours is None or hours.timezone == config.teams[0].business_hours.timezone:
        return ""
    return f", where it is {local_time(moment, hours.timezone)} ({hours.timezone})"


def _show(world: SandboxWorld, config: Config, out: Console) -> None:
    ws = world.slack.workspace
    names = {user.id: user.name for user in ws.users.values()}
    channels = [*world.layout.request_channels, *world.layout.triage_channels]
    places = [(f"#{name}", f"#{name}") for name in channels]
    places += [
        (channel.id, f"DM with {' & '.join(ws.users[m].name for m in sorted(channel.members))}")
        for channel in ws.channels.values()
        if channel.is_im
    ]
    for where, title in places:
        messages = world.slack.driver.messages(where)
        if not messages:
            continue
        out.print(f"[bold]{title}[/]")
        for message in messages:
            _line(ws.users[message.user].name, message, "    ", out, names)
            for reply in world.slack.driver.thread(message)[1:]:
                _line(ws.users[reply.user].name, reply, "      ↳ ", out, names)


def _line(author: str, message: Message, indent: str, out: Console, names: dict[str, str]) -> None:
    """One message as Slack shows it: on one line, mentions as @name."""
    text = MENTION.sub(lambda m: f"@{names.get(m[1], m[1])}", message.text.replace("\n", " "))
    reactions = " ".join(f":{name}: x{len(users)}" for name, users in message.reactions.items())
    suffix = f"  [{reactions}]" if reactions else ""
    out.print(f"{indent}{author}: {text}{suffix}", markup=False, emoji=False)


def _tickets(world: SandboxWorld, deskhand: Deskhand, out: Console) -> None:
    with Session(deskhand.tickets.engine) as session:
        tickets = list(session.scalars(select(Ticket).order_by(Ticket.id)))
    table = Table(
        "key", "title", "team", "status", "priority", "level", "assignee", "via", title="Tickets"
    )
    names = {user.id: user.name for user in world.slack.workspace.users.values()}
    for ticket in tickets:
        table.add_row(
            ticket.key,
            ticket.title,
            ticket.team,
            ticket.status,
            ticket.priority,
            f"L{ticket.level}",
            names.get(ticket.assignee or "", "-"),
            ticket.origin_kind,
        )
    out.print(table)


def _jira_key(deskhand: Deskhand, ticket_key: str) -> str | None:
    with Session(deskhand.tickets.engine) as session:
        return session.scalar(select(Ticket.jira_key).where(Ticket.key == ticket_key))


def _issues(world: SandboxWorld, out: Console) -> None:
    issues = list(world.jira.state.issues.values())
    if not issues:
        return
    table = Table("issue", "summary", "status", "priority", "assignee", "comments", title="Jira")
    for issue in issues:
        table.add_row(
            issue.key,
            issue.summary,
            issue.status,
            issue.priority.name if issue.priority else "-",
            issue.assignee or "-",
            str(len(issue.comments)),
        )
    out.print(table)
