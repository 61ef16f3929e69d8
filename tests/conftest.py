"""Shared fixtures: scratch registries written inside each test."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "events.yaml"

HEADER = """\
calendar:
  title: Test calendar
  base_url: https://cal.example.org/
  timezone: Europe/Riga
  language: lv
topics:
  training: {title: {lv: Mācības, en: Training}}
  project: {title: Projekti}
events:
"""


@pytest.fixture
def registry_file(tmp_path: Path) -> Callable[[str], Path]:
    """Return a function writing `events.yaml` (HEADER + the given event lines) to tmp_path."""

    def write(events: str, header: str = HEADER) -> Path:
        path = tmp_path / "events.yaml"
        path.write_text(header + textwrap.dedent(events), encoding="utf-8")
        return path

    return write
