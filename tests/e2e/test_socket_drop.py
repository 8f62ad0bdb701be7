"""The Socket Mode connection drops mid-burst (ACCEPTANCE 15): Deskhand reconnects and, with
Slack's retries, nothing is lost."""

from __future__ import annotations

from pathlib import Path

from deskhand.wiring import build
from sandbox.clock import Clock
from sandbox.faults import Fault, FaultKind
from sandbox.world import SandboxWorld
from tests.e2e.conftest import Running, config_for
from tests.waiting import DEADLINE, eventually


def test_a_dropped_connection_mid_burst_loses_nothing(tmp_path: Path) -> None:
    # Slack's retries after 1 and 5 minutes pass twenty times faster here.
    with SandboxWorld(clock=Clock(speed=20), rate_limits=False) as world:
        ws = world.slack.workspace
        ws.add_channel("hr-triage", private=True, members=[ws.bot])
        deskhand = build(
            config_for(world),
            bot_token=world.slack.bot_token,
            signing_secret=None,
            database_url=f"sqlite:///{tmp_path / 'drop.db'}",
        )
        server = world.slack.deliver_socket_mode()
        deskhand.start()
        deskhand.connect_socket_mode(world.slack.app_token, ping_interval=1.0)
        assert server.wait_for_connection(DEADLINE)
        running = Running(world, deskhand, web_url="")  # no HTTP side here
        try:
            slack = world.slack.driver
            questions = [slack.user("alice").post("#help", f"Burst {n}") for n in range(6)]
            for n, question in enumerate(questions):
                if n == 3:
                    # Until a delivery has failed, Slack answers Deskhand's reconnection with
                    # 429 (slack_sdk waits as told and asks again): the rest of the burst
                    # meets the dropped connection or none, however fast Deskhand reconnects.
                    refused = Fault(FaultKind.RATE_LIMIT, times=None, retry_after=1)
                    world.slack.web.faults.add("apps.connections.open", refused)
                    server.connect_wait = 0.5
                    server.drop()
                slack.user("bob").react(question, "ticket")
            assert eventually(lambda: any(a.outcome != "acked" for a in server.attempts))
            world.slack.web.faults.clear("apps.connections.open")
            assert server.wait_idle(DEADLINE)
            running.settle()
            assert sorted(t.title for t in running.tickets()) == [f"Burst {n}" for n in range(6)]
            assert len(slack.bot_posts("#it-triage")) == 6
            retried = [a for a in server.attempts if a.retry_num > 0]
            assert retried != []  # some events did need Slack's retries
        finally:
            deskhand.stop()
