"""One table of settings: read once from the environment, documented, the only reader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from icalpub.errors import SettingError
from icalpub.settings import TABLE, Settings, markdown_table

from .conftest import ROOT


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) + len(start) : text.index(end)].strip("\n") + "\n"


def test_the_deploying_guide_s_table_is_the_settings_table() -> None:
    guide = (ROOT / "docs" / "deploying.md").read_text("utf-8")
    start = "<!-- settings: generated from icalpub.settings.TABLE -->"
    written = _between(guide, start, "<!-- end")
    assert written == markdown_table()


def test_every_icalpub_variable_named_anywhere_is_in_the_table() -> None:
    named: set[str] = set()
    places = [*(ROOT / "src").rglob("*.py"), *(ROOT / "docs").glob("*.md"), ROOT / "README.md"]
    places += [ROOT / "wsgi.py", ROOT / "gunicorn.conf.py", *(ROOT / "deploy").iterdir()]
    for path in places:
        named |= set(re.findall(r"ICALPUB_[A-Z_]*[A-Z]", path.read_text("utf-8")))
    assert named == {row.variable for row in TABLE}


def test_the_table_s_defaults_are_the_settings_defaults() -> None:
    defaults = Settings()
    for row in TABLE:
        if row.default.startswith(("(", "`", "a ", "editors.toml")):
            continue  # no value, or one computed from another setting
        assert getattr(defaults, row.name) == row.parse(row.default), row.name
    assert defaults.publish_dir is None and defaults.trusted_proxies == ()
    assert Settings.from_environment({}) == defaults


def test_settings_are_read_from_the_variables_and_flags_win() -> None:
    environ = {
        "ICALPUB_REGISTRY": "/srv/events.yaml",
        "ICALPUB_WORKERS": "4",
        "ICALPUB_STATS": " Off ",
        "ICALPUB_GIT_PUSH": "1",
        "ICALPUB_TRUSTED_PROXIES": "10.0.0.0/8, ::1,",
        "ICALPUB_PUBLISH_DIR": "",  # empty: the default
    }
    settings = Settings.from_environment(environ, workers=3, publish_dir=None)
    assert settings.registry == Path("/srv/events.yaml")
    assert settings.workers == 3
    assert settings.stats is False and settings.git_push is True
    assert settings.trusted_proxies == ("10.0.0.0/8", "::1")
    assert settings.publish_dir is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [("ICALPUB_WORKERS", "two"), ("ICALPUB_WORKERS", "0"), ("ICALPUB_STATS_RETENTION_DAYS", "-1")],
)
def test_a_value_a_setting_cannot_take_is_refused_by_name(variable: str, value: str) -> None:
    with pytest.raises(SettingError, match=variable):
        Settings.from_environment({variable: value})
