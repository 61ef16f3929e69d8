"""The <icalpub-events> script as a file: served from /static, its words the catalogs' own."""

from __future__ import annotations

import json
import re

from flask.testing import FlaskClient

from icalpub.i18n import translations

from .conftest import ROOT

SCRIPT = ROOT / "src" / "icalpub" / "web" / "static" / "icalpub-events.js"
MESSAGES = {"subscribe": "Subscribe to the calendar", "none": "No upcoming events."}
MESSAGES["cancelled"] = "Cancelled"


def test_the_scripts_words_are_the_gettext_catalogs_translations() -> None:
    source = SCRIPT.read_text("utf-8")
    for language in ("lv", "en"):
        found = re.search(rf"^\s*{language}: (\{{.*\}}),?$", source, re.M)
        assert found, language
        words = json.loads(re.sub(r"(\w+):", r'"\1":', found.group(1)))
        catalog = translations(language)
        assert words == {key: catalog.gettext(text) for key, text in MESSAGES.items()}


def test_the_script_is_served_as_javascript_and_sets_no_cookie(client: FlaskClient) -> None:
    with client.get("/static/icalpub-events.js") as response:
        response.direct_passthrough = False
        body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert 'customElements.define("icalpub-events"' in response.text
    assert "Set-Cookie" not in response.headers
    assert 'credentials: "omit"' in body and "innerHTML" not in body
