"""Ingest: signed Slack events into the HTTP endpoint, stored in the durable inbox before the
ack; events/s and ack latency, beside the floor measured in the same run (stock Bolt under
the same server, dispatching the same signed payloads to a no-op listener).

The load comes from another process (several threads, keep-alive connections). Events are
reactions with an emoji that is not the ticket emoji, so the inbox worker does almost
nothing with them and the figure is the ingest path's own.

    python -m bench.ingest [--seconds S] [--threads T] [--full]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from flask import Flask, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient

from bench.common import report, summary
from bot.http import EVENTS_PATH, flask_app
from deskhand.config import parse_config
from deskhand.wiring import build
from sandbox.httpserver import LoopbackServer
from sandbox.slack.signing import signed_headers
from sandbox.world import SandboxWorld

CONFIG = """\
slack: {request_channels: [help], api_url: "%s"}
teams: [{name: IT, key_prefix: IT, triage_channel: it-triage}]
"""


def _load(url: str, secret: str, team: str, seconds: float, threads: int, out: Any) -> None:
    """In its own process: send signed events for ``seconds``; put the latencies on ``out``."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        session = requests.Session()
        mine: list[float] = []
        while time.monotonic() < deadline:
            event_id = f"Ev{uuid.uuid4().hex[:12].upper()}"
            body = json.dumps(
                {
                    "token": "x",
                    "team_id": team,
                    "api_app_id": "A0DESKHAND",
                    "type": "event_callback",
                    "event_id": event_id,
                    "event_time": int(time.time()),
                    "event": {
                        "type": "reaction_added",
                        "user": "U0LOAD",
                        "reaction": "eyes",
                        "item": {"type": "message", "channel": "C0LOAD", "ts": "1.000001"},
                        "event_ts": f"{time.time():.6f}",
                    },
                }
            ).encode()
            headers, sent = signed_headers(secret, body, time.time())
            headers["Content-Type"] = "application/json"
            started = time.monotonic()
            response = session.post(url, data=sent, headers=headers, timeout=10)
            if response.status_code == 200:
                mine.append(time.monotonic() - started)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    out.put(latencies)


def measure(url: str, secret: str, team: str, seconds: float, threads: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_load, args=(url, secret, team, seconds, threads, queue))
    process.start()
    latencies: list[float] = queue.get(timeout=seconds + 60)
    process.join(30)
    return {"events_per_s": len(latencies) / seconds, **summary(latencies)}


def deskhand_target(
    world: SandboxWorld, scratch: Path, seconds: float, threads: int
) -> dict[str, Any]:
    deskhand = build(
        parse_config(CONFIG % world.slack.api_url),
        bot_token=world.slack.bot_token,
        signing_secret=world.slack.signing_secret,
        database_url=f"sqlite:///{scratch / 'ingest.db'}",
    )
    if not os.environ.get("BENCH_NO_WORKERS"):
        deskhand.start()
    try:
        with LoopbackServer(flask_app(deskhand.app)) as server:
            return measure(
                f"{server.url}{EVENTS_PATH}",
                world.slack.signing_secret,
                world.slack.workspace.team_id,
                seconds,
                threads,
            )
    finally:
        deskhand.stop()


def floor_target(world: SandboxWorld, seconds: float, threads: int) -> dict[str, Any]:
    app = App(
        client=WebClient(base_url=world.slack.api_url, token=world.slack.bot_token),
        signing_secret=world.slack.signing_secret,
        token_verification_enabled=False,
    )
    app.event("reaction_added")(lambda: None)
    web = Flask("floor")
    handler = SlackRequestHandler(app)
    web.add_url_rule(EVENTS_PATH, "events", lambda: handler.handle(request), methods=["POST"])
    with LoopbackServer(web) as server:
        return measure(
            f"{server.url}{EVENTS_PATH}",
            world.slack.signing_secret,
            world.slack.workspace.team_id,
            seconds,
            threads,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--full", action="store_true", help="60 s per target")
    args = parser.parse_args()
    seconds = 60.0 if args.full else args.seconds
    with SandboxWorld(rate_limits=False) as world, tempfile.TemporaryDirectory() as scratch:
        floor = floor_target(world, seconds, args.threads)
        deskhand = deskhand_target(world, Path(scratch), seconds, args.threads)
    rows = [{"run": "deskhand (inbox, SQLite)", **deskhand}, {"run": "floor (stock Bolt)", **floor}]
    report(
        "ingest",
        rows,
        {
            "server": "werkzeug threaded, loopback; load from another process",
            "throughput ratio (floor / deskhand)": round(
                floor["events_per_s"] / deskhand["events_per_s"], 2
            ),
            "goal": ">= 2,000 events/s; overhead over the floor <= 1.5x",
        },
    )


if __name__ == "__main__":
    main()
