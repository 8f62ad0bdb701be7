"""The test PostgreSQL can be started from the installed binaries when no server is running."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from storage.engine import make_engine
from storage.throwaway_postgres import _server_binaries, _start_cluster
from tests.conftest import in_ci


@pytest.mark.postgres
def test_a_throwaway_cluster_starts_serves_and_stops() -> None:
    binaries = _server_binaries()
    if binaries is None:
        if in_ci():
            pytest.fail("CI=true but no PostgreSQL server binaries are installed")
        pytest.skip("no PostgreSQL server binaries (initdb) installed")
    server = _start_cluster(binaries)
    try:
        url = server.create_database()
        assert server.admin_url.port != 5432
        engine = make_engine(url)
        with engine.connect() as connection:
            assert (
                connection.execute(text("SELECT current_database()")).scalar()
                == url.rsplit("/", 1)[1]
            )
        engine.dispose()
        server.drop_databases()
    finally:
        server.stop()
    with pytest.raises(psycopg.OperationalError):
        server.create_database()
