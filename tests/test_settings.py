"""One table of settings: read once from the environment, documented, the only reader."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from icalpub.errors import SettingError
from icalpub.settings import TABLE, Settings, markdown_table

from .conftest import ROOT


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) + len(start) : text.index(end)].strip("\n") + "\n"


def test_the_deploying_guide_s_table_is_the_settings_table() -> None:
    guide = (ROOT / "docs" / "deploying.md").read_text("utf-8")
    start = "<!-- settings: generated from icalpub.settings.TABLE -->"
    written = _between(guide, start, "<!-- end")
    assert written == markdown_table()


def test_every_icalpub_variable_named_anywhere_is_in_the_table() -> None:
    named: set[str] = set()
    places = [*(ROOT / "src").rglob("*.py"), *(ROOT / "docs").glob("*.md"), ROOT / "README.md"]
    places += [ROOT / "wsgi.py", ROOT / "gunicorn.conf.py", *(ROOT / "deploy").iterdir()]
    for path in places:
        named |= set(re.findall(r"ICALPUB_[A-Z_]*[A-Z]", path.read_text("utf-8")))
    assert named == {row.variable for row in TABLE}


def test_the_table_s_defaults_are_the_settings_defaults() -> None:
    defaults = Settings()
    for row in TABLE:
        if row.default.startswith(("(", "`", "a ", "the ", "editors.toml")):
            continue  # no value, or one computed from another setting
        assert getattr(defaults, row.name) == row.parse(row.default), row.name
    assert defaults.publish_dir is None and defaults.trusted_proxies == ()
    assert Settings.from_environment({}) == defaults


def test_settings_are_read_from_the_variables_and_flags_win() -> None:
    environ = {
        "ICALPUB_REGISTRY": "/srv/events.yaml",
        "ICALPUB_WORKERS": "4",
        "ICALPUB_STATS": " Off ",
        "ICALPUB_GIT_PUSH": "1",
        "ICALPUB_TRUSTED_PROXIES": "10.0.0.0/8, ::1,",
        "ICALPUB_PUBLISH_DIR": "",  # empty: the default
    }
    settings = Settings.from_environment(environ, workers=3, publish_dir=None)
    assert settings.registry == Path("/srv/events.yaml")
    assert settings.workers == 3
    assert settings.stats is False and settings.git_push is True
    assert settings.trusted_proxies == ("10.0.0.0/8", "::1")
    assert settings.publish_dir is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [("ICALPUB_WORKERS", "two"), ("ICALPUB_WORKERS", "0"), ("ICALPUB_STATS_RETENTION_DAYS", "-1")],
)
def test_a_value_a_setting_cannot_take_is_refused_by_name(variable: str, value: str) -> None:
    with pytest.raises(SettingError, match=variable):
        Settings.from_environment({variable: value})


def _environment_reads(tree: ast.AST) -> list[int]:
    """Return the lines that read a variable: os.environ[…], os.environ.get(…), os.getenv(…)."""
    lines = []
    for node in ast.walk(tree):
        target = node.value if isinstance(node, ast.Subscript) else None
        call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        if call and node.func.attr in ("get", "getenv"):  # type: ignore[attr-defined]
            target = node.func.value if node.func.attr == "get" else node.func  # type: ignore[attr-defined]
        of_os = isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
        if of_os and target.value.id == "os" and target.attr in ("environ", "getenv"):  # type: ignore[union-attr]
            lines.append(node.lineno)
    return lines


def test_no_module_but_the_settings_reads_the_environment() -> None:
    readers = {}
    for path in sorted((ROOT / "src" / "icalpub").rglob("*.py")):
        found = _environment_reads(ast.parse(path.read_text("utf-8")))
        if found and path.name != "settings.py":
            readers[str(path.relative_to(ROOT))] = found
    assert readers == {}


def test_the_reader_finder_finds_each_way_of_reading() -> None:
    source = "import os\na = os.environ['X']\nb = os.environ.get('Y')\nc = os.getenv('Z')\n"
    assert _environment_reads(ast.parse(source)) == [2, 3, 4]
    assert _environment_reads(ast.parse("env = {**os.environ, 'A': '1'}\n")) == []
    assert _environment_reads(ast.parse("author = request.environ['icalpub.author']\n")) == []


@pytest.mark.parametrize("command", [["serve", "events.yaml"], ["stats", "report"]])
def test_a_command_refuses_a_bad_setting_in_one_line(command: list[str]) -> None:
    environ = {**os.environ, "ICALPUB_STATS_RETENTION_DAYS": "many"}
    done = subprocess.run(
        [sys.executable, "-m", "icalpub", *command],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    message = "ICALPUB_STATS_RETENTION_DAYS='many': not a value this setting takes"
    assert done.stderr == f"icalpub: {message}\n"
