"""Reply, note and post templates: Jinja2 in its sandbox, with strict undefined variables.

Templates are compiled when the recipe file is loaded. A variable outside the documented set
(:data:`recipes.schema.TEMPLATE_VARIABLES`) is a load error; what cannot be seen before
rendering (a form field a ticket does not have, say) is a :class:`RenderError` with Jinja's
message, never an empty string.

Values put into the text are escaped for Slack (``&``, ``<``, ``>``), so a requester's own
words quoted back can never ping ``@channel`` or forge a link; ``requester_mention`` is the
one value meant to be a mention and is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from recipes.schema import TEMPLATE_VARIABLES


class TemplateLoadError(ValueError):
    """A template that cannot be loaded; ``line`` is the line within the template."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


class RenderError(ValueError):
    """A template that failed for this event (e.g. a form field the ticket does not have)."""


class SlackText(str):
    """Text already in Slack's markup, put into a template as it is (e.g. ``<@U123>``)."""

    __slots__ = ()


def escape_for_slack(value: str) -> str:
    """Slack's three control characters, escaped as Slack documents."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, SlackText):
        return value
    if isinstance(value, str):
        return escape_for_slack(value)
    return value


_ENVIRONMENT = SandboxedEnvironment(
    undefined=StrictUndefined,
    autoescape=False,
    finalize=_finalize,
    keep_trailing_newline=False,
)


@dataclass(frozen=True)
class RecipeTemplate:
    source: str
    _compiled: Any = field(repr=False, compare=False)

    def render(self, variables: Mapping[str, Any]) -> str:
        try:
            return str(self._compiled.render(dict(variables))).strip()
        except TemplateError as exc:
            raise RenderError(exc.message or type(exc).__name__) from None
        except Exception as exc:  # any error inside a template is the template's problem
            raise RenderError(f"{type(exc).__name__}: {exc}") from None


def compile_template(source: str) -> RecipeTemplate:
    """Compile ``source``; TemplateLoadError for a syntax error or an unknown variable."""
    try:
        tree = _ENVIRONMENT.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateLoadError(f"template error: {exc.message}", exc.lineno) from None
    unknown = sorted(meta.find_undeclared_variables(tree) - TEMPLATE_VARIABLES)
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise TemplateLoadError(
            f"unknown template variable {names}; known: {', '.join(sorted(TEMPLATE_VARIABLES))}"
        )
    return RecipeTemplate(source, _ENVIRONMENT.from_string(tree))
