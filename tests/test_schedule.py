"""Drafts and scheduled publishing (SPEC §1, §2): drafts nowhere, the scheduled at their instant."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import icalendar
from click.testing import CliRunner

from icalpub import ledger as ledgers
from icalpub.build import build_folder
from icalpub.cli import cli
from icalpub.live import Live
from icalpub.publisher import Publisher
from icalpub.reader import read_source

from .conftest import FakeClock, free_port, wait_for_port

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
AT = dt.datetime(2026, 11, 30, 7, 0, tzinfo=dt.UTC)  # Monday 09:00 in Riga

DRAFT = """\
  - id: melnraksts-2026-12
    title: Melnraksts
    start: 2026-12-15 10:00
    topics: [training]
    draft: true
"""
SCHEDULED = """\
  - id: pazinojums-2026-12
    title: Paziņojums
    start: 2026-12-20 10:00
    topics: [training]
    publish_at: 2026-11-30 09:00
"""


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def copy(site: Path, folder: Path, extra: str = "") -> Path:
    folder.mkdir()
    shutil.copy(site.with_suffix(".lock"), folder / "events.lock")
    (folder / "events.yaml").write_text(site.read_text("utf-8") + extra, "utf-8")
    return folder / "events.yaml"


def uids(data: bytes) -> set[str]:
    return {str(e["UID"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}


def test_a_draft_changes_no_byte_of_the_build_nor_the_ledger(site: Path, tmp_path: Path) -> None:
    plain = copy(site, tmp_path / "plain")
    drafted = copy(site, tmp_path / "drafted", DRAFT)
    build_folder(plain, plain.parent / "feeds", NOW)
    build_folder(drafted, drafted.parent / "feeds", NOW)
    assert tree(drafted.parent / "feeds") == tree(plain.parent / "feeds")
    assert drafted.with_suffix(".lock").read_bytes() == plain.with_suffix(".lock").read_bytes()
    assert "melnraksts" not in drafted.with_suffix(".lock").read_text("utf-8")


def test_a_draft_is_in_no_output_of_the_service(site: Path, tmp_path: Path) -> None:
    registry = copy(site, tmp_path / "drafted", DRAFT)
    served = Live(registry, background=False, now=lambda: NOW).current()
    assert served.publication.registry.event("melnraksts-2026-12") is None
    for name, resource in served.resources.items():
        assert b"melnraksts" not in resource.body.lower(), name
    assert served.publication.event_file("melnraksts-2026-12") is None


def test_validate_checks_drafts_like_any_event(site: Path, tmp_path: Path) -> None:
    registry = copy(site, tmp_path / "broken", DRAFT.replace("start: 2026-12-15 10:00", "start: x"))
    result = CliRunner().invoke(cli, ["validate", str(registry)])
    assert result.exit_code == 1
    assert "melnraksts-2026-12" in result.stderr or "start" in result.stderr


def test_a_published_event_cannot_become_a_draft_again(site: Path, tmp_path: Path) -> None:
    text = site.read_text("utf-8")
    marker = "  - id: es-diena-2018\n"
    registry = copy(site, tmp_path / "undo")
    registry.write_text(text.replace(marker, marker + "    draft: true\n", 1), "utf-8")
    problems = [p for p in read_source(registry).problems if p.severity == "error"]
    assert len(problems) == 1 and "cannot become a draft" in problems[0].message


def test_a_scheduled_event_appears_at_its_instant_in_the_service(
    site: Path, tmp_path: Path
) -> None:
    registry = copy(site, tmp_path / "scheduled", SCHEDULED)
    clock = FakeClock()
    now = {"value": AT - dt.timedelta(minutes=1)}
    live = Live(registry, background=False, clock=clock, now=lambda: now["value"])
    before = live.current()
    assert "pazinojums-2026-12@calendar.example.lv" not in uids(
        before.resources["calendar.ics"].body
    )
    assert before.next_change == AT
    now["value"] = AT  # the instant comes; nobody touches the file
    clock.advance()
    after = live.current()
    assert after is not before
    body = after.resources["calendar.ics"].body
    assert "pazinojums-2026-12@calendar.example.lv" in uids(body)
    event = next(
        e
        for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
        if str(e["UID"]).startswith("pazinojums")
    )
    assert event.decoded("CREATED") == AT and event.decoded("DTSTAMP") == AT
    feed = feedparser.parse(after.resources["feed.atom"].body)
    entry = next(e for e in feed.entries if e.id.endswith("pazinojums-2026-12"))
    assert dt.datetime(*entry.published_parsed[:6], tzinfo=dt.UTC) == AT
    assert after.next_change is None


def test_a_build_after_the_instant_includes_the_event_and_one_before_does_not(
    site: Path, tmp_path: Path
) -> None:
    early = copy(site, tmp_path / "early", SCHEDULED)
    build_folder(early, early.parent / "feeds", AT - dt.timedelta(seconds=1))
    assert "pazinojums" not in (early.parent / "feeds" / "calendar.ics").read_text("utf-8")
    assert "pazinojums" not in early.with_suffix(".lock").read_text("utf-8")
    late = copy(site, tmp_path / "late", SCHEDULED)
    build_folder(late, late.parent / "feeds", AT + dt.timedelta(hours=2))
    assert "pazinojums" in (late.parent / "feeds" / "calendar.ics").read_text("utf-8")
    entry = ledgers.loads(late.with_suffix(".lock").read_bytes()).entries["pazinojums-2026-12"]
    assert entry.first_seen == AT


def test_publish_at_written_on_a_published_event_does_not_take_it_back(
    site: Path, tmp_path: Path
) -> None:
    text = site.read_text("utf-8")
    marker = "  - id: es-diena-2018\n"
    registry = copy(site, tmp_path / "later")
    registry.write_text(
        text.replace(marker, marker + "    publish_at: 2030-01-01 09:00\n", 1), "utf-8"
    )
    served = Live(registry, background=False, now=lambda: NOW).current()
    assert "es-diena-2018@calendar.example.lv" in uids(served.resources["calendar.ics"].body)
    assert not served.publication.reconciled.deleted


def test_the_published_tree_changes_at_the_instant_in_the_publisher(
    site: Path, tmp_path: Path
) -> None:
    registry = copy(site, tmp_path / "tree", SCHEDULED)
    out = tmp_path / "public"
    clock = FakeClock()
    now = {"value": AT - dt.timedelta(minutes=1)}
    live = Live(
        registry, background=False, clock=clock, now=lambda: now["value"],
        on_loaded=Publisher(registry, out),
    )  # fmt: skip
    live.current()
    assert "pazinojums" not in (out / "calendar.ics").read_text("utf-8")
    now["value"] = AT + dt.timedelta(seconds=1)
    clock.advance()
    live.current()
    assert "pazinojums" in (out / "calendar.ics").read_text("utf-8")


def test_a_running_service_publishes_a_scheduled_event_by_itself(
    site: Path, tmp_path: Path
) -> None:
    """One real-process test: `icalpub serve --publish` with an instant a few seconds ahead,
    no request to the service; the tree gets the event by the watcher alone."""
    at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=8)
    soon = SCHEDULED.replace("publish_at: 2026-11-30 09:00", f"publish_at: {at.isoformat()}")
    registry = copy(site, tmp_path / "live", soon)
    out = tmp_path / "public"
    port = free_port()
    env = {**os.environ, "ICALPUB_STATE_DIR": str(tmp_path / "state")}
    command = [
        sys.executable, "-m", "icalpub", "serve", str(registry),
        "--port", str(port), "--workers", "1", "--publish", str(out),
    ]  # fmt: skip
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        try:
            wait_for_port(port, timeout=60)
            deadline = time.monotonic() + 60  # a bound only; the instant is seconds away
            early: list[bool] = []
            while time.monotonic() < deadline:
                calendar = out / "calendar.ics"
                text = calendar.read_text("utf-8") if calendar.exists() else ""
                if text and dt.datetime.now(dt.UTC) < at - dt.timedelta(seconds=1):
                    early.append("pazinojums" in text)
                if "pazinojums" in text:
                    break
                time.sleep(0.2)
            else:
                raise AssertionError("the scheduled event never reached the tree")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    assert dt.datetime.now(dt.UTC) >= at
    assert early and not any(early)  # the tree had the calendar without it before the instant
