"""Fixtures shared by the whole suite: databases on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine

from sandbox.clock import Clock
from sandbox.world import Layout, SandboxWorld
from storage.engine import make_engine
from storage.throwaway_postgres import PostgresServer, PostgresUnavailableError, postgres_server

pytest_plugins = ["tests.jira_fixtures"]

# Property tests run beside the whole suite on a loaded machine: what they check is what the
# code does with each example, never how long an example (or making one) takes; bench/
# measures speed. Hypothesis would otherwise fail an example slower than 200 ms.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

ROOT = Path(__file__).resolve().parent.parent
SHARED_TESTDATA = Path(os.environ.get("DESKHAND_TESTDATA", ROOT.parent / "shared" / "testdata"))
"""Slack's and Atlassian's published specs and recorded payloads, kept beside the project."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def shared_testdata() -> Path:
    """The published specs and recorded payloads the fakes are checked against."""
    if not (SHARED_TESTDATA / "MANIFEST.json").is_file():
        message = f"the shared test data is not at {SHARED_TESTDATA} (set DESKHAND_TESTDATA)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_TESTDATA


@pytest.fixture
def jira_flavour() -> str:
    """The sandbox's Jira: 'cloud' unless a test module parametrises this fixture."""
    return "cloud"


@pytest.fixture
def sandbox_world(
    shared_testdata: Path, jira_flavour: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SandboxWorld]:
    """Slack and Jira stand-ins, seeded; at teardown, every request the app sent them must be
    one Slack or Atlassian documents (see tests/contracts/recorder.py). The sandbox's clock,
    and with it Slack's rate limits, runs 100x fast; Deskhand's Slack pacing keeps step."""
    from bot import slack_pacing
    from tests.contracts.recorder import undocumented_requests
    from tests.contracts.slack import SlackContract

    layout = Layout(jira_flavour="server" if jira_flavour == "server" else "cloud")
    speed = 100.0
    monkeypatch.setattr(slack_pacing, "SPEED", speed)
    with SandboxWorld(layout, clock=Clock(speed=speed)) as world:
        yield world
    problems = undocumented_requests(world, SlackContract(shared_testdata))
    assert problems == [], "the app sent undocumented requests:\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for this test worker. Missing outside CI: skip; in CI: fail."""
    try:
        with postgres_server() as server:
            yield server
    except PostgresUnavailableError as exc:
        message = f"PostgreSQL is not available: {exc}"
        if in_ci():
            pytest.fail(message + " (CI=true: PostgreSQL tests may not be skipped)")
        pytest.skip(message)


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return postgres.create_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'deskhand.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each backend in turn."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """An engine on an empty database migrated to the latest revision."""
    from storage.migrate import upgrade

    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
