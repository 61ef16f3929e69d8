"""Hostile bodies and form posts: a 4xx naming the field, never a 500, never a repr in the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from icalpub.editor import yamltext
from icalpub.live import Live
from icalpub.registry import EVENT_KEYS
from icalpub.service import create_service

from .editing import add_editor, form_of, log_in

NEW = '{"id": "jauns-2030", "title": "Jauns", "start": "2030-05-01"'


@pytest.fixture
def api(site: Path) -> tuple[Any, dict[str, str]]:
    token = add_editor(site)
    app = create_service(live=Live(site, background=False))
    app.config["TESTING"] = True
    return app.test_client(), {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
    }


def send(client: Any, headers: dict[str, str], body: str | bytes) -> Any:
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return client.post("/edit/api/events", data=data, headers=headers)


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        (NEW.replace('"Jauns"', '"\\ud800"') + "}", 422, "title", "surrogate"),
        (NEW + ', "location": "\\udfff"}', 422, "location", "surrogate"),
        (NEW.replace('"Jauns"', '{"lv": {"deep": "y"}}') + "}", 422, "title", "texts"),
        (NEW.replace('"Jauns"', '[["a"]]') + "}", 422, "title", "list of texts"),
        (NEW + ', "location": 1e400}', 422, "location", "finite"),
        (NEW + ', "sequence": -1e400}', 422, "sequence", "finite"),
        (NEW + ', "location": 123456789012345678901234567890}', 422, "location", "large"),
        (NEW + ', "location": "Rīga\\nCēsis"}', 422, "location", "one line"),
        (NEW + ', "location": "Rīga\\u2028Cēsis"}', 422, "location", "one line"),
        (NEW + ', "location": "Rīga\\u0085Cēsis"}', 422, "location", "one line"),
        (NEW + ', "topics": ["training\\r"]}', 422, "topics", "one line"),
        (NEW.replace('"Jauns"', '{"lv": "a\\rb"}') + "}", 422, "title", "one line"),
        (NEW + ', "title": "\\u0007"}', 422, "title", "control character"),
        (NEW + ', "summary": "a\\u009db"}', 422, "summary", "control character U+009D"),
        (NEW + ', "description": "a\\u000bb"}', 422, "description", "control character"),
        ('{"title": "Bez id", "start": "2030-05-01"}', 422, "id", "needs an 'id'"),
        ('{"id": null, "title": "Bez id", "start": "2030-05-01"}', 422, "id", "needs an 'id'"),
        ('{"id": 2030, "title": "Skaitlis", "start": "2030-05-01"}', 422, "id", "text"),
        ("[" * 5000 + "]" * 5000, 400, "", "nested"),
        ('{"a":' * 5000 + "1" + "}" * 5000, 400, "", "nested"),
        (NEW + ', "sequence": NaN}', 400, "", "NaN"),
        (NEW + ', "location": ' + "9" * 5000 + "}", 400, "", "JSON"),
        (b'{"id": "x", "title": "\xff"}', 400, "", "JSON"),
    ],
)
def test_hostile_api_bodies_get_a_4xx_naming_the_field_and_change_nothing(
    api: tuple[Any, dict[str, str]],
    site: Path,
    body: str | bytes,
    status: int,
    field: str,
    words: str,
) -> None:
    client, headers = api
    before = site.read_bytes()
    response = send(client, headers, body)
    assert response.status_code == status, response.get_data(as_text=True)
    answer = response.get_json()
    if field:
        assert any(words in text for text in answer["fields"][field]), answer
    else:
        assert words in answer["error"]
    assert site.read_bytes() == before


def test_a_put_with_a_hostile_value_changes_nothing(
    api: tuple[Any, dict[str, str]], site: Path
) -> None:
    client, headers = api
    url = "/edit/api/events/es-diena-2018"
    got = client.get(url, headers=headers)
    event = got.get_json()
    before = site.read_bytes()
    for value in ({"lv": {"deep": "y"}}, "a\u2029b", ["x", {"y": 1}]):
        response = client.put(
            url,
            data=json.dumps({**event, "location": value}),
            headers={**headers, "If-Match": got.headers["ETag"]},
        )
        assert response.status_code == 422 and "location" in response.get_json()["fields"]
    assert site.read_bytes() == before


@pytest.fixture
def logged_in(site: Path) -> Any:
    add_editor(site)
    app = create_service(live=Live(site, background=False))
    app.config["TESTING"] = True
    client = app.test_client()
    assert log_in(client).status_code == 302
    return client


@pytest.mark.parametrize("place", ["Rīga\u2028Cēsis", "Rīga\x85Cēsis", "Rīga\rCēsis", "a\nb"])
def test_a_multi_line_place_in_the_form_is_refused_as_one_line(
    logged_in: Any, site: Path, place: str
) -> None:
    before = site.read_bytes()
    page = logged_in.get("/edit/events/es-diena-2018").get_data(as_text=True)
    form = {**form_of(page), "location": place}
    response = logged_in.post("/edit/events/es-diena-2018", data=form)
    assert response.status_code == 422
    assert "one line" in response.get_data(as_text=True)
    assert site.read_bytes() == before


# -- properties -------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["2030-05-01", "2030-05-01 10:00", "training", "yes", "0x1F", "~"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
TEXT = st.text(max_size=30)
EVENT_ID = st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)
PLAUSIBLE = st.fixed_dictionaries(
    {
        "id": EVENT_ID,
        "title": TEXT | st.dictionaries(st.sampled_from(["lv", "en"]), TEXT, min_size=1),
        "start": st.sampled_from(["2030-05-01", "2030-05-01 10:00", "9998-12-31", "0999-01-01"]),
    },
    optional={
        "location": TEXT | st.integers() | st.floats(),
        "summary": TEXT,
        "description": st.text(max_size=60),
        "topics": st.lists(st.sampled_from(["campaign", "training", "nav"]), max_size=2),
        "contact": st.fixed_dictionaries({}, optional={"name": TEXT, "phone": TEXT}),
        "sequence": st.integers() | st.floats(),
        "repeat": st.sampled_from(
            ["FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=0", "FREQ=MONTHLY;BYDAY=9TH"]
        ),
    },
)
HOSTILE = st.fixed_dictionaries(
    {"id": EVENT_ID | JSON, "title": TEXT | JSON, "start": st.just("2030-05-01") | JSON},
    optional={key: JSON for key in EVENT_KEYS if key not in ("id", "title", "start")},
)
BODIES = PLAUSIBLE | HOSTILE


def _raw(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, allow_nan=True)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=BODIES, method=st.sampled_from(["POST", "PUT"]))
def test_any_json_body_gets_no_500_changes_nothing_when_refused_and_reads_back_when_taken(
    api: tuple[Any, dict[str, str]], site: Path, body: dict[str, Any], method: str
) -> None:
    client, headers = api
    before = site.read_bytes()
    if method == "POST":
        response = client.post("/edit/api/events", data=_raw(body), headers=headers)
    else:
        url = "/edit/api/events/es-diena-2018"
        body = {**body, "id": "es-diena-2018"}
        response = client.put(url, data=_raw(body), headers={**headers, "If-Match": "*"})
    assert response.status_code < 500, response.get_data(as_text=True)
    event(f"{method} {response.status_code}")
    if response.status_code == 409:  # the id is taken; never a failed read-back
        assert "exists" in response.get_json()["error"], response.get_json()
    if response.status_code >= 400:
        assert site.read_bytes() == before
        return
    saved = client.get(f"/edit/api/events/{body['id']}", headers=headers).get_json()
    written = {k: v for k, v in yamltext.normalize(body).items() if v != {}}  # {"name": ""}
    assert saved == written


FORM_TEXT = st.text(
    alphabet=st.characters(min_codepoint=1, max_codepoint=0x10FFFF, blacklist_categories=("Cs",)),
    max_size=40,
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    title=FORM_TEXT,
    location=FORM_TEXT,
    start=FORM_TEXT | st.sampled_from(["2030-05-01", "9999-12-31", "9998-12-31", "0001-01-01"]),
    repeat=st.sampled_from(["", "weekly", "monthly-date", "monthly-weekday", "custom"]),
    interval=FORM_TEXT | st.sampled_from(["1", "99999999999999999999", "-1", "0"]),
    rule=FORM_TEXT | st.sampled_from(["FREQ=MONTHLY;BYDAY=9TH", "FREQ=WEEKLY;INTERVAL=-3"]),
)
def test_any_event_form_post_gets_no_500_and_reads_back_when_taken(
    logged_in: Any,
    site: Path,
    title: str,
    location: str,
    start: str,
    repeat: str,
    interval: str,
    rule: str,
) -> None:
    before = site.read_bytes()
    page = logged_in.get("/edit/events/es-diena-2018").get_data(as_text=True)
    form = {
        **form_of(page),
        "title": title,
        "location": location,
        "start_date": start,
        "repeat_kind": repeat,
        "repeat_interval": interval,
        "repeat_rule": rule,
    }
    response = logged_in.post("/edit/events/es-diena-2018", data=form)
    assert response.status_code in (302, 409, 422), response.status_code
    event(f"form {response.status_code}")
    if response.status_code != 302:
        assert site.read_bytes() == before
        return
    document = yamltext.read(site.read_text("utf-8"))
    item = document.item("es-diena-2018")
    assert item is not None
    values = document.values(item)
    assert values.get("title") == title.strip() and values.get("location", "") == location.strip()
    assert logged_in.get("/edit/events/es-diena-2018").status_code == 200
    health = logged_in.get("/healthz").get_json()  # what was saved is what is published
    assert health["status"] == "ok" and not health["last_error"], health


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(what=st.sampled_from(["calendar", "topic", "", "x"]), text=FORM_TEXT, topic=FORM_TEXT)
def test_any_settings_form_post_gets_no_500(
    logged_in: Any, site: Path, what: str, text: str, topic: str
) -> None:
    from .editing import hidden

    page = logged_in.get("/edit/settings").get_data(as_text=True)
    data = {
        "csrf_token": hidden(page, "csrf_token"),
        "what": what,
        "title": text,
        "description": text,
        "topic": topic,
        "title_lv": text,
        "feed_items": text,
        "refresh": text,
    }
    response = logged_in.post("/edit/settings", data=data)
    assert response.status_code in (302, 400, 409, 422), response.status_code


@pytest.mark.parametrize(
    ("kind", "interval", "rule", "words"),
    [
        ("monthly-weekday", "-1", "", "INTERVAL"),
        ("weekly", "0", "", "INTERVAL"),  # dateutil would loop for ever
        ("weekly", "99999999999999999999", "", "INTERVAL"),
        ("custom", "1", "FREQ=MONTHLY;BYDAY=9TH", "BYDAY"),
        ("custom", "1", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "30. februāris"),  # a stalled worker
    ],
)
def test_a_repeat_no_calendar_can_expand_is_refused_and_the_pages_still_open(
    logged_in: Any, site: Path, kind: str, interval: str, rule: str, words: str
) -> None:
    before = site.read_bytes()
    page = logged_in.get("/edit/events/es-diena-2018").get_data(as_text=True)
    form = {**form_of(page), "repeat_kind": kind, "repeat_interval": interval, "repeat_rule": rule}
    response = logged_in.post("/edit/events/es-diena-2018", data=form)
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
    assert site.read_bytes() == before
    assert logged_in.get("/edit/events/es-diena-2018").status_code == 200
