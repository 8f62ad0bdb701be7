"""In Socket Mode ``/jira/webhook`` is served by werkzeug; its access lines go to the log
without terminal colour codes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import BaseWSGIServer, make_server

from deskhand.serve import PlainLogRequestHandler


def refuse(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("401 UNAUTHORIZED", [("Content-Type", "text/plain")])
    return [b"bad signature"]


@pytest.fixture
def server() -> Iterator[BaseWSGIServer]:
    served = make_server(
        "127.0.0.1", 0, refuse, threaded=True, request_handler=PlainLogRequestHandler
    )
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    yield served
    served.shutdown()
    thread.join()


def test_access_lines_carry_no_colour_codes(
    server: BaseWSGIServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    url = f"http://127.0.0.1:{server.port}/jira/webhook"
    # werkzeug logs the line before it sends the answer: it is there once the answer is.
    assert requests.post(url, data=b"{}", timeout=10).status_code == 401
    [line] = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert '"POST /jira/webhook HTTP/1.1" 401 -' in line
    assert "\x1b" not in line
