"""Incremental publication: after any edits, the same bytes as a cold build, file for file.

The service reloads an edited registry reusing the previous publication's
pieces (VEVENTs, event files, feeds, gzip pieces) and writes its tree linking
the files the published tree already holds. Hypothesis edits the shipped
registry at random, one save after another; after each save the service's
resources and its tree must be exactly what a cold compile and a cold
`icalpub build` of the same registry and ledger give.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icalpub.build import build_folder, write_publication
from icalpub.live import Live
from icalpub.publisher import Publisher
from icalpub.served import compile_served

from .conftest import SHIPPED, FakeClock

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
MARKS = st.sampled_from(["Jauns ", "Ā ", "Nr. 2 ", "x; y "])
EDIT = st.one_of(
    st.tuples(st.just("retitle"), st.integers(0, 40), MARKS),
    st.tuples(st.just("relocate"), st.integers(0, 40), MARKS),
    st.tuples(st.just("delete"), st.integers(0, 40), MARKS),
    st.tuples(st.just("copy"), st.integers(0, 40), MARKS),
    st.tuples(st.just("swap"), st.integers(0, 40), MARKS),
    st.tuples(st.just("topic"), st.integers(0, 4), MARKS),
    st.tuples(st.just("calendar"), st.integers(0, 1), MARKS),
    st.tuples(st.just("touch"), st.integers(0, 0), MARKS),
)
TOPIC_TITLES = ["Mācības", "Projekti", "Informatīvās kampaņas", "Sanāksmes", "Konferences"]


def edited(text: str, edit: tuple[str, int, str], number: int) -> str:
    """Return the registry text with one edit made (always a valid registry)."""
    kind, which, mark = edit
    head, _, body = text.partition("\nevents:\n")
    items = body.split("\n  - id: ")
    items = [items[0], *(f"  - id: {item}" for item in items[1:])]
    items[0] = items[0].removeprefix("  ").removeprefix("- id: ")
    items[0] = f"  - id: {items[0]}"
    chosen = which % len(items)
    item = items[chosen]
    if kind in ("retitle", "relocate"):
        field = "    title:" if kind == "retitle" else "    location:"
        if field in item:  # a plain value or a per-language mapping: mark its first text
            at = item.index(field) + len(field)
            at = item.index("lv: ", at) + 4 if item[at] == "\n" else at + 1
            items[chosen] = item[:at] + mark + item[at:]
        else:
            first, rest = item.split("\n", 1)
            items[chosen] = f"{first}\n    location: {mark}Valmiera\n{rest}"
    elif kind == "delete" and len(items) > 1:
        del items[chosen]
    elif kind == "copy":
        first, rest = item.split("\n", 1)
        items.append(f"{first}-copy{number}\n{rest}")
    elif kind == "swap":
        other = (chosen + 1) % len(items)
        items[chosen], items[other] = items[other], items[chosen]
    elif kind == "topic":
        title = TOPIC_TITLES[which]
        head = head.replace(f"lv: {title}", f"lv: {mark}{title}", 1)
    elif kind == "calendar":
        head = head.replace("lv: Notikumu kalendārs", f"lv: {mark}Notikumu kalendārs", 1)
    body = "\n".join(item.rstrip("\n") + "\n" for item in items)
    return f"{head}\nevents:\n{body}"


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def cold_tree(site: Path, folder: Path, now: dt.datetime = NOW) -> dict[str, bytes]:
    """`icalpub build`'s tree of a copy of the registry and ledger (if any) as they are now."""
    folder.mkdir()
    shutil.copy2(site, folder / "events.yaml")  # its modification time: when it was saved
    if site.with_suffix(".lock").exists():
        shutil.copy(site.with_suffix(".lock"), folder / "events.lock")
    build_folder(folder / "events.yaml", folder / "feeds", now)
    return files_of(folder / "feeds")


def test_edit_helper_keeps_every_event_when_it_only_retitles() -> None:
    text = SHIPPED.read_text("utf-8")
    once = edited(text, ("retitle", 3, "Jauns "), 1)
    assert once.count("\n  - id: ") == text.count("\n  - id: ")
    assert once.count("Jauns ") == 1 and len(once) == len(text) + len("Jauns ")


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    edits=st.lists(EDIT, min_size=1, max_size=3),
    feed_items=st.sampled_from([3, 50]),
    ledger=st.booleans(),
    later=st.sampled_from([0, 3600, 400 * 86400]),
    keep_past=st.sampled_from(["", "P24M", "P40M"]),
)
def test_incremental_publication_is_byte_identical_to_a_cold_build(
    edits: list[tuple[str, int, str]], feed_items: int, ledger: bool, later: int, keep_past: str
) -> None:
    """With or without a ledger (a service of a registry never built: every event new at
    each reload), with the clock moving on between saves by `later` seconds each, and
    with keep_past taking old events out of the calendars."""
    with tempfile.TemporaryDirectory(prefix="icalpub-incremental-") as name:
        root = Path(name)
        site = root / "site" / "events.yaml"
        site.parent.mkdir()
        text = SHIPPED.read_text("utf-8").replace("feed_items: 50", f"feed_items: {feed_items}")
        if keep_past:
            text = text.replace("\n  refresh: ", f"\n  keep_past: {keep_past}\n  refresh: ", 1)
            assert f"keep_past: {keep_past}" in text
        site.write_text(text, "utf-8")
        if ledger:
            shutil.copy(SHIPPED.with_suffix(".lock"), site.with_suffix(".lock"))
        out = root / "public" / "feeds"
        publisher = Publisher(site, out)
        clock = FakeClock()
        moments = [NOW]
        live = Live(
            site, background=False, clock=clock, on_loaded=publisher, now=lambda: moments[-1]
        )
        for number, edit in enumerate(edits, start=1):
            moments.append(NOW + dt.timedelta(seconds=later * number))
            text = edited(text, edit, number)
            site.write_text(text, "utf-8")
            moment = moments[-1].timestamp() + 60 * number
            os.utime(site, (moment, moment))
            clock.advance()
            served = live.current()
            assert live.status == "ok", live.errors
            assert publisher.version() == served.version
            # The service: every resource as a cold compile of the same files makes it.
            cold = compile_served(site, now=moments[-1])
            assert served.resources.keys() == cold.resources.keys()
            for path, resource in cold.resources.items():
                assert served.resources[path].body == resource.body, (edit, path)
                assert served.resources[path].gzipped == resource.gzipped, (edit, path)
            assert served.version == cold.version
            # The tree, event files and index.json included, as `icalpub build` writes it.
            assert files_of(out) == cold_tree(site, root / f"cold{number}", moments[-1]), edit


@pytest.mark.parametrize("damage", ["index", "none"])
def test_the_tree_made_from_the_spare_is_whole_and_a_damaged_spare_is_set_aside(
    tmp_path: Path, damage: str
) -> None:
    """The tree swapped out is kept as `.feeds.spare` and the next tree made from it;
    a spare whose index.json cannot be read is removed, and the tree made anew."""
    site = tmp_path / "site" / "events.yaml"
    site.parent.mkdir()
    text = SHIPPED.read_text("utf-8")
    site.write_text(text, "utf-8")
    shutil.copy(SHIPPED.with_suffix(".lock"), site.with_suffix(".lock"))
    out = tmp_path / "public" / "feeds"
    served = None
    for number, edit in enumerate([("retitle", 2, "Jauns "), ("delete", 5, ""), ("copy", 7, "")]):
        if number:
            text = edited(text, edit, number)
            site.write_text(text, "utf-8")
            os.utime(site, (NOW.timestamp() + number, NOW.timestamp() + number))
        served = compile_served(site, served, now=NOW)
        if number == 2 and damage == "index":
            (out.parent / ".feeds.spare" / "index.json").write_text("{", "utf-8")
        write_publication(served.publication, out)
        assert files_of(out) == cold_tree(site, tmp_path / f"cold{number}"), edit
    spare = out.parent / ".feeds.spare"
    assert files_of(spare).keys() >= {"index.json", "calendar.ics", "calendar.ics.gz"}
    assert [p.name for p in out.parent.iterdir() if ".new-" in p.name] == []
