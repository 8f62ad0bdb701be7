"""Checks of the fake Slack against what Slack publishes (see ``../shared/testdata/README.md``).

Three references, loaded from a testdata folder the caller passes in (never copied into the repo):

* ``slack/derived/slack-ts-types.jsonschema.json``: JSON Schemas built from Slack's TypeScript
  types, one standalone schema per ``<Method>Arguments`` / ``<Method>Response``;
* ``slack/specs/web-api/slack_web_openapi_v2.json``: the (2020, frozen) Slack OpenAPI 2.0 file;
* ``slack/java-slack-sdk-json-logs/api/<method>.json``: shape samples, the union of every field
  seen in real traffic with blanked values.

Relaxations, as the testdata README documents them: plain ``jsonschema``; every
``additionalProperties: false`` removed from the OpenAPI file (its own examples fail it); ``$ref``
resolved against the spec's ``definitions``; method and argument names are checked, HTTP verbs are
not. Where neither reference knows a method, an argument or an error code, the allowlists below
name the Slack documentation page that defines it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, Draft7Validator
from jsonschema.exceptions import best_match

DOCS = "https://api.slack.com/methods/"

METHOD_ALLOWLIST: dict[str, str] = {
    # Socket Mode, newer than the OpenAPI file.
    "apps.connections.open": DOCS + "apps.connections.open",
}
"""Methods neither the OpenAPI file nor the TS types document, with the page that does."""

ARGUMENT_ALLOWLIST: dict[str, dict[str, str]] = {
    "auth.test": {
        # Bolt's per-request WebClient carries the workspace's team_id as a default parameter
        # (slack_sdk BaseClient default_params), as org-wide apps must send it; Bolt calls
        # auth.test with that client to authorise the first request.
        "team_id": "https://api.slack.com/enterprise/apps#tokens",
    },
    "chat.postMessage": {
        # Message metadata (2022), newer than the OpenAPI file.
        "metadata": DOCS + "chat.postMessage#arg_metadata",
    },
    "chat.update": {
        "metadata": DOCS + "chat.update#arg_metadata",
    },
}
"""Per method, arguments neither reference documents, with the page that does."""

ERRORS_ON_EVERY_METHOD: dict[str, str] = {
    # Current method pages end their "Errors" table with these, e.g.
    # https://api.slack.com/methods/conversations.replies and .../views.publish.
    "ratelimited": DOCS + "conversations.replies",
    "not_allowed_token_type": DOCS + "conversations.replies",
    "invalid_arguments": DOCS + "conversations.replies",
    "internal_error": DOCS + "conversations.replies",
    "service_unavailable": DOCS + "conversations.replies",
    "missing_scope": DOCS + "conversations.replies",
}
"""Error codes Slack's docs list for every method; the OpenAPI enums predate most of them."""

ERROR_ALLOWLIST: dict[str, dict[str, str]] = {
    "conversations.list": {"invalid_types": DOCS + "conversations.list"},
    "chat.postMessage": {
        "invalid_blocks": DOCS + "chat.postMessage",
        "invalid_metadata_format": DOCS + "chat.postMessage",
    },
    "chat.update": {
        "invalid_blocks": DOCS + "chat.update",
        "invalid_metadata_format": DOCS + "chat.update",
    },
    "chat.postEphemeral": {
        "invalid_blocks": DOCS + "chat.postEphemeral",
    },
    "conversations.history": {
        # "Only user tokens can access public channels they are not in."
        "not_in_channel": DOCS + "conversations.history",
    },
    "usergroups.users.list": {
        "no_such_subteam": DOCS + "usergroups.users.list",
    },
    "views.open": {
        # A trigger_id is valid for 3 seconds after Slack sent it.
        "expired_trigger_id": DOCS + "views.open",
    },
    "views.push": {
        "expired_trigger_id": DOCS + "views.push",
        "push_limit_reached": DOCS + "views.push",
    },
    "views.update": {
        "hash_conflict": DOCS + "views.update",
    },
    "views.publish": {
        "hash_conflict": DOCS + "views.publish",
    },
}
"""Per method, error codes the OpenAPI file does not list for it, with the page that does."""

_IM_OBJECT = "OpenAPI definitions/objs_conversation, 'Conversation IM Channel Object'"
_BOLT_VIEWS = "bolt-python-payloads/test_view_submission.json, test_view_closed.json"

SHAPE_ALLOWLIST: dict[str, dict[str, str]] = {
    # The recorded conversations.info responses never saw a DM; the OpenAPI file documents
    # its fields (https://api.slack.com/types/im).
    "conversations.info": {
        "/channel/user": _IM_OBJECT,
        "/channel/is_open": _IM_OBJECT,
        "/channel/priority": _IM_OBJECT,
    },
    # The java-slack-sdk samples of view payloads leave out the view's blocks; Bolt's recorded
    # request bodies (testdata slack/bolt-python-payloads/test_view_*.json) carry them.
    "app-backend/views/ViewSubmissionPayload": {
        "/view/blocks": _BOLT_VIEWS,
        "/response_urls": _BOLT_VIEWS,
    },
    "app-backend/views/ViewClosedPayload": {"/view/blocks": _BOLT_VIEWS},
}
"""Per sample, JSON paths another Slack reference documents though the sample lacks them."""

TS_NULLABLE: dict[str, str] = {
    # "previous_view_id": null in the examples of views.open/update/push/publish.
    "previous_view_id": DOCS + "views.update",
    # The OpenAPI conversations.history schema allows null; Slack sends null when unset.
    "channel_actions_ts": DOCS + "conversations.history",
}
"""Fields Slack's docs show as ``null`` where the TS response types say string."""

_JSON_TYPES: tuple[tuple[type[Any] | tuple[type[Any], ...], str], ...] = (
    (bool, "boolean"),  # before int: bool is an int in Python
    ((int, float), "number"),
    (str, "string"),
    (dict, "object"),
    (list, "array"),
    (type(None), "null"),
)


def ts_name(method: str, suffix: str) -> str:
    """``chat.postMessage`` → ``ChatPostMessage<suffix>``, the TS type name."""
    return "".join(part[:1].upper() + part[1:] for part in method.split(".")) + suffix


def json_type(value: Any) -> str:
    for python_type, name in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


class SlackContract:
    """The published Slack material in ``testdata`` (the shared testdata folder)."""

    def __init__(self, testdata: Path) -> None:
        self.root = testdata / "slack"
        if not self.root.is_dir():
            raise FileNotFoundError(f"no Slack testdata under {testdata}")

    # loading -------------------------------------------------------------------------------

    @cached_property
    def ts_schemas(self) -> dict[str, dict[str, Any]]:
        path = self.root / "derived" / "slack-ts-types.jsonschema.json"
        loaded: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
        return loaded

    @cached_property
    def openapi(self) -> dict[str, Any]:
        path = self.root / "specs" / "web-api" / "slack_web_openapi_v2.json"
        spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        relaxed = _without_closed_objects(spec)
        assert isinstance(relaxed, dict)
        return relaxed

    def _operations(self, method: str) -> list[dict[str, Any]]:
        path_item = self.openapi["paths"].get("/" + method, {})
        return [op for verb, op in path_item.items() if verb != "parameters"]

    def _sample(self, kind: str) -> Any:
        """The recorded sample for a Web API method (``chat.update``), or for an event or an
        interaction given by its path (``events/ReactionAddedPayload``,
        ``app-backend/views/ViewSubmissionPayload``)."""
        relative = f"{kind}.json" if "/" in kind else f"api/{kind}.json"
        path = self.root / "java-slack-sdk-json-logs" / relative
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    @cached_property
    def _typed_samples(self) -> dict[str, dict[str, Any]]:
        """Every object with a (non-blank) ``type`` in any API sample, merged per type."""
        merged: dict[str, dict[str, Any]] = {}
        folder = self.root / "java-slack-sdk-json-logs" / "api"
        for path in sorted(folder.glob("*.json")):
            for obj in _objects(json.loads(path.read_text(encoding="utf-8"))):
                kind = obj.get("type")
                if isinstance(kind, str) and kind:
                    merged[kind] = _merge(merged.get(kind, {}), obj)
        return merged

    # what the references know ------------------------------------------------------------------

    def in_openapi(self, method: str) -> bool:
        return bool(self._operations(method))

    def has_shape_sample(self, kind: str) -> bool:
        return self._sample(kind) is not None

    def documented_arguments(self, method: str) -> set[str]:
        names = {"token"}
        for operation in self._operations(method):
            names |= {str(p["name"]) for p in operation.get("parameters", []) if "name" in p}
        entry = self.ts_schemas.get(ts_name(method, "Arguments"))
        if entry is not None:
            names |= _property_names(entry, entry)
        names |= set(ARGUMENT_ALLOWLIST.get(method, {}))
        return names

    def documented_errors(self, method: str) -> set[str]:
        """Error codes the OpenAPI file lists for ``method`` (enums and examples), if any."""
        codes: set[str] = set()
        for operation in self._operations(method):
            for status, response in operation.get("responses", {}).items():
                if status == "200":
                    continue
                error = response.get("schema", {}).get("properties", {}).get("error", {})
                codes |= {str(code) for code in error.get("enum", [])}
                for example in response.get("examples", {}).values():
                    if isinstance(example, dict) and isinstance(example.get("error"), str):
                        codes.add(example["error"])
        return codes

    # the checks ----------------------------------------------------------------------------

    def request_problems(self, method: str, args: Mapping[str, Any]) -> list[str]:
        """Problems with a request: an undocumented method or argument names."""
        known = (
            self.in_openapi(method)
            or ts_name(method, "Arguments") in self.ts_schemas
            or method in METHOD_ALLOWLIST
        )
        if not known:
            return [f"{method}: not a documented Web API method"]
        documented = self.documented_arguments(method)
        return [
            f"{method}: argument {name!r} is not documented for this method"
            for name in sorted(args)
            if name not in documented
        ]

    def response_problems(self, method: str, body: Any) -> list[str]:
        """Problems with a response body, against the TS types and the OpenAPI file."""
        if not isinstance(body, dict):
            return [f"{method}: the body is {json_type(body)}, not an object"]
        ok = body.get("ok")
        if not isinstance(ok, bool):
            return [f"{method}: 'ok' is {json_type(ok)}, not a boolean"]
        problems: list[str] = []
        problems += self._ts_response_problems(method, body)
        if ok:
            for operation in self._operations(method):
                schema = operation.get("responses", {}).get("200", {}).get("schema")
                if schema is not None:
                    rooted = {**schema, "definitions": self.openapi["definitions"]}
                    problems += _schema_problems(
                        Draft4Validator(rooted), body, f"{method} (OpenAPI)"
                    )
            return problems
        error = body.get("error")
        if not isinstance(error, str) or not error:
            return [*problems, f"{method}: an error body without an 'error' string"]
        if self.in_openapi(method):
            allowed = (
                self.documented_errors(method)
                | set(ERRORS_ON_EVERY_METHOD)
                | set(ERROR_ALLOWLIST.get(method, {}))
            )
            if error not in allowed:
                problems.append(f"{method}: error {error!r} is not documented for this method")
        return problems

    def _ts_response_problems(self, method: str, body: dict[str, Any]) -> list[str]:
        """The TS ``<Method>Response`` check, with two relaxations.

        The response types were generated from recorded responses, so their block types are a
        merge of whatever blocks were seen; blocks in a response are the app's own Block Kit, so
        they are checked as the TS ``View`` type checks them, ``KnownBlock | Block`` (the TS
        unions are narrower than real views: a checkbox option's mrkdwn ``description`` in
        python-slack-sdk's real home views fails ``KnownBlock``). And fields Slack
        documents as ``null`` (``TS_NULLABLE``) may be null where the types say string.
        """
        name = ts_name(method, "Response")
        entry = self.ts_schemas.get(name)
        if entry is None:
            # The TS-derived file covers the methods the sandbox was first built with; a method
            # the OpenAPI file documents (conversations.list) is checked against that instead.
            return [] if self.in_openapi(method) else [f"{method}: no TS-derived schema {name}"]
        problems = [
            f"{method} (TS): {error.json_path}: {error.message[:300]}"
            for error in Draft7Validator(entry).iter_errors(body)
            if "blocks" not in error.absolute_path
            and not (error.instance is None and _last(error.absolute_path) in TS_NULLABLE)
        ]
        known = Draft7Validator(self.ts_schemas["KnownBlock"])
        generic = Draft7Validator(self.ts_schemas["Block"])
        for where, block in _blocks(body, "$"):
            if not known.is_valid(block) and not generic.is_valid(block):
                error = best_match(known.iter_errors(block))
                problems.append(f"{method} (TS KnownBlock): {where}: {error.message[:300]}")
        return problems

    def shape_problems(self, kind: str, body: Any) -> list[str]:
        """Keys and JSON types in ``body`` that the recorded sample for ``kind`` lacks."""
        sample = self._sample(kind)
        if sample is None:
            return [f"{kind}: no recorded shape sample"]
        return self._shape(body, sample, "", set(SHAPE_ALLOWLIST.get(kind, {})))

    def event_problems(self, kind: str, envelope: dict[str, Any]) -> list[str]:
        """An Events API envelope: the wrapper against every recorded event's wrapper (the
        samples are per event type, the wrapper is shared), the inner event against ``kind``."""
        sample = self._sample(kind)
        if sample is None:
            return [f"{kind}: no recorded shape sample"]
        wrapper = {key: value for key, value in envelope.items() if key != "event"}
        problems = self._shape(wrapper, self._event_wrapper, "", set())
        return problems + self._shape(envelope["event"], sample["event"], "/event", set())

    @cached_property
    def _event_wrapper(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for path in sorted((self.root / "java-slack-sdk-json-logs" / "events").glob("*.json")):
            sample = json.loads(path.read_text(encoding="utf-8"))
            merged = _merge(merged, {k: v for k, v in sample.items() if k != "event"})
        return merged

    def form_problems(self, kind: str, fields: Mapping[str, str]) -> list[str]:
        """A form-encoded payload (slash commands): every field is text, so compare names."""
        sample = self._sample(kind)
        if sample is None:
            return [f"{kind}: no recorded shape sample"]
        return [f"/{name}: not in Slack's recorded sample" for name in fields if name not in sample]

    def _shape(self, value: Any, sample: Any, where: str, allowed: set[str]) -> list[str]:
        if isinstance(sample, dict) and not sample:
            return []  # an empty object in a sample stands for free-form content
        if value is None:
            return []  # nullable fields are blanked to a typed value in the samples
        if json_type(value) != json_type(sample):
            return [f"{where or '/'}: {json_type(value)} where Slack has {json_type(sample)}"]
        if isinstance(value, dict):
            sample = self._with_same_type(value, sample)
            problems: list[str] = []
            for key, item in value.items():
                if key not in sample:
                    if f"{where}/{key}" not in allowed:
                        problems.append(f"{where}/{key}: not in Slack's recorded sample")
                else:
                    problems += self._shape(item, sample[key], f"{where}/{key}", allowed)
            return problems
        if isinstance(value, list):
            if not sample:
                return []
            problems = []
            for index, item in enumerate(value):
                problems += self._item_shape(item, sample, f"{where}/{index}", allowed)
            return problems
        return []

    def _with_same_type(self, value: dict[str, Any], sample: dict[str, Any]) -> dict[str, Any]:
        """For a Block Kit object (``type`` set), the sample merged with every recorded object of
        that type: a button is a button whether it sits in a view or a message."""
        kind = value.get("type")
        if not isinstance(kind, str) or kind not in self._typed_samples:
            return sample
        if sample.get("type") in ("", None, kind):
            merged: dict[str, Any] = _merge(sample, self._typed_samples[kind])
            return merged
        return self._typed_samples[kind]

    def _item_shape(self, item: Any, sample: list[Any], where: str, allowed: set[str]) -> list[str]:
        """An array item against the sample's first item, or, for typed objects (blocks,
        elements), against the sample items of the same ``type`` anywhere in the samples."""
        candidates: list[Any] = [sample[0]]
        kind = item.get("type") if isinstance(item, dict) else None
        blank_union = isinstance(sample[0], dict) and sample[0].get("type") == ""
        if isinstance(kind, str) and kind and blank_union:
            # A union sample of many kinds (e.g. block_actions' actions): it, plus what is
            # recorded for this kind elsewhere.
            candidates = [_merge(sample[0], self._typed_samples.get(kind, {}))]
        elif isinstance(kind, str) and kind:
            same = [s for s in sample if isinstance(s, dict) and s.get("type") == kind]
            if same:
                candidates = same
            elif kind in self._typed_samples:
                candidates = [self._typed_samples[kind]]
            elif isinstance(sample[0], dict) and sample[0].get("type") not in ("", None):
                return [f"{where}: no recorded sample of type {kind!r}"]
        results = [self._shape(item, candidate, where, allowed) for candidate in candidates]
        return min(results, key=len)


def _without_closed_objects(node: Any) -> Any:
    """A copy of a schema with every ``additionalProperties: false`` removed."""
    if isinstance(node, dict):
        return {
            key: _without_closed_objects(value)
            for key, value in node.items()
            if not (key == "additionalProperties" and value is False)
        }
    if isinstance(node, list):
        return [_without_closed_objects(item) for item in node]
    return copy.copy(node)


def _schema_problems(
    validator: Draft4Validator | Draft7Validator, body: Any, label: str
) -> list[str]:
    return [
        f"{label}: {error.json_path}: {error.message[:300]}"
        for error in sorted(validator.iter_errors(body), key=lambda e: e.json_path)
    ]


def _property_names(
    node: Any, root: dict[str, Any], seen: frozenset[str] = frozenset()
) -> set[str]:
    """Property names an object schema allows, through ``$ref``, ``anyOf``, ``allOf``, ``oneOf``."""
    if not isinstance(node, dict):
        return set()
    names = set(node.get("properties", {}))
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/") and ref not in seen:
        target = root.get("definitions", {}).get(ref.removeprefix("#/definitions/"))
        names |= _property_names(target, root, seen | {ref})
    for key in ("anyOf", "allOf", "oneOf"):
        for option in node.get(key, []):
            names |= _property_names(option, root, seen)
    return names


def _last(path: Iterable[Any]) -> Any:
    items = list(path)
    return items[-1] if items else None


def _blocks(node: Any, where: str) -> Iterable[tuple[str, Any]]:
    """Every item of every ``blocks`` array in a body, with its JSON path."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "blocks" and isinstance(value, list):
                for index, block in enumerate(value):
                    yield f"{where}.blocks[{index}]", block
            else:
                yield from _blocks(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _blocks(item, f"{where}[{index}]")


def _objects(node: Any) -> Iterable[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _objects(item)


def _merge(left: Any, right: Any) -> Any:
    """The union of two sample shapes: keys of both objects, items of both arrays."""
    if isinstance(left, dict) and isinstance(right, dict):
        merged = dict(left)
        for key, value in right.items():
            merged[key] = _merge(left[key], value) if key in left else value
        return merged
    if isinstance(left, list) and isinstance(right, list) and left and right:
        return [_merge(left[0], right[0])]
    # Blanked scalars differ between samples ("" here, an object there): keep the structure.
    if isinstance(right, (dict, list)) and not isinstance(left, (dict, list)):
        return right
    return left if left not in (None, [], {}) else right
