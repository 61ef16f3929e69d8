"""README and docs/: every relative link resolves inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from .conftest import ROOT

DOCUMENTS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "bench").glob("*.md")),
]


def _links(path: Path) -> list[str]:
    found = []
    for token in MarkdownIt("commonmark").parse(path.read_text("utf-8")):
        for child in token.children or []:
            if child.type == "link_open":
                found.append(str(child.attrs["href"]))
            elif child.type == "image":
                found.append(str(child.attrs["src"]))
    return found


def _anchors(path: Path) -> set[str]:
    """Return the anchors GitHub makes of a Markdown file's headings."""
    found = set()
    for line in path.read_text("utf-8").splitlines():
        heading = re.match(r"#{1,6} (.*)", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower())
            found.add(text.replace(" ", "-"))
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(document: Path) -> None:
    for link in _links(document):
        if re.match(r"(https?|mailto):", link):
            continue
        target, _, anchor = link.partition("#")
        resolved = (document.parent / target).resolve() if target else document
        assert resolved.is_relative_to(ROOT), f"{document.name}: {link} leaves the repository"
        assert resolved.exists(), f"{document.name}: {link} does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in _anchors(resolved), f"{document.name}: {link}: no such heading"


def test_the_link_reader_finds_the_readme_s_links() -> None:
    links = _links(ROOT / "README.md")
    assert "docs/deploying.md" in links and "docs/screenshots/agenda-1280.png" in links


def test_the_readme_stays_an_entry_point() -> None:
    lines = (ROOT / "README.md").read_text("utf-8").splitlines()
    assert len(lines) <= 150
    assert "pip install . && icalpub serve events.yaml" in lines
    assert "pip install -e '.[test]' && python -m pytest" in lines
