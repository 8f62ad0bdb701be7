"""Load ``config.yaml`` and report every problem with its file, line, column and dotted path.

ruamel.yaml's round-trip loader keeps the position of each key and value, which pydantic's
errors (a path of keys and indexes) are mapped back onto.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from deskhand.config.checks import Loc, cross_checks, doubtful_settings
from deskhand.config.schema import PATTERN_HELP, Config


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int
    column: int
    path: str
    message: str
    warning: bool = False
    """A setting that is valid but probably not what was meant; it stops nothing."""

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        return (
            f"{self.file}:{self.line}:{self.column}: {self.path or '<root>'}: {kind}{self.message}"
        )


class ConfigError(Exception):
    """The configuration is unusable; ``problems`` says why, each with its position."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def load_config(path: str | Path) -> Config:
    return review_config(path)[0]


def review_config(path: str | Path) -> tuple[Config, list[ConfigProblem]]:
    """The configuration at ``path`` and its warnings (settings that are valid but probably
    not what was meant); raises :class:`ConfigError` if it is unusable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [ConfigProblem(str(path), 1, 1, "", f"cannot read: {exc.strerror}")]
        ) from None
    config, tree = _parse(text, str(path), base_dir=path.parent)
    warnings = [
        _problem_at(tree, loc, message, str(path), warning=True)
        for loc, message in doubtful_settings(config)
    ]
    return config, warnings


def parse_config(
    text: str, filename: str = "config.yaml", *, base_dir: Path | None = None
) -> Config:
    """Validate YAML text; with ``base_dir``, also check that referenced files exist."""
    return _parse(text, filename, base_dir=base_dir)[0]


def _parse(text: str, filename: str, *, base_dir: Path | None) -> tuple[Config, CommentedMap]:
    tree = parse_yaml(text, filename)
    if tree is None:
        tree = CommentedMap()
    if not isinstance(tree, CommentedMap):
        raise ConfigError(
            [ConfigProblem(filename, 1, 1, "", "expected a mapping of sections at the top level")]
        )
    try:
        config = Config.model_validate(plain_data(tree))
    except ValidationError as exc:
        raise ConfigError(
            [_problem_from_error(error, tree, filename) for error in exc.errors()]
        ) from None
    findings = cross_checks(config)
    if base_dir is not None:
        findings += [
            (("recipes", "paths", index), f"no such file or folder: {base_dir / entry}")
            for index, entry in enumerate(config.recipes.paths)
            if not (base_dir / entry).exists()
        ]
    if findings:
        raise ConfigError([_problem_at(tree, loc, message, filename) for loc, message in findings])
    return config, tree


def parse_yaml(text: str, filename: str) -> Any:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        raise ConfigError(
            [ConfigProblem(filename, line, column, "", f"invalid YAML: {message}")]
        ) from None
    except YAMLError as exc:
        raise ConfigError([ConfigProblem(filename, 1, 1, "", f"invalid YAML: {exc}")]) from None


def plain_data(node: Any) -> Any:
    """Turn ruamel's commented containers into plain dicts and lists for pydantic."""
    if isinstance(node, dict):
        return {str(key): plain_data(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain_data(value) for value in node]
    return node


DICT_KEY = "[key]"
"""What pydantic appends to the path of a mapping key (rather than its value) at fault."""
_PYDANTIC_PREFIXES = {"value_error": "Value error, ", "assertion_error": "Assertion failed, "}
_NO_INPUT = ("model_type", "dict_type", "list_type")
"""Errors whose input is a whole section: showing it would repeat the file."""


def _problem_from_error(error: ErrorDetails, tree: CommentedMap, filename: str) -> ConfigProblem:
    loc = tuple(error["loc"])
    kind = error["type"]
    at_key = kind == "extra_forbidden"
    if loc and loc[-1] == DICT_KEY:
        # A key of a mapping (e.g. a status in jira.status_map) is at fault: point at it.
        loc, at_key = loc[:-1], True
    if kind == "extra_forbidden":
        message = "unknown key"
        allowed = _allowed_keys(loc[:-1])
        if allowed:
            message += f"; expected one of: {', '.join(allowed)}"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        expected = PATTERN_HELP.get(pattern, f"text matching {pattern}")
        message = f"expected {expected} (got {error['input']!r})"
    else:
        message = error["msg"]
        shown = repr(error.get("input"))
        ours = kind in _PYDANTIC_PREFIXES
        if ours:  # our own validators' messages, which pydantic prefixes with its wording
            message = message.removeprefix(_PYDANTIC_PREFIXES[kind])
        if at_key:
            message = message.replace("Input should be", "key should be", 1)
        already_shown = ours and shown in message
        if "input" in error and kind not in _NO_INPUT and not already_shown:
            message += f" (got {shown})"
    return _problem_at(tree, loc, message, filename, key_position=at_key)


def _problem_at(
    tree: CommentedMap,
    loc: Loc,
    message: str,
    filename: str,
    *,
    key_position: bool = False,
    warning: bool = False,
) -> ConfigProblem:
    line, column = yaml_position(tree, loc, key_position=key_position)
    dotted = ".".join(str(part) for part in loc)
    return ConfigProblem(filename, line, column, dotted, message, warning)


def yaml_position(tree: CommentedMap, loc: Loc, *, key_position: bool) -> tuple[int, int]:
    """The 1-based line and column of ``loc`` in the YAML tree, or of its nearest ancestor."""
    node: Any = tree
    line, column = 0, 0  # ruamel counts from zero
    for index, part in enumerate(loc):
        if isinstance(node, CommentedMap) and part in node:
            at_key = key_position and index == len(loc) - 1
            line, column = node.lc.key(part) if at_key else node.lc.value(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line, column = node.lc.item(part)
            node = node[part]
        else:
            # The key is missing (or pydantic added a tag to the path): the container is nearest.
            if isinstance(node, CommentedMap | CommentedSeq) and node.lc.line is not None:
                line, column = node.lc.line, node.lc.col
            break
    return line + 1, column + 1


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model = _model_at(loc)
    return list(model.model_fields) if model is not None else []


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that describes the mapping at ``loc`` (list indexes skipped)."""
    model: type[BaseModel] | None = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if model is not None else None
        if field is None:
            return None
        model = model_of(field.annotation)
    return model


def model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = model_of(arg)
        if found is not None:
            return found
    return None
