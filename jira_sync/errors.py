"""The ``jira`` client's failures as the core's port errors, and Jira's text limits."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from jira import JIRAError

from deskhand.ports import (
    RateLimitedError,
    RateLimitScope,
    RejectedError,
    UnavailableError,
    UnknownOutcomeError,
)

TEXT_LIMIT = 32_767
"""Jira's limit for comment and description bodies (Java characters: UTF-16 code units)."""
SUMMARY_LIMIT = 255
DEFAULT_RETRY_AFTER = 5.0
"""Seconds to wait after a 429 without a usable ``Retry-After``."""
RATE_LIMIT_SCOPES: dict[str, RateLimitScope] = {
    "jira-burst-based": "endpoint",
    "jira-per-issue-on-write": "subject",
}
"""What Jira Cloud's ``RateLimit-Reason`` says the limit covers: the burst limit is per
endpoint and method, the write limit per issue; the quotas (and a 429 that gives no reason,
as Server's do) cover the whole account."""


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, units: int) -> str:
    """The longest prefix of ``text`` of at most ``units`` UTF-16 code units."""
    # A surrogate pair cut in half is dropped by the decoder rather than sent broken.
    return text.encode("utf-16-le")[: 2 * max(units, 0)].decode("utf-16-le", errors="ignore")


def fit_body(text: str, limit: int = TEXT_LIMIT) -> str:
    """``text``, or its start with a note saying it was cut, within Jira's ``limit``.

    Jira answers an over-long body with a 400 that no retry can fix: never send one.
    """
    length = _utf16_len(text)
    if length <= limit:
        return text
    note = (
        f"\n\n_[Truncated by Deskhand: the text had {length:,} characters, more than Jira's "
        f"{limit:,}. The full text is in Slack.]_"
    )
    return _cut(text, limit - _utf16_len(note)) + note


def fit_summary(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """A one-line summary (Jira refuses line breaks there) of at most ``limit`` characters."""
    line = " ".join(text.split())
    if _utf16_len(line) <= limit:
        return line
    return _cut(line, limit - 1).rstrip() + "…"


def retry_after(response: requests.Response | None) -> float:
    """Seconds from ``Retry-After`` (delta seconds or an HTTP date)."""
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return DEFAULT_RETRY_AFTER
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else DEFAULT_RETRY_AFTER


def translate(error: JIRAError, *, write: bool) -> Exception:
    """The port error for a ``JIRAError`` (the client raises one for every HTTP error)."""
    status = error.status_code
    detail = str(error.text or "")
    if status == 429:
        response = error.response
        # A Response is falsy for 4xx and 5xx: compare with None.
        headers = response.headers if response is not None else {}
        reason = headers.get("RateLimit-Reason") or headers.get("X-RateLimit-Reason") or ""
        return RateLimitedError(
            retry_after(response),
            reason,
            service="jira",
            scope=RATE_LIMIT_SCOPES.get(reason, "account"),
        )
    if status is None:
        # Raised by the client itself (an answer it could not use): retrying will not help.
        return RejectedError("client", detail)
    if status == 504 and write:
        # A gateway gave up waiting on Jira, which may still have carried out the write.
        return UnknownOutcomeError(f"HTTP 504 {detail}".strip())
    if status >= 500 or status == 408:
        return UnavailableError(f"HTTP {status} {detail}".strip())
    return RejectedError(str(status), detail)


@contextmanager
def translated(*, write: bool) -> Iterator[None]:
    """Raise the core's errors for whatever the ``jira`` client raises inside.

    A timeout while connecting means nothing was sent; one while waiting for the answer to a
    write means the write may have happened (``UnknownOutcomeError``). So does an answer that
    broke off (the connection dropped mid-body) or is not JSON (the HTML page of a proxy or a
    maintenance screen in front of Jira): after a read, Jira is simply unavailable; after a
    write, Jira may have carried it out before the answer went wrong.
    """
    try:
        yield
    except (
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    ) as error:
        raise _after(write, f"Jira's answer broke off: {error}") from error
    except requests.exceptions.JSONDecodeError as error:
        raise _after(write, f"Jira's answer was not JSON (a proxy's page?): {error}") from error
    except JIRAError as error:
        raise translate(error, write=write) from error
    except requests.exceptions.ConnectTimeout as error:
        raise UnavailableError(f"connect timeout: {error}") from error
    except requests.exceptions.Timeout as error:
        if write:
            raise UnknownOutcomeError(f"timed out waiting for Jira: {error}") from error
        raise UnavailableError(f"timed out waiting for Jira: {error}") from error
    except requests.exceptions.ConnectionError as error:
        raise UnavailableError(f"connection error: {error}") from error


def _after(write: bool, message: str) -> Exception:
    """A broken answer's error: the outcome of a write is not known; a read can be repeated."""
    return UnknownOutcomeError(message) if write else UnavailableError(message)
