"""Attack the editor store's sharing with the live publication (`Neighbour`) and its memo.

A worker's store starts from its live publication's read and carries the last
save's reconcile outcomes to the next save. Whatever happens between (hand
edits, topics retitled or the contact changed by hand, a scheduled event whose
time passes, deletes, adds), it must write exactly the bytes a store reading
the file cold writes, and the same as a cold reconcile of the file it leaves.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from icalpub.editor import yamltext
from icalpub.editor.history import AuditLog, Author
from icalpub.editor.install import _Live
from icalpub.editor.store import CalendarChange, Change, Edit, Store, TopicChange
from icalpub.live import Live
from icalpub.served import compile_served

from .conftest import FakeClock

T0 = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
ANNA = Author("Anna Bērziņa", "anna@example.lv")

SCHEDULED = """\
  - id: planots-seminars-2027
    title: Plānots seminārs
    start: 2027-02-01
    topics: [training]
    publish_at: 2026-11-29 14:30

"""


def current(path: Path, event_id: str) -> tuple[dict[str, object], str]:
    document = yamltext.read(path.read_bytes().decode("utf-8"))
    item = document.item(event_id)
    assert item is not None
    return dict(document.values(item)), item.version


def replace_text(path: Path, old: str, new: str) -> None:
    text = path.read_bytes().decode("utf-8")
    assert old in text
    path.write_bytes(text.replace(old, new, 1).encode("utf-8"))


def edit(event_id: str, **fields: object) -> Callable[[Path], Edit]:
    def make(path: Path) -> Edit:
        values, version = current(path, event_id)
        return Change("edit", event_id, dict(values, **fields), version)

    return make


def delete(event_id: str) -> Callable[[Path], Edit]:
    def make(path: Path) -> Edit:
        return Change("delete", event_id, {}, current(path, event_id)[1])

    return make


def add(event_id: str, **more: object) -> Callable[[Path], Edit]:
    def make(path: Path) -> Edit:
        fields = {"title": "Jauns notikums", "start": "2027-03-01", "topics": ["meeting"]}
        return Change("add", event_id, dict(fields, **more))

    return make


def retitle(topic: str, lv: str) -> Callable[[Path], Edit]:
    def make(path: Path) -> Edit:
        document = yamltext.read(path.read_bytes().decode("utf-8"))
        topics = document.section_values("topics")
        titles = dict(topics[topic]["title"])
        titles["lv"] = lv
        description = topics[topic].get("description", "")
        return TopicChange(topic, titles, description, document.section_version("topics"))

    return make


def calendar(**fields: object) -> Callable[[Path], Edit]:
    def make(path: Path) -> Edit:
        document = yamltext.read(path.read_bytes().decode("utf-8"))
        values = dict(document.section_values("calendar"), **fields)
        return CalendarChange(values, document.section_version("calendar"))

    return make


# Each step: a minute offset, and either a hand edit (a function of the path) or an editor's save.
STEPS: list[tuple[int, str, Callable[[Path], object]]] = [
    (1, "save", edit("es-diena-2018", title="Pirmais")),
    (2, "hand", lambda p: replace_text(p, "location: Visa Latvija", "location: Rīga")),
    (3, "save", edit("frem-ii-macibas-2018-09", end="2018-09-27")),
    (
        4,
        "hand",
        lambda p: replace_text(p, "lv: Mācības, en: Training", "lv: Apmācības, en: Training"),
    ),
    (5, "save", edit("es-diena-2019", summary="Otrais")),
    (6, "hand", lambda p: replace_text(p, "events:\n", "events:\n" + SCHEDULED)),
    (20, "save", edit("es-diena-2021", title="Trešais")),
    (40, "save", edit("darba-grupa-2022", title="Ceturtais")),
    (41, "hand", lambda p: replace_text(p, '+371 67829674"', '+371 67829999"')),
    (42, "save", delete("projekta-sanaksme-2022-01")),
    (43, "save", add("jauns-2027-03")),
    (44, "hand", lambda p: replace_text(p, "title: Jauns notikums", "title: Jauns, labots")),
    (45, "save", edit("es-diena-2018", title="Piektais")),
    (46, "save", retitle("meeting", "Tikšanās")),
    (47, "save", edit("jauns-2027-03", title="Sestais")),
    (48, "save", add("melnraksts-2027-04", draft=True, title="Melnraksts")),
    (49, "hand", lambda p: replace_text(p, "title: Melnraksts", "title: Melnraksts, labots")),
    (50, "save", edit("melnraksts-2027-04", draft=False)),
    (51, "save", edit("es-diena-2019", title="Septītais")),
    (52, "hand", lambda p: p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n"))),
    (53, "save", edit("es-diena-2021", title="Astotais")),
    (54, "hand", lambda p: replace_text(p, "timezone: Europe/Riga", "timezone: Europe/Tallinn")),
    (55, "save", edit("darba-grupa-2022", title="Devītais")),
    (56, "hand", lambda p: replace_text(p, "title: Astotais", "title: &t Astotais")),
    (57, "save", edit("frem-ii-macibas-2018-09", end="2018-09-28")),
    (58, "hand", lambda p: replace_text(p, "title: &t Astotais", "title: Astotais")),
    (59, "save", edit("es-diena-2021", title="Desmitais")),
    (60, "save", calendar(contact={"name": "Valsts policija", "phone": "110"})),
    (61, "save", edit("es-diena-2018", title="Vienpadsmitais")),
]


def test_a_store_from_its_live_neighbour_writes_what_a_cold_store_writes(tmp_path: Path) -> None:
    """Step by step, a warm store (started from a live publication that reloads only
    sometimes, carrying its memo from save to save) writes the very bytes a fresh
    store writes for each save, whatever was edited by hand in between."""
    shipped = Path(__file__).resolve().parent.parent / "events.yaml"
    paths = []
    for name in ("warm", "cold"):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(shipped, folder / "events.yaml")
        shutil.copy(shipped.with_suffix(".lock"), folder / "events.lock")
        paths.append(folder / "events.yaml")
    warm_path, cold_path = paths
    clock = FakeClock()
    moment = [T0]
    live = Live(warm_path, background=False, clock=clock, now=lambda: moment[0])
    warm = Store(warm_path, AuditLog(), _Live(live))
    for number, (minutes, kind, step) in enumerate(STEPS):
        now = T0 + dt.timedelta(minutes=minutes)
        moment[0] = now
        for path in paths:
            if kind == "hand":
                step(path)
            else:
                change = step(path)
                assert isinstance(change, Change | TopicChange | CalendarChange)
                store = warm if path == warm_path else Store(cold_path, AuditLog())
                store.save(change, ANNA, now)
            for file in (path, path.with_suffix(".lock")):
                os.utime(file, (now.timestamp(), now.timestamp()))
        if number % 3 == 0:  # the live publication reloads only now and then
            clock.advance()
            live.current()
        where = f"after step {number} ({kind} at +{minutes} min)"
        if minutes >= 40:  # the scheduled event is announced
            assert b"planots-seminars-2027" in warm_path.with_suffix(".lock").read_bytes(), where
        assert warm_path.read_bytes() == cold_path.read_bytes(), where
        assert (
            warm_path.with_suffix(".lock").read_bytes()
            == cold_path.with_suffix(".lock").read_bytes()
        ), where
    last = T0 + dt.timedelta(minutes=STEPS[-1][0])
    assert not compile_served(warm_path, now=last).ledger_behind  # the ledger is in step
    ledger = warm_path.with_suffix(".lock").read_text("utf-8")
    assert "melnraksts-2027-04" in ledger and "projekta-sanaksme-2022-01" in ledger
