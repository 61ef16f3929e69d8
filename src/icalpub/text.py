"""Markdown descriptions as sanitised HTML and as readable plain text."""

from __future__ import annotations

import functools
import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "a",
        "ul",
        "ol",
        "li",
        "blockquote",
        "code",
        "pre",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "s",
        "del",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Prose with no Markdown in it has only letters and digits (not "_"), spaces, line breaks
# and punctuation that starts no Markdown construct in markdown-it's CommonMark preset.
_NOT_PROSE = re.compile("[^\\w \n.,;:?!'\"%$@/()\u2013\u2014+=^{}|«»„“”‘’…-]|_")
# A line starting so might start a list or a heading underline.
_LIST_OR_RULE = re.compile(r"[+=-]|\d{1,9}[.)]")


@functools.cache
def _markdown() -> MarkdownIt:
    # html=False: raw HTML in a description is shown as text, never passed through.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("strikethrough")


@functools.lru_cache(maxsize=256)
def _tokens(markdown: str) -> tuple[Token, ...]:
    # A description is rendered as HTML and as plain text: parse it once for both.
    return tuple(_markdown().parse(markdown))


@functools.lru_cache(maxsize=256)
def _prose(markdown: str) -> tuple[tuple[str, ...], ...] | None:
    """Return the paragraphs' lines of text that has no Markdown syntax at all, else None.

    Most descriptions are plain paragraphs; for them markdown-it's tokens are
    exactly one paragraph per run of non-blank lines, which this gives
    without running its parser (the same output, checked by the tests).
    """
    if _NOT_PROSE.search(markdown):
        return None
    paragraphs: list[list[str]] = [[]]
    for line in markdown.split("\n"):
        if not line:
            if paragraphs[-1]:
                paragraphs.append([])
        elif line[0] == " " or line[-1] == " " or _LIST_OR_RULE.match(line):
            return None  # code block, hard line break, list or heading underline
        else:
            paragraphs[-1].append(line)
    return tuple(tuple(lines) for lines in paragraphs if lines)


def to_html(markdown: str) -> str:
    """Render Markdown to HTML that carries no script, style, handler or unsafe URL."""
    paragraphs = _prose(markdown)
    if paragraphs is None:
        return _sanitise(_parsed_html(markdown))
    # markdown-it's rendering of such paragraphs, byte for byte.
    return _sanitise(
        "".join("<p>" + "\n".join(p).replace('"', "&quot;") + "</p>\n" for p in paragraphs)
    )


def _parsed_html(markdown: str) -> str:
    md = _markdown()
    rendered: str = md.renderer.render(list(_tokens(markdown)), md.options, {})
    return rendered


def _sanitise(rendered: str) -> str:
    return nh3.clean(
        rendered,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
    ).strip()


def to_plain(markdown: str) -> str:
    """Render Markdown as plain text: blank lines between blocks, '- ' items, 'text (url)' links."""
    paragraphs = _prose(markdown)
    if paragraphs is not None:
        return "\n\n".join(" ".join(lines) for lines in paragraphs)
    return _parsed_plain(markdown)


def _parsed_plain(markdown: str) -> str:
    blocks: list[str] = []
    lines: list[str] = []  # lines of the block being built (a whole list is one block)
    counters: list[int] = []  # per open list: the next number, or -1 for bullets
    prefix = ""
    for token in _tokens(markdown):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            counters.append(int(token.attrGet("start") or 1) if kind[0] == "o" else -1)
        elif kind in ("bullet_list_close", "ordered_list_close"):
            counters.pop()
        elif kind == "list_item_open":
            indent = "  " * (len(counters) - 1)
            prefix = f"{indent}- " if counters[-1] < 0 else f"{indent}{counters[-1]}. "
            counters[-1] += counters[-1] >= 0
        elif kind == "inline":
            lines.append(prefix + _inline_plain(token.children or []))
            prefix = ""
        elif kind in ("fence", "code_block"):
            lines.append(token.content.rstrip("\n"))
        elif kind == "hr":
            lines.append("———")
        block_ends = kind in (
            "paragraph_close",
            "heading_close",
            "fence",
            "code_block",
            "hr",
            "bullet_list_close",
            "ordered_list_close",
        )
        if block_ends and not counters and lines:
            blocks.append("\n".join(lines))
            lines = []
    if lines:
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks).strip()


def _inline_plain(children: list[Token]) -> str:
    parts: list[str] = []
    href_stack: list[tuple[str, int]] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "link_open":
            href_stack.append((str(child.attrGet("href") or ""), len(parts)))
        elif child.type == "link_close" and href_stack:
            href, start = href_stack.pop()
            label = "".join(parts[start:])
            if href and href != label and href != f"mailto:{label}":
                parts.append(f" ({href})")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)
