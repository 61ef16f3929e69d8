"""The form for people who never saw an id (#25 item 6): the id is made from the title and
date (Latvian letters transliterated), editable until the first save, refusals on the id field
in the interface's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from icalpub.editor.ids import ID, suggest
from icalpub.live import Live
from icalpub.service import create_service

from .editing import add_editor, form_of, log_in


def test_latvian_letters_are_transliterated_and_the_month_appended() -> None:
    found = suggest("Mācības par cilvēku tirdzniecību Ķekavā", "2026-12-10")
    assert found == "macibas-par-cilveku-tirdzniecibu-kekava-2026-12"
    assert suggest("Ģimeņu ŽŪRIJA: šķēršļi", "2026-01-05 10:00") == "gimenu-zurija-skersli-2026-01"


def test_a_taken_id_gets_a_number_and_every_suggestion_is_a_valid_id() -> None:
    taken = {"seminars-2026-12", "seminars-2026-12-2"}
    assert suggest("Seminārs", "2026-12-01", taken) == "seminars-2026-12-3"
    long = suggest("Ļoti garš nosaukums " * 20, "2026-12-01")
    assert ID.fullmatch(long) and long.endswith("-2026-12") and len(long) <= 80
    assert suggest("— !!! —", "2026-12-01") == ""


@pytest.fixture
def client(site: Path) -> Any:
    add_editor(site)
    app: Flask = create_service(live=Live(site, background=False))
    app.config["TESTING"] = True
    found = app.test_client()
    assert log_in(found).status_code == 302
    return found


def test_a_new_event_without_an_id_is_saved_under_the_suggested_one(
    client: Any, site: Path
) -> None:
    form = form_of(client.get("/edit/new").get_data(as_text=True))
    assert form["id"] == ""
    form.update(title="Mācības par cilvēku tirdzniecību", start_date="2026-12-10", allday="1")
    answer = client.post("/edit/new", data=form)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("saved=macibas-par-cilveku-tirdzniecibu-2026-12")
    assert "- id: macibas-par-cilveku-tirdzniecibu-2026-12\n" in site.read_text("utf-8")
    again = client.post("/edit/new", data=form)  # the same title and month: a number
    assert again.headers["Location"].endswith("saved=macibas-par-cilveku-tirdzniecibu-2026-12-2")
    page = client.get("/edit/events/macibas-par-cilveku-tirdzniecibu-2026-12").get_data(
        as_text=True
    )
    assert 'name="id" type="text"' not in page  # fixed once saved


def test_without_a_title_or_an_id_the_latvian_message_is_on_the_id_field(
    client: Any, site: Path
) -> None:
    before = site.read_bytes()
    form = form_of(client.get("/edit/new").get_data(as_text=True))
    form.update(start_date="2026-12-10", allday="1")
    answer = client.post("/edit/new", data=form)
    assert answer.status_code == 422 and site.read_bytes() == before
    page = answer.get_data(as_text=True)
    assert '<span class="field-error" id="e-id">Norādiet notikuma nosaukumu' in page
    assert "not in the result" not in page


def test_a_taken_id_is_refused_on_the_id_field_in_latvian(client: Any, site: Path) -> None:
    form = form_of(client.get("/edit/new").get_data(as_text=True))
    form.update(id="es-diena-2018", title="Cits", start_date="2026-12-10", allday="1")
    answer = client.post("/edit/new", data=form)
    assert answer.status_code == 409
    assert '<span class="field-error" id="e-id">Šāds identifikators' in answer.get_data(
        as_text=True
    )


def test_the_suggestion_the_form_shows_is_the_one_a_save_makes(client: Any, site: Path) -> None:
    answer = client.get("/edit/suggest-id?title=Mācības%20par%20drošību&start=2026-12-10")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert answer.get_json() == {"id": "macibas-par-drosibu-2026-12"}
    taken = client.get("/edit/suggest-id?title=ES%20diena&start=2018-10-01").get_json()
    assert taken == {"id": "es-diena-2018-10"}
    page = client.get("/edit/new").get_data(as_text=True)
    assert 'data-suggest="/edit/suggest-id"' in page and "editor-id.js" in page
