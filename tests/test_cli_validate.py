"""`icalpub validate` and `icalpub schema`, in-process and as a real console script."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
import yaml
from click.testing import CliRunner

from icalpub.cli import cli

from .conftest import ROOT, SHIPPED

Write = Callable[..., Path]


def test_validate_shipped_registry_prints_a_summary_and_exits_0() -> None:
    result = CliRunner().invoke(cli, ["validate", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{SHIPPED}: ok, 17 events in 5 topics, 2018-09-25 to")


def test_validate_prints_every_error_located_and_exits_1(registry_file: Write) -> None:
    path = registry_file("""\
        - id: a
          title: A
          strat: 2022-01-12
        - id: b
          title: B
          start: 2022-01-12
          topics: [trainin]
        """)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:10:3: error: an event has no 'start'; add 'start:'",
        f"{path}:12:3: error: unknown key 'strat' in an event; did you mean 'start'?",
        f"{path}:16:12: error: event 'b' has the unknown topic 'trainin'; did you mean 'training'?",
        f"{path}: 3 errors, 0 warnings",
    ]


def test_validate_missing_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{tmp_path / 'nope.yaml'}:1:1: error: cannot read the registry: No such file or directory"
    )


def test_console_script_runs_validate_without_traceback_on_garbage(tmp_path: Path) -> None:
    path = tmp_path / "events.yaml"
    path.write_bytes(b"calendar: [\xff\n")
    result = subprocess.run(
        [sys.executable, "-m", "icalpub", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{path}:1:12: error: invalid UTF-8: byte 0xff at byte offset 11" in result.stderr


def test_schema_command_prints_the_shipped_schema_which_accepts_events_yaml() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    # yaml-language-server reads YAML 1.2, where dates stay strings: do the same here.
    data = json.loads(json.dumps(yaml.safe_load(SHIPPED.read_text("utf-8")), default=str))
    jsonschema.validate(data, schema)


def test_schema_rejects_a_misspelt_key() -> None:
    schema = json.loads(CliRunner().invoke(cli, ["schema"]).stdout)
    data = {
        "calendar": {"title": "x", "base_url": "https://x/", "timezone": "UTC"},
        "events": [{"id": "a", "title": "A", "strat": "2022-01-01"}],
    }
    validator = jsonschema.Draft202012Validator(schema)
    assert [e.validator for e in validator.iter_errors(data)] != []


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    for name in cli.list_commands(None):  # type: ignore[arg-type]
        assert f"icalpub {name}" in readme, f"README does not mention 'icalpub {name}'"


def test_validate_warns_when_a_calendar_exceeds_google_s_limit(registry_file: Write) -> None:
    long = "Garš apraksts ar garumzīmēm. " * 400  # ~12 KB a description
    events = "".join(
        f"- id: e{i}\n  title: E{i}\n  start: 2022-01-{1 + i % 28:02d}\n  topics: [training]\n"
        f"  description: {long}\n"
        for i in range(100)
    )
    path = registry_file(events)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:1:1: warning: calendar.ics would be ")
    assert lines[0].endswith(
        "MB; Google Calendar silently drops events beyond about 1 MB; set calendar.keep_past "
        "(e.g. P24M) or shorten descriptions"
    )
    assert lines[1].startswith(f"{path}:1:1: warning: topics/training.ics would be ")
    assert "2 warnings" in result.stdout
