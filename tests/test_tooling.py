"""The code stays ruff-clean and mypy-strict; checked as part of the suite."""

from __future__ import annotations

import shutil
import subprocess
import sys

from .conftest import ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_lint_is_clean() -> None:
    ruff = shutil.which("ruff") or f"{sys.prefix}/bin/ruff"
    result = run(ruff, "check", "src", "tests", "bench", "wsgi.py", "gunicorn.conf.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = run(sys.executable, "-m", "mypy", "src")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_test_security_md_names_exists() -> None:
    import re

    text = (ROOT / "SECURITY.md").read_text("utf-8")
    table = text[text.index("## Threats, controls") : text.index("## Subscriber counts")]
    named, file = [], ""
    for cell in re.findall(r"`([^`]*::test_[a-z0-9_]+)`", table):
        found, _, test = cell.partition("::")
        file = found or file
        named.append((file, test))
    assert len(named) > 30
    for file, test in named:
        source = (ROOT / "tests" / file).read_text("utf-8")
        assert f"def {test}(" in source, f"SECURITY.md names {file}::{test}, which does not exist"
