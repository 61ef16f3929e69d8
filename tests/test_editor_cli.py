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


def git(folder: Path, *args: str) -> str:
    found = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
    )
    return found.stdout


def test_git_never_offers_the_editors_file_the_session_key_or_the_write_lock(
    tmp_path: Path,
) -> None:
    import shutil

    from icalpub.live import Live
    from icalpub.service import create_service

    from .conftest import SHIPPED, require
    from .editing import log_in

    require("git")
    folder = tmp_path / "registry"
    folder.mkdir()
    shutil.copy(SHIPPED, folder / "events.yaml")
    shutil.copy(SHIPPED.with_suffix(".lock"), folder / "events.lock")
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@example.lv", "commit", "-qm", "registry")
    secrets = ("editors.toml", ".editors.toml.secret")

    def offered() -> str:
        status = git(folder, "status", "--porcelain", "--untracked-files=all")
        staged = git(folder, "add", "-A", "--dry-run")
        return status + staged

    added = icalpub(folder, "add", "anna", "--email", "anna@example.lv", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert f"to {folder / 'editors.toml'}" in added.stderr  # where it wrote
    assert "kept out of git" in added.stderr
    assert not any(name in offered() for name in secrets)
    app = create_service(live=Live(folder / "events.yaml", background=False))
    assert log_in(app.test_client()).status_code == 302  # the first login makes the key
    assert (folder / ".editors.toml.secret").exists()
    for command, stdin in (
        (("token", "anna"), ""),
        (("passwd", "anna"), "a brand new password\n"),
        (("add", "berta", "--email", "berta@example.lv"), PASSWORD + "\n"),
        (("remove", "berta"), ""),
    ):
        assert icalpub(folder, *command, stdin=stdin).returncode == 0
        assert not any(name in offered() for name in secrets), offered()
    lock = folder / ".events.yaml.edit-lock"
    assert not lock.exists()
    token = icalpub(folder, "token", "anna").stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    got = client.get("/edit/api/events/es-diena-2018", headers=auth)
    saved = client.put(
        "/edit/api/events/es-diena-2018",
        json=dict(got.get_json(), title="Jauns"),
        headers={**auth, "If-Match": got.headers["ETag"]},
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert lock.exists()  # the first save made the writers' lock
    assert "Jauns" in git(folder, "show", "HEAD:events.yaml")  # committed, so status is clean
    assert ".events.yaml.edit-lock" not in offered()
    assert git(folder, "status", "--porcelain") == ""  # nothing else appeared either


def test_a_secret_git_already_tracks_is_named_with_the_fix(tmp_path: Path) -> None:
    from .conftest import require

    require("git")
    git(tmp_path, "init", "-q")
    (tmp_path / "editors.toml").write_text("")
    git(tmp_path, "add", "editors.toml")
    added = icalpub(tmp_path, "add", "anna", "--email", "anna@example.lv", stdin=PASSWORD + "\n")
    assert added.returncode == 0
    assert "editors.toml is tracked by git" in added.stderr
    assert "git rm --cached editors.toml" in added.stderr


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
