"""`icalpub build`: the whole tree, atomically; golden files; failures leave the old tree alone."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import gc
import gzip
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from icalpub import build as build_module
from icalpub import gzipped, parallel
from icalpub import tree as tree_module
from icalpub.build import Tree
from icalpub.cli import cli
from icalpub.errors import BuildError
from icalpub.publish import manifest, publish
from icalpub.reader import read_source

from .conftest import ROOT, SHIPPED, missing

EXPECTED = ROOT / "tests" / "expected"
REGENERATE = "icalpub build events.yaml --out tests/expected"
# The shipped registry before it had languages, and the manifest (a sha256 per
# file) of what it published then: a registry without translations must not change.
ONE_LANGUAGE = ROOT / "tests" / "data" / "lv-only.yaml"


def write_tree(out: Path, files: Mapping[str, bytes]) -> None:
    """Replace the folder `out` with exactly `files` (+ .gz twins and index.json), atomically."""
    with Tree(out) as tree:
        tree.commit(files)


def tree(folder: Path) -> dict[str, bytes]:
    """Return every file below `folder` by relative path."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def assert_consistent(folder: Path) -> str:
    """Check a tree is complete by its own manifest; return the manifest's hash."""
    index = (folder / "index.json").read_bytes()
    listed = json.loads(index)["files"]
    files = tree(folder)
    assert set(files) == {"index.json"} | {f["path"] for f in listed} | {
        f["path"] + ".gz" for f in listed
    }
    for entry in listed:
        data = files[entry["path"]]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert gzip.decompress(files[entry["path"] + ".gz"]) == data
    return hashlib.sha256(index).hexdigest()


def test_a_registry_without_translations_publishes_the_same_bytes_as_before_languages() -> None:
    source = read_source(ONE_LANGUAGE)
    assert source.registry is not None
    publication = publish(source.registry, source.ledger, dt.datetime.now(dt.UTC))
    assert not publication.reconciled.behind
    before = ONE_LANGUAGE.with_name("lv-only.index.json").read_bytes()
    assert manifest(publication.files) == before


def test_shipped_publication_equals_the_golden_files() -> None:
    source = read_source(SHIPPED)
    assert source.registry is not None
    publication = publish(source.registry, source.ledger, dt.datetime.now(dt.UTC))
    assert not publication.reconciled.behind, f"events.lock is behind: run `{REGENERATE}`"
    expected = tree(EXPECTED)
    for path, data in publication.files.items():
        assert expected.get(path) == data, f"{path} differs: run `{REGENERATE}` and review the diff"
    assert_consistent(EXPECTED)


def test_cli_build_writes_the_complete_tree_and_is_byte_stable(tmp_path: Path) -> None:
    shutil.copy(SHIPPED, tmp_path / "events.yaml")
    shutil.copy(SHIPPED.with_suffix(".lock"), tmp_path / "events.lock")
    runner = CliRunner()
    out = tmp_path / "feeds"
    result = runner.invoke(cli, ["build", str(tmp_path / "events.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == ""  # quiet when stderr is not a terminal
    first = tree(out)
    assert first == tree(EXPECTED)
    result = runner.invoke(cli, ["build", str(tmp_path / "events.yaml"), "--out", str(out), "-v"])
    assert result.exit_code == 0
    assert tree(out) == first
    assert "0 changes" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "events.lock",
        "events.yaml",
        "feeds",
    ]


def test_a_build_rendering_on_every_core_writes_the_same_tree(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[int] = []
    real = parallel.vevents

    def recording(*args: Any) -> dict[str, bytes]:
        made = real(*args)
        rendered.append(len(made))
        return made

    monkeypatch.setattr(parallel, "MINIMUM", 1)  # the shipped 17 events are too few otherwise
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 3)  # this process and two children
    monkeypatch.setattr(parallel, "vevents", recording)
    out = site.parent / "feeds"
    result = CliRunner().invoke(cli, ["build", str(site), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert rendered == [17, 17]  # each language's VEVENTs, in the children
    assert tree(out) == tree(EXPECTED)


def test_the_cycle_collector_is_paused_during_a_build_and_resumes_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(SHIPPED, tmp_path / "events.yaml")
    seen: list[bool] = []
    real = build_module.publish

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(build_module, "publish", recording)
    out = tmp_path / "feeds"
    result = CliRunner().invoke(cli, ["build", str(tmp_path / "events.yaml"), "--out", str(out)])
    assert result.exit_code == 0
    assert seen == [False]
    assert gc.isenabled()
    (tmp_path / "events.yaml").write_text("calendar: [broken", "utf-8")
    result = CliRunner().invoke(cli, ["build", str(tmp_path / "events.yaml"), "--out", str(out)])
    assert result.exit_code == 1
    assert gc.isenabled()


_RENDER = parallel._render


def _render_or_die(share: int, shares: int) -> list[bytes]:
    """Render like parallel._render in this process; die in a child."""
    if share:
        os._exit(1)
    return _RENDER(share, shares)


def test_no_renderer_is_forked_while_another_thread_runs(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    monkeypatch.setattr(parallel, "MINIMUM", 1)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 3)
    registry = read_source(site).registry
    assert registry is not None
    stamps = publish(registry, read_source(site).ledger, dt.datetime.now(dt.UTC)).reconciled
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert parallel.vevents(registry, stamps.stamps) == {}  # rendered in-process instead
    finally:
        release.set()
        other.join()
    assert len(parallel.vevents(registry, stamps.stamps)) == 17


def test_a_build_whose_rendering_child_dies_still_writes_the_same_tree(
    site: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(parallel, "MINIMUM", 1)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(parallel, "_render", _render_or_die)
    out = site.parent / "feeds"
    result = CliRunner().invoke(cli, ["build", str(site), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "a rendering process died" in caplog.text
    assert tree(out) == tree(EXPECTED)


def test_gzip_twins_have_no_name_or_timestamp() -> None:
    data = (EXPECTED / "calendar.ics.gz").read_bytes()
    assert data[3] == 0  # FLG: no FNAME, no comment
    assert data[4:8] == b"\0\0\0\0"  # MTIME


def test_files_handed_over_while_rendering_make_the_same_tree_as_at_commit(tmp_path: Path) -> None:
    rng = random.Random(7)
    files = {
        f"events/e{i}.ics": rng.randbytes(rng.randrange(0, 3000)) * rng.randrange(1, 40)
        for i in range(300)
    }
    files["calendar.ics"] = b"BEGIN:VEVENT\r\n" * 40_000  # alone larger than a batch
    with Tree(tmp_path / "early") as early:
        for path, data in files.items():
            if path != "events/e5.ics":  # one never handed over: written at commit
                early.add(path, data)
        early.commit(files)
    write_tree(tmp_path / "late", files)
    assert tree(tmp_path / "early") == tree(tmp_path / "late")
    assert_consistent(tmp_path / "early")
    for path, data in files.items():
        twin = (tmp_path / "early" / f"{path}.gz").read_bytes()
        assert twin == gzipped.compress(data)[0], path


def test_a_tree_left_without_commit_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "feeds"
    write_tree(out, {"calendar.ics": b"old"})
    before = tree(out)
    with pytest.raises(BuildError, match="outside the output folder"), Tree(out) as unfinished:
        unfinished.add("calendar.ics", b"new" * 100_000)
        unfinished.add("../escape.ics", b"evil")
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".feeds.lock", "feeds"]
    with pytest.raises(BuildError, match="handed over but not published"), Tree(out) as stray:
        stray.add("feed.rss", b"x")
        stray.commit({"calendar.ics": b"new"})
    assert tree(out) == before


def test_a_failing_build_leaves_the_old_tree_byte_identical(tmp_path: Path) -> None:
    registry = tmp_path / "events.yaml"
    shutil.copy(SHIPPED, registry)
    out = tmp_path / "feeds"
    assert CliRunner().invoke(cli, ["build", str(registry), "--out", str(out)]).exit_code == 0
    before = tree(out)
    lock_before = (tmp_path / "events.lock").read_bytes()
    registry.write_text(registry.read_text("utf-8").replace("start: 2018-09-25", "strat: x"))
    result = CliRunner().invoke(cli, ["build", str(registry), "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"icalpub: build failed: 2 errors in {registry}; {out}/ is untouched"
    )
    assert tree(out) == before
    assert (tmp_path / "events.lock").read_bytes() == lock_before


def test_disk_full_midway_leaves_the_old_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "feeds"
    write_tree(out, {"calendar.ics": b"old"})
    before = tree(out)
    real_create = tree_module._create
    created = {"n": 0}

    def filling_create(path: Path, data: bytes, fix_mode: bool = True) -> None:
        created["n"] += 1
        if created["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_create(path, data, fix_mode)

    monkeypatch.setattr(tree_module, "_create", filling_create)
    with pytest.raises(BuildError, match="No space left on device"):
        write_tree(out, {"calendar.ics": b"new", "feed.rss": b"new"})
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".feeds.new")] == []


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of `size` on `folder` for the block; skip (fail in CI) without permission."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        missing(f"permission to mount a small tmpfs ({mounted.stderr.decode().strip()})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_really_full_file_system_leaves_the_old_tree(tmp_path: Path) -> None:
    with small_disk(tmp_path / "small", "256k") as small:
        out = small / "feeds"
        write_tree(out, {"calendar.ics": b"old" * 1000})
        before = tree(out)
        big = {f"events/e{i}.ics": os.urandom(60_000) for i in range(8)}
        with pytest.raises(BuildError, match="No space left on device"):
            write_tree(out, {"calendar.ics": b"new", **big})
        assert tree(out) == before
        assert sorted(p.name for p in small.iterdir()) == [".feeds.lock", "feeds"]


def test_read_only_file_system_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root ignores permission bits, so the read-only file system is injected.
    out = tmp_path / "feeds"
    write_tree(out, {"calendar.ics": b"old"})
    before = tree(out)

    def read_only(*args: object, **kwargs: object) -> str:
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path))

    monkeypatch.setattr(tree_module.tempfile, "mkdtemp", read_only)
    with pytest.raises(BuildError) as caught:
        write_tree(out, {"calendar.ics": b"new"})
    assert str(caught.value) == f"Read-only file system ({tmp_path})"
    assert tree(out) == before


def test_cli_reports_an_unwritable_output_in_one_line(tmp_path: Path) -> None:
    registry = tmp_path / "events.yaml"
    shutil.copy(SHIPPED, registry)
    (tmp_path / "feeds").write_text("a file where the folder should be")
    result = CliRunner().invoke(cli, ["build", str(registry), "--out", str(tmp_path / "feeds")])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("icalpub: build failed: ")
    assert line.endswith(f"; {tmp_path / 'feeds'}/ and the ledger are untouched")
    assert (tmp_path / "feeds").read_text() == "a file where the folder should be"


def test_vanished_registry_is_one_clear_error(tmp_path: Path) -> None:
    gone = tmp_path / "gone.yaml"
    out = tmp_path / "feeds"
    result = CliRunner().invoke(cli, ["build", str(gone), "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{gone}:1:1: error: cannot read the registry: No such file or directory",
        f"icalpub: build failed: 1 error in {gone}; {out}/ is untouched",
    ]
    assert not out.exists()


@pytest.mark.parametrize(
    "path",
    ["../escape.ics", "/etc/passwd.ics", "events/../../x.ics", "topics/a/b.ics", "", "a\0b.ics"],
)
def test_paths_that_would_escape_the_output_folder_are_refused(tmp_path: Path, path: str) -> None:
    out = tmp_path / "deep" / "feeds"
    with pytest.raises(BuildError, match="refusing to write"):
        write_tree(out, {"calendar.ics": b"x", path: b"evil"})
    assert not out.exists()
    assert not (tmp_path / "escape.ics").exists()


def big_registry(path: Path, count: int, title: str) -> None:
    lines = [
        "calendar:\n  title: Big\n  base_url: https://big.example/\n  timezone: Europe/Riga\n",
        "topics:\n  a: {title: A}\n  b: {title: B}\nevents:\n",
    ]
    for i in range(count):
        lines.append(
            f"  - id: e{i}\n    title: {title} {i}\n    start: 2022-01-{1 + i % 28:02d} 10:00\n"
            f"    end: 2022-01-{1 + i % 28:02d} 11:00\n    topics: [{'ab'[i % 2]}]\n"
            f"    description: Apraksts ar garumzīmēm āčēģīķļņšūž {i}\n"
        )
    path.write_text("".join(lines), encoding="utf-8")


def test_sigkill_at_random_points_never_leaves_a_partial_or_mixed_tree(tmp_path: Path) -> None:
    registry = tmp_path / "events.yaml"
    out = tmp_path / "feeds"
    command = [sys.executable, "-m", "icalpub", "build", str(registry), "--out", str(out), "-q"]

    def prepare(title: str) -> None:
        # Without a ledger a build needs no clock, so each registry has exactly one
        # tree: every tree seen must be one of the two, complete.
        big_registry(registry, 1500, title)
        registry.with_suffix(".lock").unlink(missing_ok=True)
        for pending in tmp_path.glob(".events.lock.pending-*"):
            pending.unlink()

    prepare("Old")
    subprocess.run(command, check=True)
    old = assert_consistent(out)
    prepare("New")
    started = time.perf_counter()
    subprocess.run(command, check=True)  # measure one whole new build
    duration = time.perf_counter() - started
    new = assert_consistent(out)
    assert new != old
    rng = random.Random(1234)
    seen = set()
    for title in ("Old", "New") * 4:
        prepare(title)
        process = subprocess.Popen(command)
        time.sleep(rng.uniform(0.05, duration))
        process.send_signal(signal.SIGKILL)
        process.wait()
        seen.add(assert_consistent(out))
    assert seen <= {old, new}
    subprocess.run(command, check=True)
    assert [p.name for p in tmp_path.iterdir() if ".new-" in p.name] == []


def test_a_ledger_that_cannot_be_written_leaves_tree_and_ledger_as_they_were(
    tmp_path: Path,
) -> None:
    """Regression: the tree used to be swapped in before the ledger failed on a full disk."""
    with small_disk(tmp_path / "small", "512k") as small:
        registry = small / "events.yaml"
        shutil.copy(SHIPPED, registry)
        shutil.copy(SHIPPED.with_suffix(".lock"), small / "events.lock")
        out = tmp_path / "feeds"  # the tree is on a disk with room
        command = [sys.executable, "-m", "icalpub", "build", str(registry), "--out", str(out)]
        subprocess.run(command, check=True, capture_output=True)
        before_tree, before_ledger = tree(out), (small / "events.lock").read_bytes()
        text = registry.read_text("utf-8").replace("Rīgā notiek mācības", "Rīgā notika mācības", 1)
        registry.write_text(text, "utf-8")
        # Fill the registry's disk: the new ledger has nowhere to go.
        filler = os.open(small / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
        with contextlib.suppress(OSError):
            while True:
                os.write(filler, b"\0" * 4096)
        os.close(filler)
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 1
        assert tree(out) == before_tree
        assert (small / "events.lock").read_bytes() == before_ledger
        assert "No space left on device" in result.stderr
        assert result.stderr.rstrip().endswith(f"{out}/ and the ledger are untouched")
        (small / "filler").unlink()
        subprocess.run(command, check=True, capture_output=True)
        assert tree(out) != before_tree
        assert (small / "events.lock").read_bytes() != before_ledger
        leftovers = [p.name for p in small.iterdir() if p.name.startswith(".events.lock")]
        assert leftovers == []  # no pending ledger left behind


def test_a_ledger_left_pending_is_taken_up_by_the_next_build(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = site.parent / "feeds"
    lock = site.with_suffix(".lock")
    edited = site.read_text("utf-8").replace("Rīgā notiek mācības", "Rīgā notika mācības", 1)
    site.write_text(edited, "utf-8")
    before_ledger = lock.read_bytes()
    real_replace = os.replace

    def failing(source: Any, target: Any) -> None:
        if Path(target) == lock:
            raise OSError(errno.EIO, "Input/output error", str(target))
        real_replace(source, target)

    monkeypatch.setattr(tree_module.os, "replace", failing)
    result = CliRunner().invoke(cli, ["build", str(site), "--out", str(out)])
    assert result.exit_code == 1
    assert "build incomplete:" in result.stderr
    assert "the next build takes it up" in result.stderr
    assert lock.read_bytes() == before_ledger  # the published tree is ahead of it
    published = tree(out)
    monkeypatch.setattr(tree_module.os, "replace", real_replace)
    # The next build takes up the pending ledger: the edit is not stamped a second time.
    result = CliRunner().invoke(cli, ["build", str(site), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert tree(out) == published
    assert lock.read_bytes() != before_ledger
    assert list(site.parent.glob(".events.lock.pending*")) == []


def test_a_pending_ledger_of_a_tree_never_published_is_dropped(site: Path) -> None:
    out = site.parent / "feeds"
    assert CliRunner().invoke(cli, ["build", str(site), "--out", str(out)]).exit_code == 0
    ledger = site.with_suffix(".lock").read_bytes()
    stale = site.parent / ".events.lock.pending-0123456789abcdef"
    stale.write_text("{not a ledger", "utf-8")  # a build killed before its swap left it
    result = CliRunner().invoke(cli, ["build", str(site), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert not stale.exists()
    assert site.with_suffix(".lock").read_bytes() == ledger
    assert tree(out) == tree(EXPECTED)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o027])
def test_every_file_of_a_tree_is_readable_by_the_web_server_whatever_the_umask(
    site: Path, umask: int
) -> None:
    old = os.umask(umask)
    try:
        assert tree_module.umask_narrows(0o644) == bool(umask & 0o644)
        out = site.parent / "feeds"
        result = CliRunner().invoke(cli, ["build", str(site), "--out", str(out)])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    modes = {oct(p.stat().st_mode & 0o777) for p in out.rglob("*") if p.is_file()}
    assert modes == {"0o644"}
    folders = {oct(p.stat().st_mode & 0o777) for p in [out, *out.rglob("*")] if p.is_dir()}
    assert folders == {"0o755"}
