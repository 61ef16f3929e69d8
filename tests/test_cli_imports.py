"""The command line imports only what a command uses: `--help` and `validate` start at once.

Each command runs in a fresh interpreter with `-X importtime`, which names every
module imported (its times are not read: no clock here).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .conftest import SHIPPED

# Not used by `--help` or `validate`: the web service, the editor, plots, feeds, forking.
HEAVY = ("flask", "werkzeug", "matplotlib", "argon2", "feedgen", "lxml", "multiprocessing")


def imported(
    *args: str, cwd: Path | None = None
) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """Run `python -m icalpub ARGS`; return the modules it imported and the process."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "icalpub", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    names.discard("package")  # the header line
    return names, done


def _top(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def test_help_imports_neither_the_registry_reader_nor_any_heavy_library() -> None:
    names, done = imported("--help")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "icalpub.cli" in names and "click" in names  # the listing is real
    assert not _top(names) & set(HEAVY), sorted(_top(names) & set(HEAVY))
    assert not {n for n in names if n.startswith(("icalpub.registry", "icalpub.web", "yaml"))}
    assert "icalpub.build" not in names and "icalpub.publish" not in names


def test_validate_imports_the_reader_and_calendar_writer_but_not_the_web_or_editor() -> None:
    names, done = imported("validate", str(SHIPPED))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "icalpub.registry" in names and "icalpub.ical" in names  # it did validate
    assert not _top(names) & set(HEAVY), sorted(_top(names) & set(HEAVY))
    leaked = {
        n
        for n in names
        if n.startswith(("icalpub.web", "icalpub.build", "icalpub.publish", "icalpub.feeds"))
        or n.startswith(("icalpub.editor.api", "icalpub.editor.views", "icalpub.editor.setup"))
    }
    assert not leaked, sorted(leaked)


def test_editor_accounts_compute_no_password_hash_at_import() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, icalpub.editor.accounts as a; "
            "print('argon2' in sys.modules, a._hasher.cache_info().currsize, "
            "a._dummy.cache_info().currsize)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.split() == ["False", "0", "0"], done.stderr[-2000:]


def test_editor_help_still_lists_its_commands() -> None:
    names, done = imported("editor", "--help")
    assert done.returncode == 0, done.stderr[-2000:]
    listed = [line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines() if line]
    assert listed == ["add", "list", "passwd", "remove", "role", "token"]
    assert "argon2" not in _top(names)


def test_help_lists_editor_and_stats_with_their_own_help_without_importing_them() -> None:
    import click

    from icalpub.cli import cli
    from icalpub.editor.commands import editor
    from icalpub.stats.commands import stats

    names, done = imported("--help")
    assert done.returncode == 0, done.stderr[-2000:]
    assert not {n for n in names if n.startswith(("icalpub.editor", "icalpub.stats"))}
    listed = {
        line.split()[0]: " ".join(line.split()[1:])
        for line in done.stdout.split("Commands:")[1].splitlines()
        if line.strip()
    }
    # The listing shows the beginning of each group's own help.
    for group in (editor, stats):
        assert group.name is not None
        whole = group.get_short_help_str(500)
        assert whole.startswith(listed[group.name].removesuffix("...")), listed
        short = cli.LAZY[group.name][1]  # type: ignore[attr-defined]
        assert click.Command(group.name, help=short).get_short_help_str(500) == whole


def test_build_imports_no_editor_web_or_markdown_parser_it_does_not_use(
    registry_file: Callable[[str], Path], tmp_path: Path
) -> None:
    # Prose and the Markdown editors write (bold, a link, a list): no parser needed.
    registry = registry_file(
        "".join(
            f"- id: e{i}\n  title: Sanāksme {i}\n  start: 2024-03-{1 + i:02d} 10:00\n"
            f"  topics: [training]\n  repeat: FREQ=WEEKLY;COUNT=3\n  description: |\n"
            f"    Teksts **svarīgs** un [saite](https://example.lv/{i}).\n\n    - viens\n"
            for i in range(20)
        )
    )
    names, done = imported("build", str(registry), "--out", str(tmp_path / "feeds"), "-q")
    assert done.returncode == 0, done.stderr[-2000:]
    calendar = (tmp_path / "feeds" / "calendar.ics").read_bytes().decode().replace("\r\n ", "")
    assert calendar.count("BEGIN:VEVENT") == 20 and "<strong>svarīgs</strong>" in calendar
    assert "icalpub.publish" in names and "feedgen" in _top(names)  # it did build
    unused = {"flask", "werkzeug", "matplotlib", "argon2", "markdown_it", "multiprocessing"}
    assert not _top(names) & unused, sorted(_top(names) & unused)
    assert not {
        n for n in names if n.startswith(("icalpub.editor", "icalpub.stats", "icalpub.web"))
    }
