"""Markdown descriptions as sanitised HTML and as readable plain text."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

import nh3

if TYPE_CHECKING:  # markdown-it-py is imported when a text needs it (most need not)
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
    from markdown_it import MarkdownIt

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


# The Markdown a communications officer writes — paragraphs and "- " lists
# with **bold**, *emphasis* and [links](https://…) — is rendered here without
# the parser, whose output it equals byte for byte (tests compare them on
# generated text): markdown-it-py costs about half a millisecond a text.
_STRONG = r"\*\*\w[^*\n]*?(?<=\w)\*\*"
_EMPHASIS = r"\*\w[^*\n]*?(?<=\w)\*"
_URL = r"https?://[a-z0-9][a-z0-9.-]*(?:/[A-Za-z0-9._~%/?=&+#:,;@!$'*-]*)?"
_LINK = r"\[(?P<label>\w[^\[\]*\n]*?(?<=[\w.)]))\]\((?P<url>" + _URL + r")\)"
_SPAN = re.compile(rf"(?P<strong>{_STRONG})|(?P<em>{_EMPHASIS})|{_LINK}")
# After a span: the end, a space or closing punctuation (so emphasis closes there).
_AFTER = frozenset(" .,;:!?)")
Span = tuple[str, str, str]  # ("text"|"strong"|"em", text, "") or ("a", label, url)
Blocks = tuple[tuple[bool, tuple[tuple[Span, ...], ...]], ...]  # (a list?, its lines' spans)
_ITEM = re.compile(r"- (?=\S)(?![-+*#>=]|\d{1,9}[.)])")


@functools.lru_cache(maxsize=1024)
def _simple(
    markdown: str,
) -> Blocks | None:
    """Return the blocks of simple Markdown (paragraphs, "- " lists), else None."""
    blocks: list[tuple[bool, tuple[tuple[Span, ...], ...]]] = []
    for block in markdown.strip("\n").split("\n\n"):
        lines = block.split("\n")
        if not block or any(not line for line in lines):
            return None  # three or more line breaks in a row, or a blank line of spaces
        listed = lines[0].startswith("- ")
        if listed and blocks and blocks[-1][0]:
            return None  # two lists apart are one loose list: paragraphs in its items
        parsed = []
        for line in lines:
            if listed:
                if not _ITEM.match(line):
                    return None
                line = line[2:]
            if line[0] == " " or line[-1] == " " or _LIST_OR_RULE.match(line):
                return None
            spans = _spans(line)
            if spans is None:
                return None
            parsed.append(spans)
        blocks.append((listed, tuple(parsed)))
    return tuple(blocks)


def _spans(line: str) -> tuple[Span, ...] | None:
    spans: list[Span] = []
    at = 0
    for found in _SPAN.finditer(line):
        start, end = found.span()
        before = line[at:start]
        if _NOT_PROSE.search(before) or (start and line[start - 1] not in " („“«\"'"):
            return None
        if end < len(line) and line[end] not in _AFTER:
            return None
        if before:
            spans.append(("text", before, ""))
        if found.group("strong"):
            inner = found.group("strong")[2:-2]
            kind = "strong"
        elif found.group("em"):
            inner = found.group("em")[1:-1]
            kind = "em"
        else:
            inner = found.group("label")
            kind = "a"
        if _NOT_PROSE.search(inner):
            return None
        spans.append((kind, inner, found.group("url") or ""))
        at = end
    rest = line[at:]
    if _NOT_PROSE.search(rest):
        return None
    if rest:
        spans.append(("text", rest, ""))
    return tuple(spans)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;")


def _simple_html(
    blocks: Blocks,
) -> str:
    parts: list[str] = []
    for listed, lines in blocks:
        rendered = []
        for spans in lines:
            line = []
            for kind, text, url in spans:
                if kind == "text":
                    line.append(_escape(text))
                elif kind == "a":
                    line.append(f'<a href="{_escape(url)}">{_escape(text)}</a>')
                else:
                    line.append(f"<{kind}>{_escape(text)}</{kind}>")
            rendered.append("".join(line))
        if listed:
            parts.append("<ul>\n" + "".join(f"<li>{r}</li>\n" for r in rendered) + "</ul>\n")
        else:
            parts.append("<p>" + "\n".join(rendered) + "</p>\n")
    return "".join(parts)


def _simple_plain(
    blocks: Blocks,
) -> str:
    texts = []
    for listed, lines in blocks:
        rendered = []
        for spans in lines:
            words = [
                f"{text} ({url})" if kind == "a" and url != text else text
                for kind, text, url in spans
            ]
            rendered.append(("- " if listed else "") + "".join(words))
        texts.append(("\n" if listed else " ").join(rendered))
    return "\n\n".join(texts)


@functools.lru_cache(maxsize=1024)
def to_html(markdown: str) -> str:
    """Render Markdown to HTML that carries no script, style, handler or unsafe URL."""
    paragraphs = _prose(markdown)
    if paragraphs is not None:
        # markdown-it's rendering of such paragraphs, byte for byte.
        return _sanitise(
            "".join("<p>" + "\n".join(p).replace('"', "&quot;") + "</p>\n" for p in paragraphs)
        )
    blocks = _simple(markdown)
    if blocks is not None:
        return _sanitise(_simple_html(blocks))
    return _sanitise(_parsed_html(markdown))


def _parsed_html(markdown: str) -> str:
    md = _markdown()
    rendered: str = md.renderer.render(list(_tokens(markdown)), md.options, {})
    return rendered


def _sanitise(rendered: str) -> str:
    return _cleaner().clean(rendered).strip()


@functools.cache
def _cleaner() -> nh3.Cleaner:
    # Configured once: `nh3.clean` builds its sanitiser from the sets on every call.
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
    )


@functools.lru_cache(maxsize=1024)
def to_plain(markdown: str) -> str:
    """Render Markdown as plain text: blank lines between blocks, '- ' items, 'text (url)' links."""
    paragraphs = _prose(markdown)
    if paragraphs is not None:
        return "\n\n".join(" ".join(lines) for lines in paragraphs)
    blocks = _simple(markdown)
    if blocks is not None:
        return _simple_plain(blocks)
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
