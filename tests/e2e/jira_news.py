"""How Jira's news reaches Deskhand in a test: by signed webhooks, or by the poller alone.

Tests of the Jira → Slack direction take a ``JiraNews`` and call ``wait_idle`` where Jira's
news must have reached Deskhand: with webhooks, until the fake Jira has delivered everything;
with the poller alone (no webhook secret, so Deskhand has no webhook endpoint to trust), one
run of Deskhand's own poller, which reads whatever changed since its last run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Protocol

from sandbox.jira.webhooks import WebhookSender
from tests.e2e.conftest import Running

SECRET = "jira-webhook-secret-for-tests"
DELIVERIES = ("webhooks", "poller")
POLL_INTERVAL = 3600.0
"""Deskhand's own poll loop runs once at start and then waits: the tests poll when they
need to, so each decides when Jira is read."""


class JiraNews(Protocol):
    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until what changed in Jira so far has reached Deskhand's inbox."""
        ...


class PolledNews:
    """The poller alone: waiting for Jira's news is one run of Deskhand's poller."""

    def __init__(self, running: Running) -> None:
        self.running = running

    def wait_idle(self, timeout: float = 10.0) -> bool:
        poller = self.running.deskhand.poller
        assert poller is not None, "the poller should be on"
        poller.run_once()
        return True


def build_options(delivery: str) -> dict[str, Any]:
    """Deskhand's Jira options for ``delivery``: webhooks alone, or the poller alone."""
    if delivery == "webhooks":
        return {"jira_webhook_secrets": [SECRET], "jira_poll_interval": 0}
    if delivery == "poller":
        return {"jira_webhook_secrets": [], "jira_poll_interval": POLL_INTERVAL}
    raise ValueError(f"unknown delivery {delivery!r}")


@contextlib.contextmanager
def jira_news(running: Running, delivery: str) -> Iterator[JiraNews]:
    if delivery == "poller":
        yield PolledNews(running)
        return
    with WebhookSender(
        running.world.jira, f"{running.web_url}/jira/webhook", SECRET, retry_delays=(1.0,)
    ) as sender:
        yield sender
