"""Load recipe files and report every problem as ``file:line:col: path: message``.

The YAML reading and the mapping of paths to lines and columns are the configuration
loader's (:mod:`deskhand.config.loader`); this module adds what is particular to recipes:
many files, names unique across them, checks against the configuration, compilation and
routing cycles. Problems are collected from every file before anything is refused, so one run
of ``deskhand recipes lint`` shows them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml.comments import CommentedMap

from deskhand.config import Config, ConfigError, ConfigProblem
from deskhand.config.loader import model_of, parse_yaml, plain_data, yaml_position
from deskhand.config.schema import PATTERN_HELP as CONFIG_PATTERN_HELP
from recipes.compiler import Compiler, Finding, Loc, WrittenRecipe
from recipes.cycles import routing_cycles
from recipes.recipe_set import RecipeSet, Source
from recipes.schema import PATTERN_HELP, Recipe, RecipeFile

RECIPE_SUFFIXES = (".yaml", ".yml")


class RecipeError(ConfigError):
    """The recipes are unusable; ``problems`` says why, each with its file and position."""


def configured_paths(config: Config, config_path: str | Path) -> list[Path]:
    """``recipes.paths`` of the configuration, relative to the folder of ``config.yaml``."""
    base = Path(config_path).parent
    return [base / entry for entry in config.recipes.paths]


def load_configured_recipes(config: Config, config_path: str | Path) -> RecipeSet:
    """The recipes ``config.yaml`` lists; RecipeError with every problem otherwise."""
    return load_recipes(configured_paths(config, config_path), config)


def load_recipes(paths: Iterable[str | Path], config: Config) -> RecipeSet:
    """Load recipe files, and the ``*.yaml``/``*.yml`` files of folders (by name, with
    sub-folders), in the order given, each file once however often it is named.
    RecipeError with every problem otherwise."""
    sources: list[tuple[str, str | None]] = []
    problems: list[ConfigProblem] = []
    seen: set[Path] = set()
    for path in (Path(entry) for entry in paths):
        if path.is_dir():
            found_files = sorted(
                found
                for found in path.rglob("*")
                if found.suffix in RECIPE_SUFFIXES and found.is_file()
            )
            files = [found for found in found_files if _first_time(found, seen)]
            sources += [(str(found), _read(found, problems)) for found in files]
        elif path.is_file():
            if _first_time(path, seen):
                sources.append((str(path), _read(path, problems)))
        else:
            problems.append(ConfigProblem(str(path), 1, 1, "", "no such file or folder"))
    readable = [(name, text) for name, text in sources if text is not None]
    order = [name for name, _ in sources]
    order += [problem.file for problem in problems if problem.file not in order]
    return _load(readable, config, problems, order)


def parse_recipes(text: str, config: Config, filename: str = "recipes.yaml") -> RecipeSet:
    """Load recipes from YAML text (one file's worth)."""
    return _load([(filename, text)], config, [], [filename])


def _first_time(path: Path, seen: set[Path]) -> bool:
    """Whether ``path`` is new to ``seen`` (and note it): a file named twice, or named and
    also in a folder named, is read once, where it first comes."""
    resolved = path.resolve()
    if resolved in seen:
        return False
    seen.add(resolved)
    return True


def _read(path: Path, problems: list[ConfigProblem]) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        problems.append(ConfigProblem(str(path), 1, 1, "", f"cannot read: {reason}"))
        return None


def _load(
    sources: Sequence[tuple[str, str]],
    config: Config,
    problems: list[ConfigProblem],
    order: Sequence[str],
) -> RecipeSet:
    trees: dict[str, CommentedMap] = {}
    written: list[WrittenRecipe] = []
    for filename, text in sources:
        parsed = _validated(text, filename, problems)
        if parsed is None:
            continue
        tree, valid = parsed
        trees[filename] = tree
        written += [
            WrittenRecipe(recipe, filename, ("recipes", index), _source(tree, filename, index))
            for index, recipe in valid
        ]

    def locate(file: str, loc: Loc) -> str:
        line, _column = yaml_position(trees[file], loc, key_position=False)
        return f"{file}:{line}"

    findings = _duplicate_names(written, locate)
    compiler = Compiler(config)
    duplicates = {(item.file, item.loc) for item in findings.duplicates}
    recipes = compiler.compile(
        [item for item in written if (item.file, item.loc) not in duplicates],
        [filename for filename, _ in sources],
    )
    all_findings = [*findings.problems, *compiler.findings, *routing_cycles(written, locate)]
    problems += [_problem_at(trees[f.file], f.loc, f.message, f.file) for f in all_findings]
    if problems:
        rank = {filename: position for position, filename in enumerate(order)}
        problems.sort(key=lambda p: (rank.get(p.file, len(rank)), p.line, p.column))
        raise RecipeError(problems)
    return recipes


def _validated(
    text: str, filename: str, problems: list[ConfigProblem]
) -> tuple[CommentedMap, list[tuple[int, Recipe]]] | None:
    """The file's tree and its valid recipes (with their indexes); each recipe is validated
    on its own, so one bad recipe does not hide the problems of the others."""
    try:
        tree = parse_yaml(text, filename)
    except ConfigError as exc:
        problems += exc.problems
        return None
    if tree is None:
        tree = CommentedMap()
    if not isinstance(tree, CommentedMap):
        problems.append(
            ConfigProblem(filename, 1, 1, "", "expected a mapping with 'recipes:' at the top")
        )
        return None
    plain = plain_data(tree)
    try:
        shape = _FileShape.model_validate(plain)
    except ValidationError as exc:
        problems += [_problem_from_error(error, tree, filename) for error in exc.errors()]
        return None
    recipes: list[tuple[int, Recipe]] = []
    for index, item in enumerate(shape.recipes):
        try:
            recipes.append((index, Recipe.model_validate(item)))
        except ValidationError as exc:
            problems += [
                _problem_from_error(error, tree, filename, prefix=("recipes", index))
                for error in exc.errors()
            ]
    return tree, recipes


class _FileShape(BaseModel):
    """The top of a recipe file, before its recipes are looked at one by one."""

    model_config = ConfigDict(extra="forbid")

    recipes: list[Any] = []


def _source(tree: CommentedMap, filename: str, index: int) -> Source:
    line, column = yaml_position(tree, ("recipes", index, "name"), key_position=False)
    return Source(filename, line, column)


class _NameFindings:
    def __init__(self) -> None:
        self.problems: list[Finding] = []
        self.duplicates: list[WrittenRecipe] = []


def _duplicate_names(
    written: Sequence[WrittenRecipe], locate: Callable[[str, Loc], str]
) -> _NameFindings:
    findings = _NameFindings()
    first: dict[str, WrittenRecipe] = {}
    for item in written:
        name = item.recipe.name
        if name in first:
            earlier = first[name]
            where = locate(earlier.file, (*earlier.loc, "name"))
            findings.problems.append(
                Finding(
                    item.file,
                    (*item.loc, "name"),
                    f"recipe name {name!r} is already used at {where}",
                )
            )
            findings.duplicates.append(item)
        else:
            first[name] = item
    return findings


# pydantic errors -> messages ---------------------------------------------------------------


def _problem_at(
    tree: CommentedMap, loc: Loc, message: str, filename: str, *, key_position: bool = False
) -> ConfigProblem:
    line, column = yaml_position(tree, loc, key_position=key_position)
    return ConfigProblem(filename, line, column, ".".join(str(part) for part in loc), message)


def _problem_from_error(
    error: ErrorDetails, tree: CommentedMap, filename: str, *, prefix: Loc = ()
) -> ConfigProblem:
    loc = (*prefix, *error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        message = "unknown key"
        allowed = _allowed_keys(loc[:-1])
        if allowed:
            message += f"; expected one of: {', '.join(allowed)}"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        expected = PATTERN_HELP.get(pattern) or CONFIG_PATTERN_HELP.get(
            pattern, f"text matching {pattern}"
        )
        message = f"expected {expected} (got {error['input']!r})"
    elif kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
    else:
        message = error["msg"]
        if not isinstance(error.get("input"), dict | list):
            message += f" (got {error['input']!r})"
    return _problem_at(tree, loc, message, filename, key_position=kind == "extra_forbidden")


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the mapping at ``loc`` may have (by their names in the file)."""
    model: type[BaseModel] | None = RecipeFile
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        field = fields.get(part)
        model = model_of(field.annotation) if field is not None else None
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]
