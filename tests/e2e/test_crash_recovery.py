"""A process killed right after acking a reaction loses nothing (ACCEPTANCE 4)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sandbox.clock import Clock
from sandbox.faults import Fault, FaultKind
from sandbox.world import SandboxWorld
from storage.engine import make_engine
from storage.models import InboxRow
from tests.e2e.conftest import eventually
from tests.e2e.test_run_command import free_port, write_config
from tests.waiting import DEADLINE


def start(config: Path, world: SandboxWorld, log: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DESKHAND_SLACK_BOT_TOKEN": world.slack.bot_token,
        "DESKHAND_SLACK_APP_TOKEN": world.slack.app_token,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "deskhand", "run", "--config", str(config)],
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_sigkill_after_the_ack_and_the_restart_creates_the_ticket(tmp_path: Path) -> None:
    # Slack allows about one Socket Mode connection a minute; a faster sandbox clock lets the
    # restart's connection through after seconds instead (Deskhand waits as Slack asks).
    with SandboxWorld(clock=Clock(speed=20)) as world:
        config = tmp_path / "config.yaml"
        write_config(config, world, "socket", free_port())
        engine = make_engine(f"sqlite:///{tmp_path / 'deskhand.db'}")
        server = world.slack.deliver_socket_mode()
        first = start(config, world, tmp_path / "first.log")
        try:
            assert server.wait_for_connection(DEADLINE)
            # Slack itself fails for now, so the stored reaction cannot be worked on yet.
            world.slack.web.faults.add(
                "conversations.info", Fault(FaultKind.SERVER_ERROR, times=None)
            )
            slack = world.slack.driver
            question = slack.user("alice").post("#help", "Docking station dead")
            slack.user("bob").react(question, "ticket")
            assert server.wait_idle(DEADLINE)  # acked: Slack will not send it again

            def stored() -> bool:
                with Session(engine) as session:
                    count = session.scalar(
                        select(func.count()).where(InboxRow.kind == "reaction_added")
                    )
                return bool(count)

            assert eventually(stored)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert slack.bot_posts("#it-triage") == []

        world.slack.web.faults.clear()
        second = start(config, world, tmp_path / "second.log")
        try:
            assert server.wait_for_connection(DEADLINE)
            # ACCEPTANCE 4's own bound: the ticket within 30 s of the restart.
            assert eventually(lambda: len(slack.bot_posts("#it-triage")) == 1, timeout=30)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(DEADLINE)
        assert "IT-1" in slack.bot_posts("#it-triage")[0].text
        engine.dispose()
