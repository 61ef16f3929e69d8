"""The import graph of src/icalpub: no cycle, arrows one way, the architecture picture true."""

from __future__ import annotations

import ast

from . import imports

ROOMS = ("web", "editor", "stats", "deployment")
ABOVE_THE_CORE = ("cli", "__main__", "service", *ROOMS)  # the core is every other module


def _room(module: str) -> str:
    return module.removeprefix("icalpub.").split(".")[0]


def test_the_import_graph_has_no_cycle() -> None:
    assert imports.cycles(imports.graph()) == []


def test_the_cycle_finder_finds_a_function_level_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert imports.cycles(edges) == [["a", "b", "c"]]
    source = "def f():\n    from ..web import state\n    from ..live import Live\n"
    found = set(imports.imported("icalpub.editor.x", ast.parse(source), imports.modules()))
    assert found == {"icalpub.web.state", "icalpub.live"}


def test_web_does_not_import_the_editor() -> None:
    wrong = {
        (module, target)
        for module, targets in imports.graph().items()
        for target in targets
        if _room(module) == "web" and _room(target) == "editor"
    }
    assert wrong == set()


def test_the_core_imports_no_room() -> None:
    wrong = {
        (module, target)
        for module, targets in imports.graph().items()
        for target in targets
        if _room(module) not in ABOVE_THE_CORE and _room(target) in (*ROOMS, "cli", "service")
    }
    assert wrong == set()


def test_function_level_imports_are_in_the_graph() -> None:
    # icalpub.cli imports the composition root inside `serve` only.
    assert "icalpub.service" in imports.graph()["icalpub.cli"]


def test_the_architecture_picture_is_the_import_graph() -> None:
    assert imports.written() == imports.picture(imports.graph()), "python -m tests.imports --write"
