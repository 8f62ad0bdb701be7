"""Fixtures for the fake Slack's contract tests: the published material and a running fake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.sandbox.slack.harness", "tests.sandbox.slack.scenarios")

from tests.contracts.slack import SlackContract  # noqa: E402
from tests.sandbox.slack.harness import Env, start_env  # noqa: E402


@pytest.fixture(scope="session")
def contract(shared_testdata: Path) -> SlackContract:
    return SlackContract(shared_testdata)


@pytest.fixture
def env(contract: SlackContract) -> Iterator[Env]:
    with start_env(contract) as running:
        yield running
