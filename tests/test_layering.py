"""The import graph of src/icalpub: the picture in docs/architecture.md is the code's."""

from __future__ import annotations

from . import imports


def test_the_architecture_picture_is_the_import_graph() -> None:
    assert imports.written() == imports.picture(imports.graph()), "python -m tests.imports --write"
