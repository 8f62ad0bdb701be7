"""ACCEPTANCE 23: 200 :ticket: reactions on one message within 10 s → one ticket, ack p99.

Deskhand runs in HTTP mode against the sandbox, which delivers the signed reaction events
concurrently as Slack would. The floor, measured in the same run: stock Bolt under the same
HTTP server dispatching the same signed events to a no-op listener.

    python -m bench.reaction_storm [--reactions N] [--full]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient

from bench.common import report, summary
from bot.http import EVENTS_PATH
from deskhand.config import parse_config
from deskhand.wiring import build
from sandbox.clock import Clock
from sandbox.httpserver import LoopbackServer
from sandbox.world import SandboxWorld

CONFIG = """\
slack: {request_channels: [help], api_url: "%s"}
teams: [{name: IT, key_prefix: IT, triage_channel: it-triage}]
"""


def storm(world: SandboxWorld, count: int) -> list[float]:
    """React ``count`` times on one message; the ack latency of every delivery."""
    ws = world.slack.workspace
    triage = ws.find_channel("it-triage")
    assert triage is not None
    agents = [ws.add_user(f"agent{n}-{time.monotonic_ns()}") for n in range(count)]
    triage.members.update(agent.id for agent in agents)
    question = world.slack.driver.user("alice").post("#help", "Wi-Fi is down everywhere")
    http = world.slack.http
    assert http is not None
    http.wait_idle(30)
    first = len(http.attempts)
    started = time.monotonic()
    for agent in agents:
        ws.react(ws.get_message(question.channel, question.ts), agent, "ticket")
        time.sleep(max(0.0, started + 10 * (agents.index(agent) + 1) / count - time.monotonic()))
    http.wait_idle(60)
    return [a.elapsed for a in http.attempts[first:] if a.outcome == "acked"]


def deskhand_run(count: int, scratch: Path) -> tuple[dict[str, Any], int]:
    with SandboxWorld(clock=Clock(speed=100), rate_limits=False) as world:
        config = parse_config(CONFIG % world.slack.api_url)
        deskhand = build(
            config,
            bot_token=world.slack.bot_token,
            signing_secret=world.slack.signing_secret,
            database_url=f"sqlite:///{scratch / 'bench.db'}",
        )
        deskhand.start()
        with LoopbackServer(deskhand.web_app()) as server:
            world.slack.deliver_http(f"{server.url}{EVENTS_PATH}")
            acks = storm(world, count)
            deskhand.wait_idle(60)
            tickets = len(world.slack.driver.bot_posts("#it-triage"))
        deskhand.stop()
    return summary(acks), tickets


def floor_run(count: int) -> dict[str, Any]:
    with SandboxWorld(clock=Clock(speed=100), rate_limits=False) as world:
        app = App(
            client=WebClient(base_url=world.slack.api_url, token=world.slack.bot_token),
            signing_secret=world.slack.signing_secret,
            token_verification_enabled=False,
        )
        app.event("reaction_added")(lambda: None)
        app.event("message")(lambda: None)
        web = Flask("floor")
        handler = SlackRequestHandler(app)
        web.add_url_rule(EVENTS_PATH, "events", lambda: handler.handle(request), methods=["POST"])
        with LoopbackServer(web) as server:
            world.slack.deliver_http(f"{server.url}{EVENTS_PATH}")
            return summary(storm(world, count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reactions", type=int, default=200)
    parser.add_argument("--full", action="store_true", help="the full size (same as default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        deskhand, tickets = deskhand_run(args.reactions, Path(scratch))
    floor = floor_run(args.reactions)
    rows = [{"run": "deskhand", **deskhand}, {"run": "floor (stock Bolt, no-op)", **floor}]
    report(
        "reaction_storm",
        rows,
        {
            "tickets created": tickets,
            "goal": "1 ticket; ack p99 < 500 ms",
            "p99 ratio to floor": round(deskhand["p99_ms"] / floor["p99_ms"], 2),
        },
    )


if __name__ == "__main__":
    main()
