"""Checks a webhook body against the shapes of recorded Jira webhooks of the same kind.

A *shape* maps each path in a JSON document (``issue.fields.status.name``; list items as
``[]``; ``customfield_10020`` as ``customfield_*``, since custom field ids differ per site) to
the JSON types seen there. A payload is checked against the union of the shapes of its
nearest recorded samples: same ``webhookEvent``, same ``issue_event_type_name`` (when the
payload has one) and same flavour; when no sample is that close, the samples of the same kind
from either flavour together with the same flavour's samples of that ``webhookEvent`` (the
kind decides the parts, the flavour the user objects). It reports every path the payload has
that none of those samples has, and every value whose type no sample has there. Leniencies,
each because the samples cannot say more: a ``null`` in a sample accepts anything, as does an
empty list's item; an issue field (``issue.fields.X``) may be ``null``, which is how Jira
sends every empty field. ``allowed`` takes ``fnmatch`` patterns of paths known to be right
although no sample has them (each should name its evidence).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

Shape = dict[str, set[str]]
ANY = "any"
"""The items of a list that was empty in a sample: nothing is known about them."""
_FIELD_VALUE = re.compile(r"^\$\.issue\.fields\.[^.\[]+$")
_CUSTOM = re.compile(r"^customfield_\d+$")


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def shape_of(value: Any, path: str = "$", into: Shape | None = None) -> Shape:
    found: Shape = {} if into is None else into
    found.setdefault(path, set()).add(json_type(value))
    if isinstance(value, dict):
        for key, item in value.items():
            name = "customfield_*" if _CUSTOM.match(str(key)) else str(key)
            shape_of(item, f"{path}.{name}", found)
    elif isinstance(value, list):
        if not value:
            found.setdefault(f"{path}[]", set()).add(ANY)
        for item in value:
            shape_of(item, f"{path}[]", found)
    return found


@dataclass(frozen=True)
class Sample:
    name: str
    flavour: str
    """``server`` for Jira Server/Data Center bodies (users by name/key), else ``cloud``."""
    event: str
    type_name: str | None
    shape: Shape = field(compare=False, hash=False)


def sample_flavour(name: str, body: Mapping[str, Any]) -> str:
    if "server" in name:
        return "server"
    users = [body.get("user"), (body.get("comment") or {}).get("author")]
    if any(isinstance(u, dict) and "accountId" in u for u in users):
        return "cloud"
    return "server" if any(isinstance(u, dict) for u in users) else "cloud"


def load_samples(directory: Path) -> list[Sample]:
    """Every ``*.json`` webhook body in ``directory``."""
    samples = []
    for path in sorted(directory.glob("*.json")):
        body = json.loads(path.read_text())
        if not isinstance(body, dict) or "webhookEvent" not in body:
            continue
        samples.append(
            Sample(
                path.name,
                sample_flavour(path.name, body),
                str(body["webhookEvent"]),
                body.get("issue_event_type_name"),
                shape_of(body),
            )
        )
    return samples


# Events with no recorded sample borrow the samples of their closest relative.
_RELATIVES = {"comment_updated": "comment_created", "comment_deleted": "comment_created"}


def nearest(payload: Mapping[str, Any], flavour: str, samples: Iterable[Sample]) -> list[Sample]:
    """The closest group of samples for ``payload``, as described in the module docstring."""
    pool = list(samples)
    event = str(payload.get("webhookEvent"))
    type_name = payload.get("issue_event_type_name")
    same_flavour = [s for s in pool if s.flavour == flavour]
    for wanted in (event, _RELATIVES.get(event)):
        same_event = [s for s in pool if s.event == wanted]
        same_kind = [s for s in same_event if s.type_name == type_name]
        exact = [s for s in same_kind if s.flavour == flavour]
        if exact:
            return exact
        if same_kind:
            return same_kind + [s for s in same_flavour if s not in same_kind]
        if same_event:
            return same_event + [s for s in same_flavour if s not in same_event]
    return []


@dataclass
class Report:
    samples: list[str]
    unknown_paths: list[str]
    type_mismatches: list[str]

    @property
    def problems(self) -> list[str]:
        if not self.samples:
            return ["no recorded sample of this kind"]
        return [f"unknown key {p}" for p in self.unknown_paths] + self.type_mismatches


def _under_unknown(path: str, known: Shape) -> bool:
    """True below a path where the samples only have ``null`` or empty lists."""
    cuts = [m.start() for m in re.finditer(r"\.|\[\]", path)] + [
        m.end() for m in re.finditer(r"\[\]", path)
    ]
    prefixes = {path[:cut] for cut in cuts if 0 < cut < len(path)}
    return any(known.get(p, {"object"}) <= {"null", ANY} for p in prefixes)


def check(
    payload: Mapping[str, Any],
    flavour: str,
    samples: Iterable[Sample],
    allowed: Iterable[str] = (),
) -> Report:
    group = nearest(payload, flavour, samples)
    known: Shape = {}
    for sample in group:
        for path, types in sample.shape.items():
            known.setdefault(path, set()).update(types)
    patterns = list(allowed)
    unknown: list[str] = []
    mismatches: list[str] = []
    for path, types in sorted(shape_of(dict(payload)).items()):
        if not group:
            break
        if any(fnmatchcase(path, pattern) for pattern in patterns):
            continue
        types = types - {ANY}
        if _FIELD_VALUE.match(path):
            types = types - {"null"}
        if not types or _under_unknown(path, known):
            continue
        seen = known.get(path)
        if seen is None:
            # Report the outermost unknown key only, not everything beneath it.
            if not any(path.startswith(u + ".") or path.startswith(u + "[") for u in unknown):
                unknown.append(path)
            continue
        if "null" in seen or ANY in seen:
            continue
        wrong = types - seen
        if wrong:
            mismatches.append(f"{path}: sent {sorted(wrong)}, samples have {sorted(seen)}")
    return Report([s.name for s in group], unknown, mismatches)
