"""Faults and rate limits of the fake Slack, as slack_sdk's WebClient sees them."""

from __future__ import annotations

import socket
import urllib.error
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from sandbox.faults import Fault, FaultKind
from sandbox.slack.fake import SlackFake
from sandbox.slack.rate_limits import POST_BURST
from tests.sandbox.stepped_clock import SteppedClock
from tests.waiting import eventually

HANG = 60.0
"""Real seconds a timing-out fake holds the request: far past the clients' 0.2 s, so a client
held up on a loaded machine still finds no answer when it looks."""


@pytest.fixture
def fake() -> Iterator[SlackFake]:
    # Time stands still unless a test moves it: no budget refills while the calls run.
    with SlackFake(clock=SteppedClock()) as running:
        ws = running.workspace
        ws.add_channel("help", members=[ws.bot])
        ws.add_channel("it-triage", private=True, members=[ws.bot])
        yield running


def client(fake: SlackFake, **options: object) -> WebClient:
    return WebClient(base_url=fake.api_url, token=fake.bot_token, **options)  # type: ignore[arg-type]


def test_posting_is_paced_per_channel_with_a_short_burst(fake: SlackFake) -> None:
    web = client(fake)
    for n in range(int(POST_BURST)):
        web.chat_postMessage(channel="#help", text=f"burst {n}")
    with pytest.raises(SlackApiError) as caught:
        web.chat_postMessage(channel="#help", text="one too many")
    assert caught.value.response.status_code == 429
    assert caught.value.response["error"] == "ratelimited"
    assert int(caught.value.response.headers["Retry-After"]) >= 1
    # Another channel has its own budget.
    assert web.chat_postMessage(channel="#it-triage", text="unaffected")["ok"]
    assert [m.text for m in fake.driver.messages("#help")] == [
        f"burst {n}" for n in range(int(POST_BURST))
    ]


def test_the_sdk_retry_handler_waits_out_retry_after_and_the_message_lands_once(
    fake: SlackFake,
) -> None:
    fake.web.faults.add("chat.postMessage", Fault(FaultKind.RATE_LIMIT, retry_after=1))
    web = client(fake, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    assert web.chat_postMessage(channel="#help", text="eventually")["ok"]
    assert [call.status for call in fake.web.calls_to("chat.postMessage")] == [429, 200]
    assert [m.text for m in fake.driver.messages("#help")] == ["eventually"]


def test_method_tiers_limit_each_method_separately() -> None:
    # Tier 2 (20+ per minute): reactions.remove, on Slack's pace with time standing still.
    with SlackFake(clock=SteppedClock(speed=1)) as fake:
        ws = fake.workspace
        alice = ws.add_user("alice")
        ws.add_channel("help", members=[ws.bot, alice])
        message = fake.driver.user("alice").post("#help", "hi")
        web = client(fake)
        statuses: list[int] = []
        for _ in range(21):
            web.reactions_add(channel="#help", timestamp=message.ts, name="eyes")
            try:
                web.reactions_remove(channel="#help", timestamp=message.ts, name="eyes")
                statuses.append(200)
            except SlackApiError as error:
                statuses.append(error.response.status_code)
                break
        assert statuses == [200] * 20 + [429]
        assert web.auth_test()["ok"]  # other methods are unaffected


@pytest.mark.parametrize(("speed", "refilled"), [(1000, True), (1, False)])
def test_a_faster_clock_refills_budgets_faster(speed: float, refilled: bool) -> None:
    clock = SteppedClock(speed)
    with SlackFake(clock=clock) as fake:
        fake.workspace.add_channel("help", members=[fake.workspace.bot])
        web = client(fake)
        for n in range(int(POST_BURST)):
            assert web.chat_postMessage(channel="#help", text=f"{n}")["ok"]
        with pytest.raises(SlackApiError):
            web.chat_postMessage(channel="#help", text="over the burst")
        clock.real += 0.001  # one real millisecond: a sandbox second at speed 1000
        if refilled:
            assert web.chat_postMessage(channel="#help", text="refilled")["ok"]
        else:
            with pytest.raises(SlackApiError):
                web.chat_postMessage(channel="#help", text="still waiting")


def test_rate_limit_fault_names_its_retry_after(fake: SlackFake) -> None:
    fake.web.faults.add("chat.postMessage", Fault(FaultKind.RATE_LIMIT, retry_after=30))
    with pytest.raises(SlackApiError) as caught:
        client(fake).chat_postMessage(channel="#help", text="x")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "30"
    assert fake.driver.messages("#help") == []


def test_server_error_fault(fake: SlackFake) -> None:
    fake.web.faults.add("chat.update", Fault(FaultKind.SERVER_ERROR, status=503, times=1))
    web = client(fake)
    posted = web.chat_postMessage(channel="#help", text="before")
    with pytest.raises(SlackApiError) as caught:
        web.chat_update(channel=posted["channel"], ts=posted["ts"], text="after")
    assert caught.value.response.status_code == 503
    assert fake.driver.messages("#help")[0].text == "before"
    web.chat_update(channel=posted["channel"], ts=posted["ts"], text="after")  # fault used up
    assert fake.driver.messages("#help")[0].text == "after"


def test_timeout_fault_makes_the_client_give_up_and_nothing_happens(fake: SlackFake) -> None:
    fake.web.faults.add("chat.postMessage", Fault(FaultKind.TIMEOUT, delay=HANG))
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        client(fake, timeout=0.2).chat_postMessage(channel="#help", text="lost")
    assert fake.driver.messages("#help") == []


def test_reset_fault_breaks_the_connection(fake: SlackFake) -> None:
    fake.web.faults.add("conversations.info", Fault(FaultKind.RESET))
    with pytest.raises((ConnectionError, urllib.error.URLError)):
        client(fake, retry_handlers=[]).conversations_info(channel="#help")
    # slack_sdk's default handler retries connection errors once: the next call gets through.
    fake.web.faults.add("conversations.info", Fault(FaultKind.RESET))
    assert client(fake).conversations_info(channel="#help")["ok"]
    assert [call.status for call in fake.web.calls_to("conversations.info")] == [0, 0, 200]


def test_succeed_then_timeout_leaves_the_message_for_a_lookup(fake: SlackFake) -> None:
    """The case behind "look for the tag before retrying": the post happened, the client
    saw only a timeout."""
    fake.web.faults.add("chat.postMessage", Fault(FaultKind.SUCCEED_THEN_TIMEOUT, delay=HANG))
    metadata = {"event_type": "deskhand_card", "event_payload": {"ticket": "IT-1"}}
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        client(fake, timeout=0.2).chat_postMessage(channel="#help", text="card", metadata=metadata)
    # The client gave up on its own clock, which says nothing of how far the fake has got.
    assert eventually(lambda: fake.driver.messages("#help") != [])
    history = client(fake).conversations_history(channel="#help", include_all_metadata=True)
    assert [m["metadata"] for m in history["messages"]] == [metadata]


def test_faults_can_be_limited_to_a_number_of_calls_or_cleared(fake: SlackFake) -> None:
    fake.web.faults.add("*", Fault(FaultKind.SERVER_ERROR, status=500, times=None))
    web = client(fake)
    for _ in range(3):
        with pytest.raises(SlackApiError):
            web.auth_test()
    fake.web.faults.clear()
    assert web.auth_test()["ok"]


def test_a_fault_can_be_narrowed_to_one_channel(fake: SlackFake) -> None:
    found = fake.workspace.find_channel("it-triage")
    assert found is not None
    triage = found.id
    fake.web.faults.add(
        f"chat.postMessage:{triage}", Fault(FaultKind.RATE_LIMIT, times=None, retry_after=30)
    )
    web = client(fake)
    assert web.chat_postMessage(channel="#help", text="flows")["ok"]
    with pytest.raises(SlackApiError) as caught:
        web.chat_postMessage(channel=triage, text="held")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "30"
    fake.web.faults.clear(f"chat.postMessage:{triage}")
    assert web.chat_postMessage(channel=triage, text="now")["ok"]
    assert [m.text for m in fake.driver.messages("#it-triage")] == ["now"]
