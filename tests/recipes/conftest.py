"""What the recipe tests share: a configuration with four teams and a way to write events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pytest

from deskhand.config import Config, parse_config
from deskhand.domain import Priority, TicketStatus
from recipes.events import RecipeEvent
from recipes.schema import Trigger

CONFIG_YAML = """\
slack:
  request_channels: [help, help-it]
  auto_ticket_channels: [it-requests]
teams:
  - name: IT
    key_prefix: IT
    triage_channel: it-triage
    services: [Access, Network]
    jira: {project: IT}
    business_hours: {timezone: Europe/Berlin, start: "08:00", end: "18:00"}
    forms:
      - name: access
        fields:
          - {id: system, label: System, type: select, options: [VPN, Email, GitHub]}
          - {id: apps, label: Apps, type: text}
  - name: HR
    key_prefix: HR
    triage_channel: hr-triage
    services: [Payroll, Leave]
    business_hours: {timezone: America/New_York, start: "09:00", end: "17:00"}
  - name: Facilities
    key_prefix: FAC
    triage_channel: facilities-triage
    services: [Desks]
  - name: Legal
    key_prefix: LEG
    triage_channel: legal-triage
jira: {url: "https://example.atlassian.net", account: bot@example.com}
"""

WEDNESDAY_MORNING = "2026-11-04T10:00:00+00:00"
"""11:00 in Berlin (IT is open), 05:00 in New York (HR is closed)."""


@pytest.fixture(scope="session")
def config() -> Config:
    return parse_config(CONFIG_YAML, "config.yaml")


def make_event(spec: Mapping[str, Any]) -> RecipeEvent:
    """A RecipeEvent from a plain mapping (as written in the YAML cases)."""
    values = dict(spec)
    values["trigger"] = Trigger(values.get("trigger", "ticket.created"))
    values["at"] = datetime.fromisoformat(str(values.get("at", WEDNESDAY_MORNING)))
    for name, kind in (
        ("priority", Priority),
        ("status", TicketStatus),
        ("previous_status", TicketStatus),
    ):
        if values.get(name) is not None:
            values[name] = kind(values[name])
    values["fields"] = {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in values.get("fields", {}).items()
    }
    for name in ("labels", "requester_groups"):
        values[name] = frozenset(values.get(name, ()))
    return RecipeEvent(**values)
