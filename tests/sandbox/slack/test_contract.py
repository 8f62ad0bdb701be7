"""The fake Slack against what Slack publishes: responses, requests and recorded shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import SHARED_TESTDATA
from tests.contracts.slack import SlackContract
from tests.sandbox.slack.harness import Env, start_env
from tests.sandbox.slack.scenarios import SCENARIOS

ONLY_ERRORS_SO_FAR = {"apps.connections.open"}
"""Methods whose success path needs a part of the sandbox that isn't built yet (Socket Mode)."""

FIXTURES = SHARED_TESTDATA / "slack" / "python-slack-sdk-fixtures"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_holds_to_the_contract(env: Env, name: str) -> None:
    SCENARIOS[name](env)
    assert env.fake.web.calls, "the scenario made no calls"
    assert env.request_problems() == []


def test_every_method_of_the_fake_is_covered(contract: SlackContract) -> None:
    """Adding a method to the fake without a scenario for it fails here."""
    with start_env(contract) as env:
        for scenario in SCENARIOS.values():
            scenario(env)
        implemented = set(env.fake.web.methods)
        calls = env.fake.web.calls
        assert {call.method for call in calls} == implemented
        succeeded = {call.method for call in calls if call.ok}
        failed = {call.method for call in calls if not call.ok}
        assert succeeded == implemented - ONLY_ERRORS_SO_FAR
        assert failed == implemented
        assert env.request_problems() == []


def test_a_wrong_bearer_token_is_invalid_auth(env: Env) -> None:
    env.error("invalid_auth", env.client("xoxb-not-a-token").auth_test)


# the validators can fail -------------------------------------------------------------------


def test_response_problems_catch_a_wrong_type(contract: SlackContract) -> None:
    good = {"ok": True, "channel": "C0123ABCDE", "ts": "1700000000.000100"}
    assert contract.response_problems("chat.delete", good) == []
    problems = contract.response_problems("chat.delete", {**good, "ts": 1700000000.0001})
    assert problems
    assert all("ts" in problem for problem in problems)


def test_response_problems_check_openapi_schemas(contract: SlackContract) -> None:
    # users.lookupByEmail requires 'user' in the OpenAPI 200 schema; the TS type does not.
    assert contract.response_problems("users.lookupByEmail", {"ok": True}) != []
    assert any("OpenAPI" in p for p in contract.response_problems("users.info", {"ok": True}))


def test_response_problems_check_error_bodies(contract: SlackContract) -> None:
    assert contract.response_problems("chat.postMessage", {"ok": False, "error": "no_text"}) == []
    assert contract.response_problems("chat.postMessage", {"ok": False}) != []
    invented = contract.response_problems("chat.postMessage", {"ok": False, "error": "oops"})
    assert invented == ["chat.postMessage: error 'oops' is not documented for this method"]
    # Allowlisted with its docs page, and only for the method that documents it.
    assert contract.response_problems("views.update", {"ok": False, "error": "hash_conflict"}) == []
    assert contract.response_problems("chat.delete", {"ok": False, "error": "hash_conflict"}) != []
    assert contract.response_problems("auth.test", "not json") != []


def test_shape_problems_catch_an_invented_key(contract: SlackContract) -> None:
    message: dict[str, Any] = {"text": "hi", "ts": "1.2"}
    body: dict[str, Any] = {"ok": True, "channel": "C0123ABCDE", "ts": "1.2", "message": message}
    assert contract.shape_problems("chat.postMessage", body) == []
    invented = {**body, "message": {**message, "sparkle": True}}
    assert contract.shape_problems("chat.postMessage", invented) == [
        "/message/sparkle: not in Slack's recorded sample"
    ]
    wrong_type = {**body, "message": {**message, "ts": 1.2}}
    assert contract.shape_problems("chat.postMessage", wrong_type) == [
        "/message/ts: number where Slack has string"
    ]
    nested = {"ok": True, "members": ["U0123ABCDE", 7]}
    assert contract.shape_problems("conversations.members", nested) == [
        "/members/1: number where Slack has string"
    ]
    # Under an empty object in the sample (metadata.event_payload) anything goes.
    free = {**body, "message": {"metadata": {"event_type": "x", "event_payload": {"a": [1]}}}}
    assert contract.shape_problems("chat.postMessage", free) == []
    assert contract.shape_problems("no.suchMethod", body) != []


def test_request_problems_catch_undocumented_arguments(contract: SlackContract) -> None:
    args: dict[str, Any] = {
        "channel": "C0123ABCDE",
        "text": "hi",
        "metadata": "{}",
        "token": "xoxb",
    }
    assert contract.request_problems("chat.postMessage", args) == []
    assert contract.request_problems("chat.postMessage", {**args, "colour": "red"}) == [
        "chat.postMessage: argument 'colour' is not documented for this method"
    ]
    # Allowlisted for chat.postMessage and chat.update only.
    assert (
        contract.request_problems("chat.delete", {"channel": "C0123ABCDE", "metadata": "{}"}) != []
    )
    assert contract.request_problems("chat.sparkle", {}) == [
        "chat.sparkle: not a documented Web API method"
    ]
    assert contract.request_problems("apps.connections.open", {}) == []


# real Slack views --------------------------------------------------------------------------


def _fixture_views(prefix: str) -> list[str]:
    return sorted(path.name for path in FIXTURES.glob(f"{prefix}_*.json"))


def test_the_sample_views_are_there() -> None:
    assert len(_fixture_views("view_modal")) == 10
    assert len(_fixture_views("view_home")) == 6


@pytest.mark.parametrize("name", _fixture_views("view_modal"))
def test_real_modals_open(env: Env, name: str) -> None:
    view = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    trigger = env.fake.workspace.issue_trigger(env.alice)
    opened = env.ok(env.bot.views_open, trigger_id=trigger, view=view)["view"]
    assert opened["blocks"] == view["blocks"]
    assert env.request_problems() == []


@pytest.mark.parametrize("name", _fixture_views("view_home"))
def test_real_home_views_publish(env: Env, name: str) -> None:
    view = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    published = env.ok(env.bot.views_publish, user_id=env.alice.id, view=view)["view"]
    assert published["blocks"] == view["blocks"]
    assert env.request_problems() == []


def test_the_harness_checks_what_it_is_given(env: Env) -> None:
    """Env.check fails on a body the contract rejects, so the scenarios' checks have teeth."""
    check: Callable[[], None] = lambda: env.check({"ok": True, "ts": 5}, "chat.delete")  # noqa: E731
    with pytest.raises(AssertionError):
        check()
