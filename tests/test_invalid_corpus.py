"""Every bad registry under tests/data/invalid/ gives exactly its expected located errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .reading import parse

CORPUS = Path(__file__).resolve().parent / "data" / "invalid"
CASES = sorted(p.stem for p in CORPUS.glob("*.yaml"))


def test_the_corpus_covers_the_hostile_kinds() -> None:
    assert len(CASES) >= 45
    for kind in (
        "alias-bomb",
        "deep-nesting",
        "block-nesting",
        "nul-byte",
        "invalid-utf8",
        "python-tag",
        "mixed-line-ends",
        "bom-missing-keys",
        "yaml-tab",
    ):
        assert kind in CASES


@pytest.mark.parametrize("name", CASES)
def test_bad_registry_reports_its_expected_problems(name: str) -> None:
    data = (CORPUS / f"{name}.yaml").read_bytes()
    registry, problems = parse(data, f"{name}.yaml")
    assert registry is None
    expected = (CORPUS / f"{name}.expected").read_text("utf-8").splitlines()
    assert [str(p).removeprefix(f"{name}.yaml:") for p in problems] == expected


def test_validate_prints_them_with_the_file_name_and_exits_1() -> None:
    paths = [str(CORPUS / f"{name}.yaml") for name in ("unknown-event-key", "python-tag")]
    for path in paths:
        result = subprocess.run(
            [sys.executable, "-m", "icalpub", "validate", path],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        expected = (Path(path).with_suffix(".expected")).read_text("utf-8").splitlines()
        assert result.stderr.splitlines()[:-1] == [f"{path}:{line}" for line in expected]


def test_sixteen_mib_plus_one_byte_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# " + b"x" * (16 * 1024 * 1024 - 2) + b"\n")  # 16 MiB + 1
    assert path.stat().st_size == 16 * 1024 * 1024 + 1
    result = subprocess.run(
        [sys.executable, "-m", "icalpub", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        f"{path}:1:1: error: the file is 16,777,217 bytes; the limit is 16,777,216 bytes (16 MiB)"
    )
