"""The database is unreachable for a while (ACCEPTANCE 16): nothing is acknowledged before it
is stored (Slack gets 503 and retries), and afterwards each event takes effect once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from sandbox.world import SandboxWorld
from storage.throwaway_postgres import PostgresServer
from tests.e2e.conftest import Running, serving
from tests.waiting import DEADLINE


def allow_connections(server: PostgresServer, database: str, allowed: bool) -> None:
    with server._admin() as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(database), sql.SQL("true" if allowed else "false")
            )
        )
        if not allowed:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )


@pytest.fixture
def on_postgres(
    sandbox_world: SandboxWorld, postgres: PostgresServer, postgres_url: str
) -> Iterator[tuple[Running, str]]:
    with serving(sandbox_world, postgres_url, "http") as running:
        yield running, str(make_url(postgres_url).database)


@pytest.mark.postgres
def test_deliveries_during_an_outage_are_refused_then_take_effect_once(
    on_postgres: tuple[Running, str], postgres: PostgresServer
) -> None:
    running, database = on_postgres
    world = running.world
    slack = world.slack.driver
    question = slack.user("alice").post("#help", "Nothing loads")
    running.settle()
    http = world.slack.http
    assert http is not None
    # Sandbox seconds, so about 5 ms, 1 s and 30 s real: the last retry comes long after the
    # database is back, however slowly this machine lets it come back.
    http.retry_delays = (0.5, 100.0, 3000.0)
    allow_connections(postgres, database, allowed=False)
    try:
        slack.user("bob").react(question, "ticket")
        refused = http.wait_for_attempt(lambda attempt: attempt.status == 503, DEADLINE)
        assert refused is not None, "the delivery was not refused"
    finally:
        allow_connections(postgres, database, allowed=True)
    assert http.wait_idle(DEADLINE)
    running.settle()
    assert [a.status for a in http.attempts if a.key == refused.key][-1] == 200
    assert [t.key for t in running.tickets()] == ["IT-1"]
    assert len(slack.bot_posts("#it-triage")) == 1
