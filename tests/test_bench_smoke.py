"""bench/run.py --smoke runs end to end, so the benchmark scripts cannot rot (figures unchecked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import ROOT, require


def test_bench_smoke_prints_every_table(tmp_path: Path) -> None:
    require("wrk")
    require("nginx")
    out = tmp_path / "results.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = out.read_text()
    for heading in ("| build |", "| serve (requests/s", "| reload and memory |"):
        assert heading in text
    assert "| 300 events |" in text
    assert "calendar.ics, gzip" in text and "event page (HTML)" in text
