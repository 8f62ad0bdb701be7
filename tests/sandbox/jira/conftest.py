"""The fake Jira's own tests. Its fixtures (``fake``, ``cloud``, ``server``, ``client``) come
from ``tests/jira_fixtures.py``; the helpers are named here too for the modules that import
them from this package."""

from __future__ import annotations

from tests.jira_fixtures import (
    BOT_EMAIL,
    TOKEN,
    connect,
    error_json,
    error_response,
    make_fake,
    new_issue,
    raw_session,
)

__all__ = [
    "BOT_EMAIL",
    "TOKEN",
    "connect",
    "error_json",
    "error_response",
    "make_fake",
    "new_issue",
    "raw_session",
]
