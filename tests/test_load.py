"""bench/load.py briefly in CI: no 5xx, no unknown body, the last good version when broken."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def test_load_with_rewrites_broken_windows_and_a_killed_worker(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load.py"),
            "--clients",
            "80",
            "--rewrites",
            "6",
            "--window",
            "2.0",
            "--events",
            "100",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    summary = json.loads(out.read_text())
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary["status_5xx"] == 0
    assert summary["unknown_bodies"] == 0
    assert summary["stale_in_broken_windows"] == 0
    assert summary["connection_errors"] <= summary["worker_kills"] == 1
    assert summary["requests_in_broken_windows"] > 100
    # The start and three fixes; the fix whose ledger is updated after it is one more
    # version when its stamps differ from the build's (saved and built in other seconds).
    assert summary["versions_published"] in (4, 5)
