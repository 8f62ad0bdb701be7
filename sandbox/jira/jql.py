"""The JQL subset the sandbox understands; anything else is refused as Jira refuses bad JQL.

Grammar: ``clause (AND clause)* [ORDER BY field [ASC|DESC] (, field [ASC|DESC])*]`` where a
clause is ``project = X``, ``key|issuekey = K`` / ``in (K1, K2)``, ``labels = x`` / ``in (…)``,
``status = "In Progress"`` / ``in (…)``, and ``updated|created >=|>|<=|<|= "yyyy-MM-dd HH:mm"``.
Dates have minute precision and are read in the searching user's time zone, as in Jira.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sandbox.jira.errors import JiraError
from sandbox.jira.model import Issue

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>>=|<=|!=|=|>|<|\(|\)|,)
      | (?P<word>[^\s"'=<>!(),]+)
    )""",
    re.VERBOSE,
)
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
_DATE_FIELDS = ("updated", "created")
_ORDER_FIELDS = {"updated", "created", "key", "issuekey"}

Predicate = Callable[[Issue], bool]


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


@dataclass
class Query:
    predicates: list[Predicate]
    order: list[tuple[str, bool]]
    """(field, descending) pairs."""

    def matches(self, issue: Issue) -> bool:
        return all(p(issue) for p in self.predicates)

    def sort(self, issues: list[Issue]) -> list[Issue]:
        ordered = sorted(issues, key=lambda i: int(i.id), reverse=True)
        for field, descending in reversed(self.order):
            ordered.sort(key=functools.partial(_sort_key, field=field), reverse=descending)
        return ordered


def _sort_key(issue: Issue, field: str) -> tuple[str, float]:
    if field in ("key", "issuekey"):
        project, number = issue.key.rsplit("-", 1)
        return project, float(number)
    return "", issue.updated if field == "updated" else issue.created


def jql_error(message: str) -> JiraError:
    return JiraError(400, [message])


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise jql_error(
                f"Error in the JQL Query: The character '{text[position]}' is a reserved JQL "
                f"character. (line 1, character {position + 1})"
            )
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append(Token(kind, value, match.start(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, issue_keys: set[str], projects: dict[str, str], tz: str):
        self.tokens = tokenize(text)
        self.index = 0
        self.issue_keys = issue_keys
        self.projects = projects
        self.tz = ZoneInfo(tz)

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, expected: str | None = None) -> Token:
        token = self.peek()
        if token is None:
            wanted = f"'{expected}'" if expected else "more input"
            raise jql_error(f"Error in the JQL Query: Expecting {wanted} but reached the end.")
        if expected is not None and token.text.lower() != expected.lower():
            raise jql_error(
                f"Error in the JQL Query: Expecting '{expected}' but got '{token.text}'. "
                f"(line 1, character {token.position + 1})"
            )
        self.index += 1
        return token

    def is_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.lower() in words

    def parse(self) -> Query:
        predicates: list[Predicate] = []
        if self.peek() is not None and not self.is_word("order"):
            predicates.append(self.clause())
            while self.is_word("and"):
                self.take()
                predicates.append(self.clause())
        order: list[tuple[str, bool]] = []
        if self.is_word("order"):
            self.take()
            self.take("by")
            order.append(self.order_item())
            while self.peek() is not None and self.peek_text() == ",":
                self.take()
                order.append(self.order_item())
        leftover = self.peek()
        if leftover is not None:
            raise jql_error(
                f"Error in the JQL Query: Expecting either 'AND' or 'ORDER BY' but got "
                f"'{leftover.text}'. (line 1, character {leftover.position + 1}) "
                "(the sandbox supports only AND-joined clauses)"
            )
        return Query(predicates, order)

    def peek_text(self) -> str | None:
        token = self.peek()
        return token.text if token else None

    def order_item(self) -> tuple[str, bool]:
        field = self.take().text.lower()
        if field not in _ORDER_FIELDS:
            raise jql_error(f"Not able to sort using field '{field}'.")
        descending = False
        if self.is_word("asc", "desc"):
            descending = self.take().text.lower() == "desc"
        return field, descending

    def clause(self) -> Predicate:
        field_token = self.take()
        field = field_token.text.lower()
        if field_token.kind != "word":
            raise jql_error(
                f"Error in the JQL Query: Expecting a field name but got '{field_token.text}'. "
                f"(line 1, character {field_token.position + 1})"
            )
        op = self.take().text.lower()
        if field in _DATE_FIELDS:
            return self.date_clause(field, op)
        if field not in ("project", "key", "issuekey", "labels", "status"):
            raise jql_error(
                f"Field '{field_token.text}' does not exist or you do not have permission to "
                "view it. (the sandbox supports project, key, labels, status, updated, created)"
            )
        if op == "=":
            values = [self.value()]
        elif op == "in":
            values = self.value_list()
        else:
            raise jql_error(f"The operator '{op}' is not supported by the '{field}' field.")
        return self.membership(field, values)

    def value(self) -> str:
        token = self.take()
        if token.kind == "op":
            raise jql_error(
                f"Error in the JQL Query: Expecting a value but got '{token.text}'. "
                f"(line 1, character {token.position + 1})"
            )
        return token.text

    def value_list(self) -> list[str]:
        self.take("(")
        values = [self.value()]
        while self.peek_text() == ",":
            self.take()
            values.append(self.value())
        self.take(")")
        return values

    def membership(self, field: str, values: list[str]) -> Predicate:
        if field == "project":
            keys = set()
            for value in values:
                key = self.projects.get(value.lower())
                if key is None:
                    raise jql_error(f"The value '{value}' does not exist for the field 'project'.")
                keys.add(key)
            return lambda issue: issue.project in keys
        if field in ("key", "issuekey"):
            wanted = {v.upper() for v in values}
            for key in wanted:
                if key not in self.issue_keys:
                    raise jql_error(f"An issue with key '{key}' does not exist for field 'key'.")
            return lambda issue: issue.key in wanted
        if field == "labels":
            labels = set(values)
            return lambda issue: bool(labels.intersection(issue.labels))
        statuses = {v.lower() for v in values}
        return lambda issue: issue.status.lower() in statuses

    def date_clause(self, field: str, op: str) -> Predicate:
        if op not in (">=", ">", "<=", "<", "="):
            raise jql_error(f"The operator '{op}' is not supported by the '{field}' field.")
        raw = self.value()
        moment = self.parse_date(field, raw)
        compare: dict[str, Callable[[float], bool]] = {
            ">=": lambda t: t >= moment,
            ">": lambda t: t > moment,
            "<=": lambda t: t <= moment,
            "<": lambda t: t < moment,
            "=": lambda t: moment <= t < moment + 60,
        }
        check = compare[op]
        if field == "updated":
            return lambda issue: check(issue.updated)
        return lambda issue: check(issue.created)

    def parse_date(self, field: str, raw: str) -> float:
        for fmt in _DATE_FORMATS:
            try:
                local = datetime.strptime(raw, fmt)
            except ValueError:
                continue
            return local.replace(tzinfo=self.tz).timestamp()
        raise jql_error(
            f"Date value '{raw}' for field '{field}' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'."
        )


def parse(text: str, *, issue_keys: set[str], projects: dict[str, str], tz: str) -> Query:
    """Parse ``text``; ``projects`` maps lower-case key, id and name to the project key."""
    return _Parser(text, issue_keys, projects, tz).parse()
