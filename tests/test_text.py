"""Descriptions as text and HTML: plain prose skips the parser and gives markdown-it's bytes."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from icalpub.text import _parsed_html, _parsed_plain, _prose, _sanitise, to_html, to_plain

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
