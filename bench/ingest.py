"""Ingest: signed Slack events into the HTTP endpoint, stored in the durable inbox before the
ack; events/s and ack latency, beside the floor measured in the same run (stock Bolt under
the same server, dispatching the same signed payloads to a no-op listener).

Both run under the server production uses (``deskhand run`` in HTTP mode): gunicorn, one
gthread worker with 8 threads, in a process of its own. The load comes from another process:
pre-built signed HTTP/1.1 requests over several keep-alive sockets, one request in flight
per socket, so the generator stays well ahead of the server. Events are reactions with an
emoji that is not the ticket emoji, so the inbox worker does almost nothing with them and
the figure is the ingest path's own.

    python -m bench.ingest [--seconds S] [--connections C] [--full]
    python -m bench.ingest --profile [--requests N]   # cProfile of Deskhand's path, no server
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import hmac
import http.client
import io
import json
import multiprocessing
import os
import pstats
import selectors
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.common import report, summary
from bot.http import EVENTS_PATH
from sandbox.world import SandboxWorld

CONFIG = """\
slack: {request_channels: [help], api_url: "%s"}
teams: [{name: IT, key_prefix: IT, triage_channel: it-triage}]
"""
WARMUP_SECONDS = 1.0
"""Requests before this are not counted (the first one authorises with auth.test)."""
GUNICORN = {"workers": 1, "worker_class": "gthread", "threads": 8, "accesslog": None}
"""As ``deskhand run`` serves HTTP (deskhand/serve.py)."""


# -- the servers, each in a process of its own -------------------------------------------


def _deskhand_wsgi(settings: dict[str, Any]) -> tuple[Any, Callable[[], None]]:
    from deskhand.config import parse_config
    from deskhand.wiring import build

    deskhand = build(
        parse_config(CONFIG % settings["api_url"]),
        bot_token=settings["bot_token"],
        signing_secret=settings["signing_secret"],
        database_url=settings["database_url"],
    )
    if not settings.get("no_workers"):
        deskhand.start()
    return deskhand.web_app(), deskhand.stop


def _floor_wsgi(settings: dict[str, Any]) -> tuple[Any, Callable[[], None]]:
    from flask import Flask, request
    from slack_bolt import App
    from slack_bolt.adapter.flask import SlackRequestHandler
    from slack_sdk import WebClient

    app = App(
        client=WebClient(base_url=settings["api_url"], token=settings["bot_token"]),
        signing_secret=settings["signing_secret"],
        token_verification_enabled=False,
    )
    app.event("reaction_added")(lambda: None)
    web = Flask("floor")
    handler = SlackRequestHandler(app)
    web.add_url_rule(EVENTS_PATH, "events", lambda: handler.handle(request), methods=["POST"])
    web.add_url_rule("/healthz", "healthz", lambda: ("ok", 200))
    return web, lambda: None


def _server_wsgi(_settings: dict[str, Any]) -> tuple[Any, Callable[[], None]]:
    """The server alone: reads the body and answers 200, for the ceiling gunicorn allows."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    return wsgi, lambda: None


TARGETS = {"deskhand": _deskhand_wsgi, "floor": _floor_wsgi, "server": _server_wsgi}


def _serve(target: str, port: int, settings: dict[str, Any]) -> None:
    """In its own process: serve ``target`` under gunicorn as production does."""
    from gunicorn.app.base import BaseApplication

    stops: list[Callable[[], None]] = []

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {**GUNICORN, "bind": f"127.0.0.1:{port}", "loglevel": "warning"}
            options["worker_exit"] = lambda _server, _worker: [stop() for stop in stops]
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            wsgi, stop = TARGETS[target](settings)
            stops.append(stop)
            return wsgi

    Server().run()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextlib.contextmanager
def gunicorn(target: str, settings: dict[str, Any]) -> Iterator[int]:
    """``target`` served by gunicorn in another process; yields its port once /healthz
    answers, and stops it (gracefully, so the workers shut down) afterwards."""
    port = _free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(target, port, settings), daemon=False
    )
    process.start()
    try:
        deadline = time.monotonic() + 60
        while not _healthy(port):
            if not process.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn for {target} did not come up")
            time.sleep(0.1)
        yield port
    finally:
        if process.pid is not None and process.is_alive():
            os.kill(process.pid, signal.SIGTERM)
        process.join(30)


# -- the load, from another process --------------------------------------------------------


class Requests:
    """Signed ``reaction_added`` deliveries, each with its own event_id, as raw HTTP/1.1."""

    def __init__(self, port: int, secret: str, team: str) -> None:
        self.port = port
        self.key = secret.encode()
        self.head = (
            json.dumps(
                {
                    "token": "x",
                    "team_id": team,
                    "api_app_id": "A0DESKHAND",
                    "type": "event_callback",
                    "event_time": int(time.time()),
                    "event": {
                        "type": "reaction_added",
                        "user": "U0LOAD",
                        "reaction": "eyes",
                        "item": {"type": "message", "channel": "C0LOAD", "ts": "1.000001"},
                        "event_ts": "1.000001",
                    },
                }
            )[:-1]
            + ', "event_id": "'
        ).encode()
        self.run = uuid.uuid4().hex[:6].upper()
        self.sequence = 0

    def next(self) -> bytes:
        self.sequence += 1
        body = self.head + f"Ev{self.run}{self.sequence:09d}".encode() + b'"}'
        timestamp = str(int(time.time())).encode()
        digest = hmac.new(self.key, b"v0:" + timestamp + b":" + body, hashlib.sha256)
        return b"".join(
            (
                f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n".encode(),
                b"Content-Type: application/json\r\nContent-Length: ",
                str(len(body)).encode(),
                b"\r\nX-Slack-Request-Timestamp: ",
                timestamp,
                b"\r\nX-Slack-Signature: v0=",
                digest.hexdigest().encode(),
                b"\r\n\r\n",
                body,
            )
        )


class _Connection:
    """One keep-alive socket with at most one request in flight."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buffer = b""
        self.sent_at = 0.0

    def response(self) -> tuple[int, bool] | None:
        """(status, keep-alive) once a whole response is in the buffer, else None."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buffer[:end].decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head[1:])
        }
        length = int(fields.get("content-length", "0"))
        if len(self.buffer) < end + 4 + length:
            return None
        self.buffer = self.buffer[end + 4 + length :]
        return status, fields.get("connection", "").lower() != "close"


def _load(port: int, secret: str, team: str, seconds: float, connections: int, out: Any) -> None:
    """In its own process: keep ``connections`` requests in flight for ``seconds`` (after a
    warm-up); put (latencies of the 200s, other statuses, seconds measured) on ``out``."""
    requests = Requests(port, secret, team)
    selector = selectors.DefaultSelector()

    def send(connection: _Connection) -> None:
        connection.sent_at = time.perf_counter()
        connection.sock.setblocking(True)
        connection.sock.sendall(requests.next())
        connection.sock.setblocking(False)

    def open_one() -> None:
        connection = _Connection(port)
        selector.register(connection.sock, selectors.EVENT_READ, connection)
        send(connection)

    for _ in range(connections):
        open_one()
    latencies: list[float] = []
    others: dict[int, int] = {}
    start = time.perf_counter()
    counting_from = start + WARMUP_SECONDS
    deadline = counting_from + seconds
    while True:
        now = time.perf_counter()
        if now >= deadline:
            break
        for key, _ in selector.select(timeout=deadline - now):
            connection: _Connection = key.data
            chunk = connection.sock.recv(65536)
            if not chunk:  # the server closed it: open another
                selector.unregister(connection.sock)
                connection.sock.close()
                open_one()
                continue
            connection.buffer += chunk
            answer = connection.response()
            if answer is None:
                continue
            status, keep_alive = answer
            done = time.perf_counter()
            if connection.sent_at >= counting_from and done <= deadline:
                if status == 200:
                    latencies.append(done - connection.sent_at)
                else:
                    others[status] = others.get(status, 0) + 1
            if keep_alive:
                send(connection)
            else:
                selector.unregister(connection.sock)
                connection.sock.close()
                open_one()
    out.put((latencies, others, seconds))


def measure(port: int, secret: str, team: str, seconds: float, connections: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_load, args=(port, secret, team, seconds, connections, queue))
    process.start()
    latencies, others, measured = queue.get(timeout=seconds + 120)
    process.join(30)
    return {
        "events_per_s": len(latencies) / measured,
        **summary(latencies),
        "not_200": sum(others.values()),
    }


# -- profile: Deskhand's WSGI app called directly, in one thread ---------------------------


def profile(world: SandboxWorld, scratch: Path, count: int, top: int = 12) -> None:
    """Call Deskhand's WSGI app ``count`` times with signed deliveries under cProfile and
    print the costliest frames (cumulative and own time, as shares of the whole)."""
    settings = _settings(world, scratch, no_workers=True)
    wsgi, stop = _deskhand_wsgi(settings)
    requests = Requests(0, world.slack.signing_secret, world.slack.workspace.team_id)

    def environ() -> dict[str, Any]:
        raw = requests.next()
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")[2:]
        headers = dict(line.split(": ", 1) for line in lines)
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": EVENTS_PATH,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": headers.pop("Content-Type"),
            "CONTENT_LENGTH": headers.pop("Content-Length"),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        return environ

    statuses: list[str] = []

    def start_response(status: str, _headers: Any, _exc: Any = None) -> Any:
        statuses.append(status)
        return lambda _data: None

    def call() -> None:
        for chunk in wsgi(environ(), start_response):
            del chunk

    for _ in range(50):  # warm up: authorisation, connection pool, imports
        call()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(count):
        call()
    profiler.disable()
    elapsed = time.perf_counter() - started
    stop()
    assert all(s.startswith("200") for s in statuses), set(statuses)
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    print(f"{count} requests in {elapsed:.2f} s under cProfile ({count / elapsed:.0f}/s)")
    rows = [
        (cumulative, own, f"{Path(file).name}:{line}({name})")
        for (file, line, name), (_, _, own, cumulative, _) in stats.stats.items()  # type: ignore[attr-defined]
    ]
    print(f"\ntop {top} by cumulative share (per request ms)")
    for cumulative, _own, where in sorted(rows, reverse=True)[1 : top + 1]:
        print(f"  {100 * cumulative / total:5.1f}%  {1000 * cumulative / count:6.3f}  {where}")
    print(f"\ntop {top} by own time share")
    for _cumulative, own, where in sorted(rows, key=lambda r: -r[1])[:top]:
        print(f"  {100 * own / total:5.1f}%  {1000 * own / count:6.3f}  {where}")


# -- the run -------------------------------------------------------------------------------


def _settings(world: SandboxWorld, scratch: Path, *, no_workers: bool = False) -> dict[str, Any]:
    return {
        "api_url": world.slack.api_url,
        "bot_token": world.slack.bot_token,
        "signing_secret": world.slack.signing_secret,
        "database_url": f"sqlite:///{scratch / 'ingest.db'}",
        "no_workers": no_workers or bool(os.environ.get("BENCH_NO_WORKERS")),
    }


def run_target(
    target: str, world: SandboxWorld, scratch: Path, seconds: float, connections: int
) -> dict[str, Any]:
    with gunicorn(target, _settings(world, scratch)) as port:
        return measure(
            port,
            world.slack.signing_secret,
            world.slack.workspace.team_id,
            seconds,
            connections,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--full", action="store_true", help="60 s per target")
    parser.add_argument("--profile", action="store_true", help="profile Deskhand's path only")
    parser.add_argument("--requests", type=int, default=5000, help="requests to profile")
    args = parser.parse_args()
    seconds = 60.0 if args.full else args.seconds
    with SandboxWorld(rate_limits=False) as world, tempfile.TemporaryDirectory() as scratch:
        if args.profile:
            profile(world, Path(scratch), args.requests)
            return
        floor = run_target("floor", world, Path(scratch), seconds, args.connections)
        deskhand = run_target("deskhand", world, Path(scratch), seconds, args.connections)
        server = run_target("server", world, Path(scratch), min(seconds, 5.0), args.connections)
    rows = [
        {"run": "deskhand (inbox, SQLite)", **deskhand},
        {"run": "floor (stock Bolt)", **floor},
        {"run": "server alone (answers 200)", **server},
    ]
    report(
        "ingest",
        rows,
        {
            "server": "gunicorn gthread, 1 worker x 8 threads, loopback",
            "load": f"another process, {args.connections} keep-alive connections, "
            f"{seconds:.0f} s after a {WARMUP_SECONDS:.0f} s warm-up",
            "throughput ratio (floor / deskhand)": round(
                floor["events_per_s"] / deskhand["events_per_s"], 2
            ),
            "goal": ">= 2,000 events/s; ratio <= 1.5",
        },
    )


if __name__ == "__main__":
    main()
