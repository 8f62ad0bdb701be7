"""Fixtures for the fake Slack's contract tests: the published material and a running fake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.sandbox.slack.harness", "tests.sandbox.slack.scenarios")

from sandbox.slack.contract import SlackContract  # noqa: E402
from tests.sandbox.slack.harness import Env, start_env  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[3]
TESTDATA = REPO_ROOT.parent / "shared" / "testdata"


@pytest.fixture(scope="session")
def contract() -> SlackContract:
    return SlackContract(TESTDATA)


@pytest.fixture
def env(contract: SlackContract) -> Iterator[Env]:
    with start_env(contract) as running:
        yield running
