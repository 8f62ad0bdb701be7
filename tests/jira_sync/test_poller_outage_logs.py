"""The poller's loop through a Jira outage: one line when it starts, one when it ends, never a
traceback or the client's dump of headers; and Jira's odd answers in an outage (a proxy's HTML
page, a body cut off) come out as the port's ``UnavailableError``, not as raw ``requests``
errors."""

from __future__ import annotations

import http.server
import logging
import socket
import threading
from collections.abc import Callable, Iterator

import jira
import pytest
from sqlalchemy import Engine

from deskhand.inbox import Inbox
from deskhand.ports import UnavailableError
from deskhand.workers import Loop
from jira_sync.poller import JiraPoller
from sandbox.faults import Fault, FaultKind
from tests.jira_fixtures import TOKEN
from tests.jira_sync.sites import Site

# The fixture, imported under its own name so pytest finds it here.
from tests.jira_sync.sites import make_site as make_site

POLL = 10.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_two_minutes_of_503_are_one_warning_and_the_recovery_one_info(
    make_site: Callable[..., Site], flavour: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="deskhand.workers")
    site = make_site(flavour)
    clock = Clock()
    loop = Loop("jira-poll", site.poller.run_once, interval=POLL, clock=clock)
    site.bob.create("IT", "Printer on fire")
    site.fake.faults.add("*", Fault(FaultKind.SERVER_ERROR, times=None, status=503))
    for _ in range(12):
        clock.now += POLL
        assert loop.turn() == 0
    site.fake.faults.clear()
    clock.now += POLL
    assert loop.turn() == 1  # the issue created during the outage

    logged = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "deskhand.workers"]
    assert logged == [
        (logging.WARNING, "jira-poll: step failed, will retry: HTTP 503 Internal server error."),
        (logging.INFO, "jira-poll: recovered after 2 min, 12 failed steps"),
    ]
    assert all(r.exc_info is None for r in caplog.records)
    assert "response headers" not in caplog.text
    assert TOKEN not in caplog.text


class Broken(http.server.BaseHTTPRequestHandler):
    """A Jira behind a failing proxy: answers every GET as ``mode`` says."""

    protocol_version = "HTTP/1.1"
    mode = "html"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.mode == "html":
            body = b"<html><body><h1>Down for maintenance</h1></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        # "cut": promise a long JSON body, send its start, then drop the connection.
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b'{"timeZone": ')
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True


@pytest.fixture
def broken_jira() -> Iterator[tuple[str, type[Broken]]]:
    handler = type("Handler", (Broken,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", handler
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("mode", "said"),
    [("html", "Jira's answer was not JSON"), ("cut", "Jira's answer broke off")],
)
def test_a_broken_answer_is_unavailable(
    broken_jira: tuple[str, type[Broken]], engine: Engine, mode: str, said: str
) -> None:
    url, handler = broken_jira
    handler.mode = mode
    client = jira.JIRA(
        server=url, token_auth=TOKEN, timeout=5, max_retries=0, get_server_info=False
    )
    poller = JiraPoller(client, Inbox(engine), engine, ["IT"], flavour="server")
    with pytest.raises(UnavailableError, match=said):
        poller.run_once()
