"""Markdown to Slack mrkdwn, with every piece of text escaped (the second stage of Jira -> Slack).

markdown-it-py parses the Markdown; this module renders its syntax tree as mrkdwn. Slack has
no Markdown renderer to lean on, so the rendering is ours: ``**b**`` -> ``*b*``, ``*i*`` ->
``_i_``, ``~~s~~`` -> ``~s~``, code spans and fences as they are, headings as bold lines,
lists with ``•`` or numbers, quotes with ``>``, tables as pipe rows, and links as ``<url|label>``
only for http, https and mailto (any other link shows its label). Text, code and labels all go
through :func:`~jira_sync.markup_slack_text.escape`, so the output can never ping or link by
itself whatever the Markdown says.

The first stage (Jira -> Markdown) hides ``&``, ``<``, ``>`` and ``](`` of the author's text
from Markdown with :func:`hide_from_markdown`: they mean nothing in Jira, and Markdown would
otherwise read them as entities, raw HTML, autolinks, block quotes or inline links. The
renderer restores them wherever text comes out (text, code, URLs).

Only a few HTML tags are expected (the ones jira2markdown writes: ``<u>``, ``<sup>``,
``<sub>``, ``<q>``, ``<font …>``, ``<br>``); they become the nearest mrkdwn or nothing, and any
other HTML is shown literally.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from jira_sync.markup_slack_text import defuse_broadcasts_outside_links, escape, link

# Private-use code points standing in for characters Markdown must not interpret.
_HIDDEN = {"&": "\ue000", "<": "\ue001", ">": "\ue002"}
_HIDDEN_PAREN = "\ue003"
"""``(`` right after ``]``: what turns ``[text](url)`` typed in Jira into a Markdown link."""
_RESTORE = str.maketrans({**{v: k for k, v in _HIDDEN.items()}, _HIDDEN_PAREN: "("})
_ANY_PLACEHOLDER = re.compile("[\ue000-\ue003]")

ZERO_WIDTH_SPACE = "\u200b"
RULE = "\u2500" * 10
_HTML_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z]+)[^>]*>")
_DROPPED_TAGS = frozenset({"u", "sub", "font", "span", "ins"})
_KNOWN_TAGS = _DROPPED_TAGS | {"sup", "q", "br"}


def hide_from_markdown(text: str) -> str:
    """``text`` with ``&``, ``<``, ``>`` and ``](`` hidden from Markdown (restored on output).

    Private-use characters that already stand in ``text`` become U+FFFD, so that what comes
    out is never something the author did not write.
    """
    text = _ANY_PLACEHOLDER.sub("\ufffd", text)
    for char, placeholder in _HIDDEN.items():
        text = text.replace(char, placeholder)
    return text.replace("](", "]" + _HIDDEN_PAREN)


def restore_hidden(text: str) -> str:
    """Undo :func:`hide_from_markdown`."""
    return text.translate(_RESTORE)


class _Markdown(MarkdownIt):
    """CommonMark + tables + strikethrough, minus what Jira text would trip by accident.

    Off: indented code (Jira text is often indented), setext headings (a line of ``===``),
    HTML blocks (they would swallow the lines after a ``<font>`` at a line start) and link
    reference definitions (``[1]: http://…`` in Jira text is text, not a hidden definition).
    """

    def __init__(self) -> None:
        super().__init__("commonmark", {"html": True})
        self.enable(["table", "strikethrough"])
        self.disable(["code", "lheading", "html_block", "reference"])

    def normalizeLink(self, url: str) -> str:  # noqa: N802 (markdown-it's name)
        return super().normalizeLink(restore_hidden(url))

    def normalizeLinkText(self, link: str) -> str:  # noqa: N802 (markdown-it's name)
        return super().normalizeLinkText(restore_hidden(link))

    def validateLink(self, url: str) -> bool:  # noqa: N802 (markdown-it's name)
        return super().validateLink(restore_hidden(url))


_MARKDOWN = _Markdown()


@dataclass(frozen=True)
class _Context:
    """Where inline content is being rendered."""

    in_bold: bool = False
    in_italic: bool = False
    in_strike: bool = False
    one_line: bool = False
    """In a table cell: line breaks become spaces."""


def markdown_to_mrkdwn(markdown: str) -> str:
    """Slack mrkdwn for ``markdown``: formatting kept, text escaped, no pings, safe links."""
    root = SyntaxTreeNode(_MARKDOWN.parse(markdown))
    return defuse_broadcasts_outside_links(_blocks(root.children).strip("\n"))


# -- blocks ------------------------------------------------------------------------------------


def _blocks(nodes: Sequence[SyntaxTreeNode], *, nested: bool = False) -> str:
    """Blocks one per line, a blank line between them where the source had one.

    ``nested``: inside a list item or quote, where Slack shows no quote; a quote there is
    marked with an escaped ``>``, so that every raw ``>`` we send starts a line.
    """
    out: list[str] = []
    previous: SyntaxTreeNode | None = None
    for node in nodes:
        rendered = _block(node, nested=nested)
        if previous is not None:
            out.append("\n\n" if _blank_line_between(previous, node) else "\n")
        out.append(rendered)
        previous = node
    return "".join(out)


def _blank_line_between(first: SyntaxTreeNode, second: SyntaxTreeNode) -> bool:
    if first.map is None or second.map is None:
        return True
    return first.map[1] < second.map[0]


def _block(node: SyntaxTreeNode, *, nested: bool) -> str:
    kind = node.type
    if kind in ("paragraph", "inline"):
        return _inline_children(node, _Context())
    if kind == "heading":
        text = _inline_children(node, _Context(in_bold=True)).strip()
        return f"*{text}*" if text else ""
    if kind == "blockquote":
        inner = _blocks(node.children, nested=True)
        marker = "&gt; " if nested else "> "
        return "\n".join(marker + line if line.strip() else "" for line in inner.split("\n"))
    if kind in ("bullet_list", "ordered_list"):
        return _list(node)
    if kind in ("fence", "code_block"):
        code = escape(restore_hidden(node.content)).rstrip("\n")
        # A ``` inside would end Slack's block early; an invisible space keeps it from doing so.
        return "```\n" + code.replace("```", "`" + ZERO_WIDTH_SPACE + "``") + "\n```"
    if kind == "hr":
        return RULE
    if kind == "table":
        return _table(node)
    if node.children:
        return _blocks(node.children, nested=nested)
    return escape(restore_hidden(node.content))


def _list(node: SyntaxTreeNode) -> str:
    """``• item`` or ``1. item``; nested blocks and continuation lines indented by two spaces."""
    start = int(node.attrs.get("start", 1)) if node.type == "ordered_list" else 1
    lines: list[str] = []
    for number, item in enumerate(node.children, start=start):
        marker = f"{number}{item.markup or '.'}" if node.type == "ordered_list" else "•"
        body = _blocks(item.children, nested=True).split("\n")
        lines.append(f"{marker} {body[0]}".rstrip() if body[0] else marker)
        lines.extend(f"  {line}" if line else "" for line in body[1:])
    return "\n".join(lines)


def _table(node: SyntaxTreeNode) -> str:
    """Pipe rows, the header row followed by a ``| --- |`` rule: plain enough to read."""
    lines: list[str] = []
    for section in node.children:
        for row in section.children:
            cells = [
                _inline_children(cell, _Context(one_line=True)).strip() for cell in row.children
            ]
            lines.append("|" + "|".join(cells) + "|")
            if section.type == "thead":
                lines.append("| " + " | ".join("---" for _ in cells) + " |")
    return "\n".join(lines)


# -- inline ------------------------------------------------------------------------------------


@dataclass
class _Piece:
    text: str
    formatted: bool = False
    """Wrapped in ``*``, ``_``, ``~`` or backticks: needs a word boundary on each side."""


def _inline_children(node: SyntaxTreeNode, context: _Context) -> str:
    children = node.children
    if len(children) == 1 and children[0].type == "inline":
        children = children[0].children
    return _join([_inline(child, context) for child in children])


def _join(pieces: Sequence[_Piece]) -> str:
    """Concatenate, with a ZERO WIDTH SPACE where formatting would touch a letter or digit.

    Slack only sees ``*bold*`` at a word boundary; the invisible space makes one, as in
    ``he*l*lo`` -> ``he\\u200b*l*\\u200blo``.
    """
    out = ""
    boundary_after = False
    for piece in pieces:
        if not piece.text:
            continue
        if (piece.formatted and out and out[-1].isalnum()) or (
            boundary_after and piece.text[0].isalnum()
        ):
            out += ZERO_WIDTH_SPACE
        out += piece.text
        boundary_after = piece.formatted
    return out


def _wrap(marker: str, inner: str) -> _Piece:
    if not inner.strip():
        return _Piece(inner)
    return _Piece(f"{marker}{inner}{marker}", formatted=True)


def _inline(node: SyntaxTreeNode, context: _Context) -> _Piece:
    kind = node.type
    if kind == "text":
        return _Piece(escape(restore_hidden(node.content)))
    if kind in ("softbreak", "hardbreak"):
        return _Piece(" " if context.one_line else "\n")
    if kind == "code_inline":
        return _Piece(f"`{escape(restore_hidden(node.content))}`", formatted=True)
    if kind == "strong":
        inner = _inline_children(node, replace(context, in_bold=True))
        return _Piece(inner) if context.in_bold else _wrap("*", inner)
    if kind == "em":
        inner = _inline_children(node, replace(context, in_italic=True))
        return _Piece(inner) if context.in_italic else _wrap("_", inner)
    if kind == "s":
        inner = _inline_children(node, replace(context, in_strike=True))
        return _Piece(inner) if context.in_strike else _wrap("~", inner)
    if kind in ("link", "image"):
        return _link(node, context)
    if kind == "html_inline":
        return _Piece(_html_tag(node.content, context))
    if node.children:
        return _Piece(_inline_children(node, context))
    return _Piece(escape(restore_hidden(node.content)))


def _link(node: SyntaxTreeNode, context: _Context) -> _Piece:
    """``<url|label>`` for a safe scheme; otherwise the label as text (or the URL if none)."""
    url = str(node.attrs.get("href" if node.type == "link" else "src", ""))
    label = _plain(node.children) or restore_hidden(str(node.attrs.get("title", "")))
    made = link(url, label)
    if made is not None:
        return _Piece(made)
    if node.type == "link" and node.children:
        return _Piece(_inline_children(node, context))
    return _Piece(escape(label or url))


def _known_tag(html: str) -> tuple[bool, str] | None:
    """``(closing, name)`` for one of the tags jira2markdown writes, else ``None``."""
    match = _HTML_TAG.fullmatch(html.strip())
    if match is None or match.group(2).lower() not in _KNOWN_TAGS:
        return None
    return match.group(1) == "/", match.group(2).lower()


def _html_tag(html: str, context: _Context) -> str:
    tag = _known_tag(html)
    if tag is None:
        return escape(restore_hidden(html))
    closing, name = tag
    if name in _DROPPED_TAGS:
        return ""
    if name == "sup":
        return "" if closing else "^"
    if name == "q":  # Jira's ??citation?? is shown in italics
        return "" if context.in_italic else "_"
    return " " if context.one_line else "\n"  # <br>


def _plain(nodes: Sequence[SyntaxTreeNode]) -> str:
    """The text of inline nodes without formatting (for link labels; escaped by ``link``)."""
    out: list[str] = []
    for node in nodes:
        if node.type in ("text", "code_inline"):
            out.append(restore_hidden(node.content))
        elif node.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif node.type == "html_inline":
            if _known_tag(node.content) is None:
                out.append(restore_hidden(node.content))
        else:
            out.append(_plain(node.children))
    return "".join(out)
