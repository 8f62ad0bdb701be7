"""The configuration ``deskhand sandbox`` writes for ``deskhand run``: the user's own
config.yaml, comments and all, pointed at the running sandbox.

What changes: Slack's Web API URL (Socket Mode, whose URL Slack hands out through
``apps.connections.open``, so there is nothing else to set), Jira's URL, flavour and accounts,
a fresh SQLite database (the sandbox starts empty each time, so tickets from an earlier run
would point at messages that no longer exist), the address where Jira's webhooks arrive, and
recipe paths made absolute so the file works from any folder.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from deskhand.config import parse_config

HEADER = """\
# Written by `deskhand sandbox` from {source}: the same settings, pointed at the sandbox.
# It is rewritten at every start of the sandbox (its ports change); do not edit it.
"""


@dataclass(frozen=True)
class SandboxEndpoints:
    """Where the running sandbox is, and what Deskhand should use there."""

    slack_api_url: str
    database_url: str
    http_port: int
    """Where Deskhand listens for the sandbox Jira's webhooks."""
    jira_url: str | None = None
    jira_flavour: str = "cloud"
    jira_account: str = ""
    """The sandbox Jira's API user: an email on Cloud, a user name on Server."""
    jira_fallback: str = ""
    """An account the sandbox Jira has, for ``fallback_account`` if the source sets one."""


def sandbox_config(source: Path, destination: Path, endpoints: SandboxEndpoints) -> str:
    """The text of ``source`` pointed at ``endpoints``, to be written to ``destination``.

    It is checked as ``deskhand run -c destination`` would load it: a problem is a bug here,
    raised as :class:`deskhand.config.ConfigError`.
    """
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    tree = yaml.load(source.read_text(encoding="utf-8"))
    slack = _section(tree, "slack")
    slack["mode"] = "socket"
    slack["api_url"] = endpoints.slack_api_url
    _section(tree, "database")["url"] = endpoints.database_url
    http = _section(tree, "http")
    http["host"] = "127.0.0.1"
    http["port"] = endpoints.http_port
    http.pop("public_url", None)
    recipes = tree.get("recipes")
    if isinstance(recipes, CommentedMap) and recipes.get("paths"):
        base = source.resolve().parent
        paths = recipes["paths"]
        for index, entry in enumerate(paths):
            paths[index] = str(base / entry)
    jira = tree.get("jira")
    if isinstance(jira, CommentedMap) and endpoints.jira_url is not None:
        jira["url"] = endpoints.jira_url
        jira["flavour"] = endpoints.jira_flavour
        jira["account"] = endpoints.jira_account
        if jira.get("fallback_account"):
            jira["fallback_account"] = endpoints.jira_fallback
    buffer = io.StringIO()
    yaml.dump(tree, buffer)
    text = HEADER.format(source=source.name) + buffer.getvalue()
    parse_config(text, str(destination), base_dir=destination.parent)
    return text


def _section(tree: CommentedMap, name: str) -> Any:
    """The mapping under ``name``, added when the source leaves the section to its defaults."""
    if not isinstance(tree.get(name), CommentedMap):
        tree[name] = CommentedMap()
    return tree[name]
