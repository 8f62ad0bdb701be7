"""``deskhand sandbox``: the fakes, seeded from a configuration, until interrupted.

It serves the fake Slack with Socket Mode on and the fake Jira (with webhooks to where
Deskhand will listen), writes a configuration for ``deskhand run`` that points at them,
prints the command that runs Deskhand there, and reads commands from its standard input that
act as the sandbox's people (:mod:`sandbox.console`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TextIO

import typer
from rich.console import Console
from rich.table import Table

from deskhand.config import Config, ConfigError, load_config
from deskhand.config.schema import SlackMode
from deskhand.sandbox_config import SandboxEndpoints, sandbox_config
from sandbox.console import SandboxConsole
from sandbox.jira.state import Flavour
from sandbox.jira.webhooks import WebhookSender
from sandbox.slack.socket_mode import SocketModeServer
from sandbox.world import AGENTS, REQUESTERS, Layout, SandboxWorld

SANDBOX_CONFIG = Path("sandbox-config.yaml")
"""Where the configuration for ``deskhand run`` is written, in the current folder."""
WEBHOOK_SECRET = "sandbox-webhook-secret"  # noqa: S105 - the sandbox's, not a real secret
EXIT_USAGE = 2


def layout_for(config: Config, jira_flavour: str | None = None) -> Layout:
    flavour = jira_flavour or (config.jira.flavour.value if config.jira else "cloud")
    if flavour not in ("cloud", "server"):
        raise ValueError(f"--jira-flavour must be cloud or server, not {flavour!r}")
    chosen: Flavour = "cloud" if flavour == "cloud" else "server"
    return Layout(
        request_channels=[*config.slack.request_channels, *config.slack.auto_ticket_channels],
        triage_channels=[team.triage_channel for team in config.teams],
        jira_projects=[team.jira.project for team in config.teams if team.jira is not None],
        jira_flavour=chosen,
    )


def serve_sandbox(
    config: Config,
    out: Console,
    *,
    jira_flavour: str | None = None,
    config_path: Path | None = None,
    write_to: Path = SANDBOX_CONFIG,
) -> None:
    """Serve until SIGINT, SIGTERM or ``quit``. ``config_path``: the file ``config`` was read
    from (its recipe paths are relative to it); ``write_to``: where the configuration for
    ``deskhand run`` goes."""
    try:
        layout = layout_for(config, jira_flavour)
        source = _source_file(config, config_path)
    except (ValueError, SourceUnknownError) as exc:
        _refuse(str(exc))
    stop = threading.Event()

    def interrupted(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    with (
        tempfile.TemporaryDirectory(prefix="deskhand-sandbox-") as scratch,
        SandboxWorld(layout) as world,
        contextlib.ExitStack() as stack,
    ):
        server = world.slack.deliver_socket_mode()
        endpoints = _endpoints(config, world, Path(scratch) / "deskhand.db")
        if endpoints.jira_url is not None:
            webhooks = f"http://127.0.0.1:{endpoints.http_port}/jira/webhook"
            stack.enter_context(WebhookSender(world.jira, webhooks, WEBHOOK_SECRET))
        try:
            write_to.write_text(sandbox_config(source, write_to, endpoints), encoding="utf-8")
        except OSError as exc:
            _refuse(f"cannot write {write_to}: {exc.strerror}")
        _print_table(world, endpoints, out)
        _print_instructions(config, world, source, write_to, out)
        console = SandboxConsole(world, lambda line: out.print(line, markup=False, emoji=False))
        _background(_announce_connection, server, stop, out)
        if _owns_the_terminal(sys.stdin):
            _background(_read_commands, sys.stdin, console, stop, out)
        else:
            out.print("(in the background: no console; run it in the foreground to act here)")
        stop.wait()
    out.print("sandbox stopped", markup=False)


def _refuse(message: str) -> NoReturn:
    Console(stderr=True, highlight=False, soft_wrap=True).print(message, markup=False)
    raise typer.Exit(EXIT_USAGE)


def _endpoints(config: Config, world: SandboxWorld, database: Path) -> SandboxEndpoints:
    endpoints = SandboxEndpoints(
        slack_api_url=world.slack.api_url,
        database_url=f"sqlite:///{database}",
        http_port=_free_port(),
    )
    if config.jira is None:
        return endpoints
    bot = world.jira.bot
    account = bot.email if world.jira.flavour == "cloud" else bot.name
    return dataclasses.replace(
        endpoints,
        jira_url=world.jira.url,
        jira_flavour=world.jira.flavour,
        jira_account=account,
        jira_fallback=account,
    )


def _source_file(config: Config, given: Path | None) -> Path:
    """The file ``config`` was read from, whose text (comments and all) the written
    configuration keeps and whose folder its recipe paths are relative to. Without ``given``:
    the --config default, ``DESKHAND_CONFIG`` or ./config.yaml, if that is what was loaded."""
    if given is not None:
        return given
    default = Path(os.environ.get("DESKHAND_CONFIG") or "config.yaml")
    with contextlib.suppress(ConfigError):
        if load_config(default) == config:
            return default
    raise SourceUnknownError(
        f"deskhand sandbox writes its configuration from {default} (or DESKHAND_CONFIG): "
        "run it in the folder of the configuration you mean, or set DESKHAND_CONFIG to it"
    )


class SourceUnknownError(Exception):
    """The configuration was given, but not which file it came from."""


def _free_port() -> int:
    """A port nothing listens on now, for Deskhand's webhook endpoint."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _print_table(world: SandboxWorld, endpoints: SandboxEndpoints, out: Console) -> None:
    slack, jira = world.slack, world.jira
    table = Table("what", "where", title="Deskhand sandbox (loopback only)")
    table.add_row("Slack Web API", slack.api_url)
    table.add_row("Slack bot token", slack.bot_token)
    table.add_row("Slack app token", slack.app_token)
    table.add_row(f"Jira ({jira.flavour})", jira.url)
    account = endpoints.jira_account or jira.bot.email
    table.add_row("Jira account / token", f"{account} / {jira.api_token}")
    table.add_row("Requesters", ", ".join(REQUESTERS))
    table.add_row("Agents (every triage channel, and Jira)", ", ".join(AGENTS))
    channels = [f"#{name}" for name in world.layout.request_channels]
    channels += [f"#{name} (private)" for name in world.layout.triage_channels]
    table.add_row("Channels", ", ".join(channels))
    out.print(table)


def _run_command(config: Config, world: SandboxWorld, config_file: Path) -> str:
    """The shell command that runs Deskhand against this sandbox."""
    env = {
        "DESKHAND_SLACK_BOT_TOKEN": world.slack.bot_token,
        "DESKHAND_SLACK_APP_TOKEN": world.slack.app_token,
    }
    if config.jira is not None:
        env["DESKHAND_JIRA_TOKEN"] = world.jira.api_token
        env["DESKHAND_JIRA_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    return f"{assignments} deskhand run -c {shlex.quote(str(config_file))}"


def _print_instructions(
    config: Config, world: SandboxWorld, source: Path, written: Path, out: Console
) -> None:
    def say(text: str = "") -> None:
        out.print(text, markup=False, emoji=False)

    say(f"Wrote {written}: {source} pointed at this sandbox.")
    if config.slack.mode is SlackMode.HTTP:
        say("It uses Socket Mode (the sandbox delivers events over Socket Mode only).")
    say(f"In another terminal, in {os.getcwd()}, run Deskhand against the sandbox:")
    say()
    say(f"  {_run_command(config, world, written)}")
    say()
    channel = f"#{world.layout.request_channels[0]}" if world.layout.request_channels else "#help"
    say("Then act as the sandbox's people here, one command a line (help lists them), e.g.")
    say(f"  say {REQUESTERS[0]} {channel} My laptop will not connect to the VPN")
    say(f"  react {AGENTS[0]} 1 ticket")
    say("Ctrl-C (or quit) stops the sandbox.")


def _background(target: Callable[..., None], *args: Any) -> None:
    threading.Thread(target=target, args=args, daemon=True).start()


def _announce_connection(server: SocketModeServer, stop: threading.Event, out: Console) -> None:
    while not stop.is_set():
        if server.wait_for_connection(1.0):
            out.print("Deskhand connected over Socket Mode.", markup=False)
            return


def _owns_the_terminal(stream: TextIO) -> bool:
    """Whether reading ``stream`` is safe: not a terminal, or one this process has in the
    foreground (a background job that reads its terminal is stopped, fakes and all)."""
    try:
        fd = stream.fileno()
        return not os.isatty(fd) or os.tcgetpgrp(fd) == os.getpgrp()
    except (OSError, ValueError):
        return True


def _read_commands(
    lines: TextIO, console: SandboxConsole, stop: threading.Event, out: Console
) -> None:
    """The console's loop. At the end of the input the sandbox keeps serving (it may run in
    the background); ``quit`` stops it."""
    for line in lines:
        if not console.handle(line.strip()):
            stop.set()
            return
    out.print("(no more commands: the sandbox keeps running until Ctrl-C)", markup=False)
