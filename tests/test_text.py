"""Descriptions as text and HTML: plain prose skips the parser and gives markdown-it's bytes."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from icalpub.text import (
    _parsed_html,
    _parsed_plain,
    _prose,
    _sanitise,
    _simple,
    to_html,
    to_plain,
)

PROSE = (
    "Mācības notiks Rīgā, 2. stāvā (zāle 201).\nPieteikties līdz 15:00!\n\nVairāk: tālr. 67829674."
)

# Words and every character that could start Markdown, so that both paths are exercised.
PIECES = st.sampled_from(
    [
        "Rīgā",
        "mācības",
        "word",
        "2022",
        "1.",
        "3)",
        " ",
        "  ",
        "\n",
        "\n\n",
        "\t",
        "\r\n",
        "\u00a0",
        "\u2003",
        *"*_`~[]()<>#&\\!|=+-.:;,?'\"%$@^{}/«»„“”–—…",
        "http://x.lv",
        "&amp;",
        "    code",
        "---",
        "===",
    ]
)


@given(st.lists(PIECES, max_size=30).map("".join))
@settings(max_examples=3000, deadline=None)
@example(PROSE)
@example("a\n= b")
@example("x\n2) y")
@example("  indented")
@example("a \nb")
@example("line\u2003")
def test_prose_gives_exactly_what_the_markdown_parser_gives(markdown: str) -> None:
    assert to_plain(markdown) == _parsed_plain(markdown)
    assert to_html(markdown) == _sanitise(_parsed_html(markdown))


def test_plain_latvian_paragraphs_take_the_prose_path() -> None:
    assert _prose(PROSE) == (
        ("Mācības notiks Rīgā, 2. stāvā (zāle 201).", "Pieteikties līdz 15:00!"),
        ("Vairāk: tālr. 67829674.",),
    )
    assert to_plain(PROSE) == (
        "Mācības notiks Rīgā, 2. stāvā (zāle 201). Pieteikties līdz 15:00!\n\n"
        "Vairāk: tālr. 67829674."
    )
    assert to_html(PROSE) == (
        "<p>Mācības notiks Rīgā, 2. stāvā (zāle 201).\nPieteikties līdz 15:00!</p>\n"
        "<p>Vairāk: tālr. 67829674.</p>"
    )


def test_anything_that_may_be_markdown_goes_to_the_parser() -> None:
    for markdown in (
        "**bold**",
        "a_b",
        "- item",
        "1. item",
        "2022. gada 25. septembrī",
        "[link](https://x.lv)",
        "<b>",
        "a &amp; b",
        "    code",
        "line  \nbreak",
        "tab\tstop",
    ):
        assert _prose(markdown) is None, markdown


# Text as editors write it, and near misses: emphasis against letters and
# punctuation, links with odd addresses, lists next to paragraphs.
WORDS = st.sampled_from(
    ["Rīgā", "mācības", "word", "2022", "a", "B", "ē", "(x)", "„citāts“", "e-pasts", "1.", "3)"]
)
MARKS = st.sampled_from(
    [" ", " ", " ", ".", ",", ":", ";", "!", "?", "(", ")", "-", "'", '"', "/", "%", "–",
     "…", "*", "**", "***", "_", "[", "]", "](", "https://x.lv", "\n", "\n\n", "- ", "  ",
     "#", "&", "\\", "`", "~~", "<", ">", "„", "“", "ā"]
)  # fmt: skip
ADDRESSES = st.sampled_from(
    ["https://x.lv", "https://example.lv/a?b=1&c=2", "http://X.lv", "https://x.lv/(a)",
     "https://lūdzu.lv", "https://x.lv/a b", "mailto:a@b.lv", "https://x.lv/a#b"]
)  # fmt: skip
PIECE = st.one_of(
    WORDS,
    MARKS,
    WORDS.map(lambda w: f"**{w}**"),
    WORDS.map(lambda w: f"*{w}*"),
    st.builds(lambda w, u: f"[{w}]({u})", WORDS, ADDRESSES),
)
LINE = st.lists(PIECE, min_size=1, max_size=12).map("".join)
DOCUMENT = st.lists(
    st.tuples(st.one_of(LINE, LINE.map(lambda line: "- " + line)), st.sampled_from(["\n", "\n\n"])),
    min_size=1,
    max_size=6,
).map(lambda lines: "".join(line + end for line, end in lines))


@given(DOCUMENT)
@settings(max_examples=4000, deadline=None)
@example("Teksts ar **treknu**, *slīprakstu* un [saiti](https://example.lv/a?b=1&c=2).")
@example("- viens **b**\n- divi [saite](http://x.lv)\n\nBeigas.")
@example("- a\n\n- b")
@example("**a**b")
@example("[a](https://x.lv)b")
def test_simple_markdown_gives_exactly_what_the_markdown_parser_gives(markdown: str) -> None:
    assert to_plain(markdown) == _parsed_plain(markdown)
    assert to_html(markdown) == _sanitise(_parsed_html(markdown))


def test_markdown_as_editors_write_it_skips_the_parser() -> None:
    import sys
    from pathlib import Path

    import yaml

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from common import registry_text  # the bench's Markdown-heavy registry

    events = yaml.safe_load(registry_text(200, seed=5, markdown=0.9))["events"]
    descriptions = [e["description"] for e in events]
    assert all("**" in d and "](" in d for d in descriptions[:50])
    assert all(_simple(d) is not None for d in descriptions)
    for text in descriptions[:50]:
        assert to_html(text) == _sanitise(_parsed_html(text))
        assert to_plain(text) == _parsed_plain(text)
