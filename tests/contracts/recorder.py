"""The suite-wide check on what the app under test sends to the fakes.

Every Slack call must name a method and arguments Slack documents; every Jira request must be
one Atlassian's spec documents. A test that uses the ``sandbox_world`` fixture fails at teardown
when anything it made Deskhand send falls outside those.
"""

from __future__ import annotations

from sandbox.world import SandboxWorld
from tests.contracts import jira
from tests.contracts.slack import SlackContract


def undocumented_requests(world: SandboxWorld, slack: SlackContract) -> list[str]:
    """One line per request the fakes received that Slack or Atlassian does not document."""
    problems: list[str] = []
    for call in world.slack.web.calls:
        problems += [f"Slack {line}" for line in slack.request_problems(call.method, call.args)]
    for record in world.jira.requests:
        if record.route is None:
            problems.append(f"Jira {record.method} {record.path}: no such endpoint in the fake")
            continue
        problems += [f"Jira {line}" for line in jira.request_problems(record)]
    return problems
