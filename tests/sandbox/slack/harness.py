"""A running fake Slack, the real ``slack_sdk.WebClient`` pointed at it, and contract checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from sandbox.slack.fake import SlackFake
from sandbox.slack.state import Channel, User
from tests.contracts.slack import SlackContract


@dataclass
class Env:
    """One workspace: people, channels and clients, and the contract to hold them to."""

    fake: SlackFake
    contract: SlackContract
    bot: WebClient
    alice: User
    bob: User
    alice_client: WebClient
    support: Channel
    """Public; the bot and Alice are members."""
    random: Channel
    """Public; the bot is not a member."""
    secret: Channel
    """Private; only Alice is a member."""
    usergroup: str

    def client(self, token: str | None) -> WebClient:
        return WebClient(base_url=self.fake.api_url, token=token)

    def check(self, response: SlackResponse | dict[str, Any], method: str | None = None) -> None:
        """The body holds to the published schemas and, where Slack recorded one, the shape."""
        if isinstance(response, SlackResponse):
            method = method or response.api_url.rstrip("/").rsplit("/", 1)[-1]
            body = response.data
        else:
            body = response
        assert method is not None
        assert isinstance(body, dict)
        assert self.contract.response_problems(method, body) == []
        if self.contract.has_shape_sample(method):
            assert self.contract.shape_problems(method, body) == []

    def ok(self, call: Callable[..., SlackResponse], **kwargs: Any) -> dict[str, Any]:
        """Call a WebClient method that must succeed; its checked body."""
        response = call(**kwargs)
        assert isinstance(response.data, dict)
        assert response.data["ok"] is True
        self.check(response)
        return response.data

    def error(self, code: str, call: Callable[..., SlackResponse], **kwargs: Any) -> dict[str, Any]:
        """Call a WebClient method that must fail with ``code``; its checked body."""
        with pytest.raises(SlackApiError) as raised:
            call(**kwargs)
        response = raised.value.response
        assert isinstance(response.data, dict)
        assert response.data.get("error") == code, response.data
        self.check(response)
        return response.data

    def request_problems(self) -> list[str]:
        """Problems with any request a client sent so far."""
        problems: list[str] = []
        for call in self.fake.web.calls:
            problems += self.contract.request_problems(call.method, call.args)
        return problems


@contextmanager
def start_env(contract: SlackContract) -> Iterator[Env]:
    with SlackFake(rate_limits=False) as fake:
        workspace = fake.workspace
        bot_user = workspace.bot
        alice = workspace.add_user("alice", real_name="Alice Agent", email="alice@example.com")
        bob = workspace.add_user("bob", real_name="Bob Builder")
        support = workspace.add_channel("support", members=[bot_user, alice])
        random = workspace.add_channel("random", members=[alice, bob])
        secret = workspace.add_channel("secret", private=True, members=[alice])
        workspace.usergroups["S0SUPPORT"] = [alice.id, bob.id]
        yield Env(
            fake=fake,
            contract=contract,
            bot=WebClient(base_url=fake.api_url, token=fake.bot_token),
            alice=alice,
            bob=bob,
            alice_client=WebClient(base_url=fake.api_url, token=workspace.user_token(alice)),
            support=support,
            random=random,
            secret=secret,
            usergroup="S0SUPPORT",
        )
