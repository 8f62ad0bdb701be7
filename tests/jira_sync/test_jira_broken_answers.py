"""A Jira answer that breaks off or is not JSON: reads are unavailable, writes unknown."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from deskhand.ports import UnavailableError, UnknownOutcomeError
from jira_sync.jira_port import JiraTrackerPort, connect

SERVER_INFO = {"baseUrl": "", "version": "9.12.0", "versionNumbers": [9, 12, 0]}


class BrokenProxy(http.server.BaseHTTPRequestHandler):
    """Jira behind a failing proxy: ``/serverInfo`` answers, everything else as ``mode`` says."""

    protocol_version = "HTTP/1.1"
    mode = "html"
    writes = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.endswith("/serverInfo"):
            self._send(200, "application/json", json.dumps(SERVER_INFO).encode())
        else:
            self._broken()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).writes += 1
        self._broken()

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _broken(self) -> None:
        if self.mode == "html":
            self._send(200, "text/html", b"<html><body><h1>Down for maintenance</h1></body></html>")
            return
        # "cut": promise a long JSON body, send its start, then drop the connection.
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b'{"id": "10001", ')
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True


@pytest.fixture(params=["html", "cut"])
def broken(request: pytest.FixtureRequest) -> Iterator[tuple[JiraTrackerPort, type[BrokenProxy]]]:
    handler = type("Handler", (BrokenProxy,), {"mode": request.param, "writes": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = connect(f"http://127.0.0.1:{server.server_port}", "server", "bot", "token", 5)
    yield port, handler
    server.shutdown()
    server.server_close()


def test_a_write_whose_answer_went_wrong_has_an_unknown_outcome(
    broken: tuple[JiraTrackerPort, type[BrokenProxy]],
) -> None:
    """Jira may have created the issue before the answer went wrong: the outbox must look for
    its tag before trying again, so this is not a plain failure."""
    port, handler = broken
    with pytest.raises(UnknownOutcomeError, match="Jira's answer"):
        port.create_issue("IT", "Task", "VPN is down", "", ["deskhand"], {})
    assert handler.writes == 1


def test_a_read_whose_answer_went_wrong_is_unavailable(
    broken: tuple[JiraTrackerPort, type[BrokenProxy]],
) -> None:
    port, handler = broken
    with pytest.raises(UnavailableError, match="Jira's answer"):
        port.find_by_label("IT", "deskhand-1")
    assert handler.writes == 0
