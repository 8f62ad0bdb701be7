"""Slack's error answers: HTTP 200 with ``{"ok": false, "error": code}``."""

from __future__ import annotations

from typing import Any


class SlackError(Exception):
    """A Web API error as Slack reports it; ``extra`` adds fields such as ``errors``."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.code, **self.extra}
