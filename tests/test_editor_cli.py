"""`icalpub editor …`: accounts from the command line; passwords never in arguments."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from icalpub.editor import accounts

from .editing import PASSWORD


def icalpub(folder: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "icalpub", "editor", *args],
        cwd=folder,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def test_add_list_token_passwd_remove(tmp_path: Path) -> None:
    added = icalpub(tmp_path, "add", "Anna", "--email", "anna@example.lv", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    path = tmp_path / "editors.toml"
    assert path.stat().st_mode & 0o777 == 0o600
    assert PASSWORD not in path.read_text()
    editor, _ = accounts.load(path).verify("anna", PASSWORD)
    assert editor is not None and editor.password.startswith("$argon2id$")
    token = icalpub(tmp_path, "token", "anna")
    secret = token.stdout.strip()
    assert token.returncode == 0 and secret.startswith("icp_") and secret not in path.read_text()
    assert accounts.load(path).by_token(secret) is not None
    listed = icalpub(tmp_path, "list").stdout
    assert listed == "anna\tanna@example.lv\tpassword\t1 token(s)\tpublisher\n"
    assert icalpub(tmp_path, "passwd", "anna", stdin="a brand new password\n").returncode == 0
    assert accounts.load(path).verify("anna", PASSWORD)[0] is None
    assert accounts.load(path).verify("anna", "a brand new password")[0] is not None
    assert icalpub(tmp_path, "token", "anna", "--revoke").returncode == 0
    assert accounts.load(path).by_token(secret) is None
    assert icalpub(tmp_path, "remove", "anna").returncode == 0
    assert accounts.load(path).editors == {}


def test_mistakes_are_refused_with_a_reason(tmp_path: Path) -> None:
    short = icalpub(tmp_path, "add", "anna", "--email", "anna@example.lv", stdin="short\n")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    assert not (tmp_path / "editors.toml").exists()
    bad = icalpub(tmp_path, "add", "Anna Bērziņa", "--email", "x@y.lv", stdin=PASSWORD + "\n")
    assert bad.returncode == 1 and "not a valid editor name" in bad.stderr
    icalpub(tmp_path, "add", "anna", "--email", "anna@example.lv", stdin=PASSWORD + "\n")
    twice = icalpub(tmp_path, "add", "anna", "--email", "b@example.lv", stdin=PASSWORD + "\n")
    assert twice.returncode == 1 and "already an editor 'anna'" in twice.stderr
    missing = icalpub(tmp_path, "passwd", "nobody", stdin=PASSWORD + "\n")
    assert missing.returncode == 1 and "no editor 'nobody'" in missing.stderr


def test_the_editors_file_follows_icalpub_editors(tmp_path: Path) -> None:
    elsewhere = tmp_path / "conf" / "people.toml"
    elsewhere.parent.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "icalpub", "editor", "add", "anna", "--email", "a@example.lv"],
        cwd=tmp_path,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "ICALPUB_EDITORS": str(elsewhere)},
    )
    assert result.returncode == 0, result.stderr
    assert "anna" in accounts.load(elsewhere).editors
    assert not (tmp_path / "editors.toml").exists()


def test_roles_are_set_at_add_changed_and_listed_and_old_files_mean_publisher(
    tmp_path: Path,
) -> None:
    path = tmp_path / "editors.toml"
    path.write_text('[editors.old]\nemail = "old@example.lv"\npassword = ""\n')
    assert accounts.load(path).editors["old"].role == "publisher"
    added = icalpub(
        tmp_path,
        "add",
        "ilze",
        "--email",
        "ilze@example.lv",
        "--role",
        "author",
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert accounts.load(path).editors["ilze"].role == "author"
    assert 'role = "author"' in path.read_text()
    assert icalpub(tmp_path, "list").stdout.splitlines()[0].endswith("\tauthor")
    assert icalpub(tmp_path, "role", "ilze", "publisher").returncode == 0
    assert accounts.load(path).editors["ilze"].publishes
    wrong = icalpub(tmp_path, "role", "ilze", "boss")
    assert wrong.returncode == 2 and "boss" in wrong.stderr
    path.write_text('[editors.x]\nemail = "x@example.lv"\nrole = "boss"\n')
    bad = icalpub(tmp_path, "list")
    assert bad.returncode == 1 and "role must be one of publisher, author" in bad.stderr
