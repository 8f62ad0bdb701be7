"""Jira's error body: ``{"errorMessages": [...], "errors": {field: message}}`` and a status."""

from __future__ import annotations

from typing import Any

TEXT_LIMIT = 32_767
SUMMARY_LIMIT = 255
TOO_LONG = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


class JiraError(Exception):
    """A request Jira refuses; ``body()`` is exactly what Jira answers."""

    def __init__(
        self,
        status: int,
        messages: list[str] | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.messages = list(messages or [])
        self.errors = dict(errors or {})
        super().__init__(f"{status}: {self.messages} {self.errors}")

    def body(self) -> dict[str, Any]:
        return {"errorMessages": self.messages, "errors": self.errors}


def field_error(field: str, message: str) -> JiraError:
    return JiraError(400, errors={field: message})


def not_on_screen(field: str) -> JiraError:
    return field_error(
        field, f"Field '{field}' cannot be set. It is not on the appropriate screen, or unknown."
    )


def issue_not_found() -> JiraError:
    return JiraError(404, [ISSUE_NOT_FOUND])


def bad_request(message: str) -> JiraError:
    return JiraError(400, [message])
