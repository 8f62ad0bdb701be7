"""The demo's scripted morning at a help desk, played against the sandbox.

Deskhand runs for real (Socket Mode, SQLite in a temporary folder); people act through the
sandbox's driver; the demo prints what each channel and thread looks like afterwards.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from deskhand.config import Config
from deskhand.sandbox_cli import layout_for
from deskhand.wiring import Deskhand, build
from sandbox.slack.state import Message
from sandbox.world import SandboxWorld
from storage.models import Ticket


def play_morning(config: Config, out: Console) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="deskhand-demo-") as scratch,
        SandboxWorld(layout_for(config)) as world,
    ):
        slack = config.slack.model_copy(update={"api_url": world.slack.api_url})
        database = f"sqlite:///{Path(scratch) / 'morning.db'}"
        deskhand = build(
            config.model_copy(update={"slack": slack}),
            bot_token=world.slack.bot_token,
            signing_secret=None,
            database_url=database,
        )
        server = world.slack.deliver_socket_mode()
        deskhand.start()
        deskhand.connect_socket_mode(world.slack.app_token)
        server.wait_for_connection(10)
        try:
            _script(world, deskhand, out)
            _show(world, config, out)
            _tickets(deskhand, out)
        finally:
            deskhand.stop()


def _settle(world: SandboxWorld, deskhand: Deskhand) -> None:
    for _ in range(2):  # Deskhand's own posts come back as events once
        world.slack.transport().wait_idle(10)
        deskhand.wait_idle(15)


def _script(world: SandboxWorld, deskhand: Deskhand, out: Console) -> None:
    people = world.slack.driver
    help_channel = f"#{world.layout.request_channels[0]}"
    out.print(f"  08:58  alice asks in {help_channel}: “My laptop will not connect to the VPN”")
    question = people.user("alice").post(help_channel, "My laptop will not connect to the VPN")
    out.print("  09:01  bob (an agent) reacts with the ticket emoji", emoji=False)
    people.user("bob").react(question, "ticket")
    _settle(world, deskhand)  # one request at a time, so the demo reads the same every time
    out.print("  09:02  dave asks about a printer; carol and bob both react")
    second = people.user("dave").post(help_channel, "Printer on floor 2 is jammed again")
    people.user("carol").react(second, "ticket")
    people.user("bob").react(second, "ticket")
    _settle(world, deskhand)


def _show(world: SandboxWorld, config: Config, out: Console) -> None:
    ws = world.slack.workspace
    channels = [*world.layout.request_channels, *world.layout.triage_channels]
    for name in channels:
        messages = world.slack.driver.messages(f"#{name}")
        if not messages:
            continue
        out.print(f"[bold]#{name}[/]")
        for message in messages:
            _line(ws.users[message.user].name, message, "    ", out)
            for reply in world.slack.driver.thread(message)[1:]:
                _line(ws.users[reply.user].name, reply, "      ↳ ", out)


def _line(author: str, message: Message, indent: str, out: Console) -> None:
    text = message.text.replace("\n", " ")
    reactions = " ".join(f":{name}: x{len(users)}" for name, users in message.reactions.items())
    suffix = f"  [{reactions}]" if reactions else ""
    out.print(f"{indent}{author}: {text}{suffix}", markup=False, emoji=False)


def _tickets(deskhand: Deskhand, out: Console) -> None:
    with Session(deskhand.tickets.engine) as session:
        tickets = list(session.scalars(select(Ticket).order_by(Ticket.id)))
    table = Table("key", "title", "team", "status", "priority", "via", title="Tickets")
    for ticket in tickets:
        table.add_row(
            ticket.key,
            ticket.title,
            ticket.team,
            ticket.status,
            ticket.priority,
            ticket.origin_kind,
        )
    out.print(table)
