"""bench/run.py --smoke runs end to end, so the benchmark scripts cannot rot (figures unchecked)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT, require


def test_wrk_reports_with_errors_or_no_requests_are_failures() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from run import wrk_failures  # type: ignore[import-not-found]

    good = "  1234 requests in 1.00s, 2.00MB read\nRequests/sec:   1234.00\n"
    assert wrk_failures(good) == ""
    assert "not 2xx" in wrk_failures(good + "  Non-2xx or 3xx responses: 3\n")
    assert "socket" in wrk_failures(
        good + "  Socket errors: connect 0, read 2, write 0, timeout 0\n"
    )
    assert wrk_failures("  0 requests in 1.00s, 0B read\n") == "no request was answered"


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
    tables = {chunk.splitlines()[0]: chunk for chunk in text.split("\n\n") if chunk}
    for heading in (
        "| build |",
        "| serve (requests/s",
        "| stack (nginx in front",
        "| stack: edits",
        "| subscriber counting",
        "| reload and memory |",
        "| hostile input",
        "| edits (median",
        "| command start",
    ):
        assert any(key.startswith(heading) for key in tables), heading
    # Every serving figure is a number of answered requests, never zero.
    serve = next(v for k, v in tables.items() if k.startswith("| serve"))
    rows = [line for line in serve.splitlines() if line.startswith("| 100 events: ")]
    assert len(rows) == 6
    for row in rows:
        icalpub, floor = (float(cell.replace(",", "")) for cell in row.split("|")[2:4])
        assert icalpub > 0 and floor > 0, row
    stack = next(v for k, v in tables.items() if k.startswith("| stack (nginx"))
    rows = [line for line in stack.splitlines() if line.startswith("| 100 events: ")]
    assert len(rows) == 2
    for row in rows:
        ours, bare = (float(cell.replace(",", "")) for cell in row.split("|")[2:4])
        assert ours > 0 and bare > 0, row
    edits = next(v for k, v in tables.items() if k.startswith("| stack: edits"))
    assert re.search(r"\| broken save: .* \| 100 \| 0 of [1-9]\d* \|", edits), edits
    assert "| 300 events, usual |" in text and "| 300 events, Markdown-heavy |" in text
    assert "calendar.ics, gzip" in text and "event page (HTML)" in text
    assert "month page (HTML)" in text
    latency = next(v for k, v in tables.items() if k.startswith("| edits"))
    assert (
        len(re.findall(r"\| saved → the .* \| 100 \| \d+\.\d\d s \| \d+\.\d\d s \|", latency)) == 2
    )
    start = next(v for k, v in tables.items() if k.startswith("| command start"))
    assert "| icalpub --help |" in start and "| icalpub validate" in start
