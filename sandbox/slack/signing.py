"""Slack request signing: ``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{raw body}``.

https://api.slack.com/authentication/verifying-requests-from-slack
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum


class Signing(StrEnum):
    """How a delivery is signed; anything but VALID is for testing the app's checks."""

    VALID = "valid"
    STALE = "stale"
    """A correct signature over a timestamp six minutes old."""
    TAMPERED = "tampered"
    """Signed, then the body changed."""
    UNSIGNED = "unsigned"
    WRONG_KEY = "wrong_key"


STALE_BY_SECONDS = 6 * 60


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: bytes, now: float, how: Signing = Signing.VALID
) -> tuple[dict[str, str], bytes]:
    """Headers for ``body`` signed as ``how`` asks, and the body to send."""
    if how is Signing.UNSIGNED:
        return {}, body
    timestamp = str(int(now - (STALE_BY_SECONDS if how is Signing.STALE else 0)))
    key = secret if how is not Signing.WRONG_KEY else secret + "-wrong"
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(key, timestamp, body),
    }
    if how is Signing.TAMPERED:
        body = (
            body.replace(b"}", b' , "tampered": true}', 1)
            if body.endswith(b"}")
            else body + b"&x=1"
        )
    return headers, body
