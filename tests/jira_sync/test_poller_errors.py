"""The poller when Jira fails, an issue goes away mid-run, or its arguments are wrong."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from deskhand.inbox import Inbox
from deskhand.ports import RateLimitedError, UnavailableError
from jira_sync.poller import JiraPoller
from sandbox.faults import Fault, FaultKind
from tests.jira_sync.sites import Site, assert_exactly_the_states_seen, stored

# The fixture, imported under its own name so pytest finds it here.
from tests.jira_sync.sites import make_site as make_site


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(FaultKind.SERVER_ERROR, status=503), UnavailableError),
        (Fault(FaultKind.RATE_LIMIT, retry_after=7), RateLimitedError),
    ],
    ids=["503", "429"],
)
@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_jira_errors_surface_and_the_next_run_catches_up(
    make_site: Callable[..., Site], flavour: str, fault: Fault, error: type[Exception]
) -> None:
    site = make_site(flavour)
    site.run()
    site.bob.create("IT", "During the outage")
    site.bob.comment("IT-1", "also during")
    site.note()
    before = site.cursor()
    site.fake.faults.add("GET /issue/{key}/comment", fault)
    with pytest.raises(error):
        site.run()
    assert site.cursor() == before
    assert stored(site.engine).comments == []
    site.run()
    assert_exactly_the_states_seen(site)
    assert site.cursor() == datetime.fromisoformat(stored(site.engine).issues[-1].updated)


def test_an_issue_deleted_while_its_comments_are_read_is_passed_over(
    make_site: Callable[..., Site], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site("server")
    site.bob.create("IT", "Going away")
    site.bob.create("IT", "Staying")
    site.bob.comment("IT-2", "hello")
    client = site.poller._client
    comments = client.comments

    def delete_first(key: str, *args: Any, **kwargs: Any) -> Any:
        if key == "IT-1" and "IT-1" in site.fake.state.issues:
            site.fake.state.delete_issue(site.fake.state.user("bob"), "IT-1")
        return comments(key, *args, **kwargs)

    monkeypatch.setattr(client, "comments", delete_first)
    assert site.run() == 3
    assert [c.body for c in stored(site.engine).comments] == ["hello"]


def test_bad_arguments_are_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="flavour"):
        JiraPoller(None, Inbox(engine), engine, ["IT"], flavour="datacenter")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="project"):
        JiraPoller(None, Inbox(engine), engine, [], flavour="cloud")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        JiraPoller(
            None,  # type: ignore[arg-type]
            Inbox(engine),
            engine,
            ["IT"],
            flavour="cloud",
            overlap=timedelta(minutes=-1),
        )
