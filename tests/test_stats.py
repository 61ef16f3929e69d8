"""Subscriber counts: exact daily figures, a salt that dies with its day, nothing lost or double."""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from icalpub.live import Live
from icalpub.service import create_service
from icalpub.stats import report
from icalpub.stats.counter import Counter
from icalpub.stats.ingest import ingest, resource
from icalpub.stats.store import Counts, network

from .conftest import ROOT
from .test_build import small_disk

DAY = dt.date(2026, 11, 30)
APPLE = "iOS/17.1.1 (21B91) dataaccessd/1.0"
GOOGLE = "Google-Calendar-Importer"
FEEDLY = (
    "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; like FeedFetcher-Google)"
)
THUNDERBIRD = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.3.1"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "state"
    monkeypatch.setenv("ICALPUB_STATE_DIR", str(folder))
    return folder


def app_for(site: Path, today: dt.date = DAY) -> Any:
    live = Live(site, background=False, now=lambda: dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    app = create_service(live=live)
    app.config["TESTING"] = True
    counter: Counter = app.extensions["icalpub"].counter
    counter.today = lambda: today
    return app


def poll(client: Any, path: str, address: str, agent: str, **headers: str) -> int:
    answer = client.get(
        path, headers={"User-Agent": agent, **headers}, environ_base={"REMOTE_ADDR": address}
    )
    return int(answer.status_code)


def test_a_simulated_day_gives_exact_counts(site: Path, state: Path) -> None:
    app = app_for(site)
    client = app.test_client()
    etag = client.head("/calendar.ics").headers["ETag"]  # HEAD: not a poll
    # An iPhone polls from an IPv6 address and again from another in the same /64.
    assert poll(client, "/calendar.ics", "2001:db8:1:2::10", APPLE) == 200
    assert (
        poll(client, "/calendar.ics", "2001:db8:1:2:ffff::1", APPLE, **{"If-None-Match": etag})
        == 304
    )
    # Another iPhone elsewhere, and Google's importer (one for all its users).
    assert poll(client, "/calendar.ics", "2001:db8:9::1", APPLE) == 200
    for _ in range(3):
        poll(client, "/calendar.ics", "66.249.66.1", GOOGLE)
    # Thunderbird polls a topic by its query address: the topic file is what it counts as.
    poll(client, "/calendar.ics?topic=training", "192.0.2.7", THUNDERBIRD)
    poll(client, "/topics/training.ics", "192.0.2.7", THUNDERBIRD)
    # Feedly reports its own subscribers: the latest count is kept.
    poll(client, "/feed.atom", "198.51.100.4", FEEDLY.format(n=462))
    poll(client, "/feed.atom", "198.51.100.4", FEEDLY.format(n=470))
    # A union, HEAD, a page, an event file and a 404: only the union counts.
    poll(client, "/calendar.ics?topic=training&topic=project", "192.0.2.8", APPLE)
    client.head("/calendar.ics", headers={"User-Agent": APPLE})
    client.get("/", headers={"User-Agent": APPLE})
    client.get("/events/es-diena-2018.ics", headers={"User-Agent": APPLE})
    client.get("/topics/nope.ics", headers={"User-Agent": APPLE})
    counter: Counter = app.extensions["icalpub"].counter
    counter.flush()
    assert Counts(state).rows("2000-01-01") == [
        ("2026-11-30", "/calendar.ics", "apple", 2, 3, None),
        ("2026-11-30", "/calendar.ics", "google", 1, 3, None),
        ("2026-11-30", "/calendar.ics?topic=project&topic=training", "apple", 1, 1, None),
        ("2026-11-30", "/feed.atom", "feedly", 1, 2, 470),
        ("2026-11-30", "/topics/training.ics", "thunderbird", 1, 2, None),
    ]
    csv = report.to_csv(Counts(state).rows("2000-01-01"))
    assert csv.splitlines()[0] == "date,resource,client,subscribers,requests,reported"
    assert "2026-11-30,/feed.atom,feedly,1,2,470" in csv.splitlines()
    table = report.to_table(Counts(state).rows("2000-01-01"), DAY)
    assert "Google Calendar (at least one, server-side)" in table


def test_ipv6_addresses_count_by_their_64() -> None:
    assert network("2001:db8:1:2:aaaa::1") == network("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::"
    assert network("2001:db8:1:3::1") != network("2001:db8:1:2::1")
    assert network("::ffff:192.0.2.1") == "192.0.2.1"


def test_the_salt_dies_with_its_day_and_the_hashes_with_it(state: Path) -> None:
    store = Counts(state)
    first = store.poll("2026-11-30", "/calendar.ics", "192.0.2.1", APPLE)
    store.add([first])
    salt_file = (state / "stats-salt").read_text()
    assert salt_file.startswith("2026-11-30 ")
    assert (state / "stats-salt").stat().st_mode & 0o777 == 0o600
    second = store.poll("2026-12-01", "/calendar.ics", "192.0.2.1", APPLE)
    store.add([second])
    assert (state / "stats-salt").read_text().startswith("2026-12-01 ")
    assert salt_file.split()[1] not in (state / "stats-salt").read_text()
    assert first.subscriber != second.subscriber  # the same client, not linkable across days
    with sqlite3.connect(state / "stats.sqlite") as connection:
        assert connection.execute("SELECT DISTINCT day FROM seen").fetchall() == [("2026-12-01",)]
        columns = {r[1] for r in connection.execute("PRAGMA table_info(daily)")}
    assert columns == {"day", "resource", "client", "subscribers", "requests", "reported"}
    assert store.rows("2000-01-01")[0][:5] == ("2026-11-30", "/calendar.ics", "apple", 1, 1)


def test_two_workers_counting_at_once_lose_nothing(state: Path) -> None:
    barrier = threading.Barrier(2)

    def worker(number: int) -> None:
        counter = Counter(Counts(state), lambda: DAY, interval=0)
        barrier.wait()
        for i in range(300):
            counter.count("/calendar.ics", f"192.0.2.{i % 50}", f"{APPLE} w{number}")
            if i % 25 == 0:
                counter.flush()
        counter.flush()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counts(state).rows("2000-01-01") == [
        ("2026-11-30", "/calendar.ics", "apple", 100, 600, None)
    ]


LOG = "".join(
    f'{address} - - [{when}] "{request} HTTP/1.1" {status} 9 "-" "{{{agent}}}"\n'
    for address, when, request, status, agent in (
        ("192.0.2.1", "30/Nov/2026:09:00:00 +0200", "GET /calendar.ics", 200, "apple"),
        ("192.0.2.1", "30/Nov/2026:10:00:00 +0200", "GET /calendar.ics", 304, "apple"),
        ("192.0.2.2", "30/Nov/2026:10:00:01 +0200", "HEAD /calendar.ics", 200, "apple"),
        (
            "192.0.2.3",
            "30/Nov/2026:10:00:02 +0200",
            "GET /calendar.ics?topic=training",
            200,
            "google",
        ),
        ("192.0.2.3", "30/Nov/2026:10:00:03 +0200", "GET /calendar/2026/11", 200, "google"),
        ("192.0.2.4", "30/Nov/2026:23:30:00 +0000", "GET /feed.atom", 200, "feedly"),
    )
)


@pytest.mark.parametrize(
    ("target", "counted"),
    [
        ("/calendar.ics", "/calendar.ics"),
        ("/calendar.ics?topic=training", "/topics/training.ics"),
        ("/en/calendar.ics", "/en/calendar.ics"),
        ("/en/feed.rss?topic=training", "/en/topics/training.rss"),
        ("/en/feed.rss?topic=training&topic=project", "/en/feed.rss?topic=project&topic=training"),
        ("/en/topics/training.atom", "/en/topics/training.atom"),
        ("/events/es-diena-2018.ics", None),  # "add to calendar", not a subscription
        ("/en/events/es-diena-2018.ics", None),
        ("/en/calendar/2022/01", None),
        ("/calendar.ics.gz", None),
    ],
)
def test_an_nginx_log_line_counts_under_its_canonical_resource(
    target: str, counted: str | None
) -> None:
    assert resource(target) == counted


def test_ingesting_a_log_twice_or_its_rotated_copy_counts_once(state: Path, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    text = LOG.format(apple=APPLE, google=GOOGLE, feedly=FEEDLY.format(n=9))
    log.write_text(text)
    store = Counts(state)
    assert ingest(store, log, "Europe/Riga", today=DAY) == (6, 4)
    assert ingest(store, log, "Europe/Riga", today=DAY) == (0, 0)
    log.write_text(text + text.splitlines(keepends=True)[0])  # one more line, appended
    rotated = tmp_path / "access.log.1.gz"
    rotated.write_bytes(gzip.compress(log.read_bytes()))
    log.unlink()
    assert ingest(store, rotated, "Europe/Riga", today=DAY) == (1, 1)  # today's salt: once
    assert Counts(state).rows("2000-01-01") == [
        ("2026-11-30", "/calendar.ics", "apple", 1, 3, None),
        ("2026-11-30", "/topics/training.ics", "google", 1, 1, None),
        ("2026-12-01", "/feed.atom", "feedly", 1, 1, 9),  # 23:30 UTC is the next day in Riga
    ]


@pytest.mark.parametrize("fault", ["locked", "corrupt", "unwritable", "full"])
def test_a_broken_database_drops_counts_and_never_the_poll(
    site: Path,
    state: Path,
    tmp_path: Path,
    fault: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = (ROOT / "tests" / "expected" / "calendar.ics").read_bytes()
    holder = None
    if fault == "locked":
        Counts(state).connect().close()
        holder = sqlite3.connect(state / "stats.sqlite", timeout=0)
        holder.execute("BEGIN EXCLUSIVE")
    elif fault == "corrupt":
        state.mkdir(parents=True)
        (state / "stats.sqlite").write_bytes(b"this is not a database" * 100)
    elif fault == "unwritable":
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text("a file where the folder should be")
    if fault == "full":
        context = small_disk(tmp_path / "small", "64k")
        folder = context.__enter__()
        (folder / "filler").write_bytes(b"x" * 60_000)
        monkeypatch.setenv("ICALPUB_STATE_DIR", str(folder / "state"))
    app = None
    try:
        app = app_for(site)
        client = app.test_client()
        with caplog.at_level(logging.ERROR, logger="icalpub"):
            for i in range(5):
                answer = client.get("/calendar.ics", headers={"User-Agent": f"{APPLE} {i}"})
                assert (answer.status_code, answer.data) == (200, plain)
                app.extensions["icalpub"].counter.flush()
        dropped = [r for r in caplog.records if "counts not written" in r.getMessage()]
        assert len(dropped) == 1, [r.getMessage() for r in caplog.records]
    finally:
        if app is not None:
            app.extensions["icalpub"].counter.close()
        if holder is not None:
            holder.rollback()
            holder.close()
        if fault == "full":
            context.__exit__(None, None, None)


def test_stats_off_counts_nothing(site: Path, state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ICALPUB_STATS", "off")
    app = create_service(live=Live(site, background=False))
    assert app.extensions["icalpub"].counter is None
    app.test_client().get("/calendar.ics", headers={"User-Agent": APPLE})
    assert not (state / "stats.sqlite").exists()


def test_report_and_ingest_from_the_command_line(state: Path, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(LOG.format(apple=APPLE, google=GOOGLE, feedly=FEEDLY.format(n=9)))
    env = {**os.environ, "ICALPUB_STATE_DIR": str(state)}
    command = [sys.executable, "-m", "icalpub", "stats"]
    ingested = subprocess.run(
        [*command, "ingest", str(log)], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert ingested.returncode == 0 and "4 polls counted" in ingested.stderr
    shown = subprocess.run(
        [*command, "report", "--days", "3660", "--csv"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert shown.stdout.splitlines() == [
        "date,resource,client,subscribers,requests,reported",
        "2026-11-30,/calendar.ics,apple,1,2,",
        "2026-11-30,/feed.atom,feedly,1,1,9",
        "2026-11-30,/topics/training.ics,google,1,1,",
    ]


def test_the_editor_shows_the_counts_with_pictures_and_csv(site: Path, state: Path) -> None:
    from .editing import add_editor, log_in

    store = Counts(state)
    for address in ("192.0.2.1", "192.0.2.2"):
        store.add([store.poll(DAY.isoformat(), "/calendar.ics", address, APPLE)])
    store.add([store.poll(DAY.isoformat(), "/feed.atom", "192.0.2.9", FEEDLY.format(n=462))])
    app = create_service(live=Live(site, background=False))
    client = app.test_client()
    assert client.get("/edit/subscribers/").status_code == 404  # no editors file: no editor
    add_editor(site)
    assert client.get("/edit/subscribers/").status_code == 302  # behind the login
    log_in(client)
    page = client.get("/edit/subscribers/?days=3660")
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert "<code>/calendar.ics</code>" in text and "<td>Apple Calendar</td>" in text
    assert "<td>462</td>" in text
    picture = client.get("/edit/subscribers/plot.svg?days=3660")
    assert picture.content_type == "image/svg+xml"
    assert picture.data.startswith(b"<?xml") and b"<svg" in picture.data
    assert client.get("/edit/subscribers/plot.svg?days=3660").data == picture.data  # stable
    rows = client.get("/edit/subscribers/counts.csv?days=3660").get_data(as_text=True)
    assert rows.splitlines() == [
        "date,resource,client,subscribers,requests,reported",
        "2026-11-30,/calendar.ics,apple,2,2,",
        "2026-11-30,/feed.atom,feedly,1,1,462",
    ]


def test_the_report_draws_png_and_svg(state: Path, tmp_path: Path) -> None:
    store = Counts(state)
    store.add([store.poll("2026-11-29", "/calendar.ics", "192.0.2.1", APPLE)])
    env = {**os.environ, "ICALPUB_STATE_DIR": str(state)}
    for name, magic in (("counts.png", b"\x89PNG"), ("counts.svg", b"<?xml")):
        command = [sys.executable, "-m", "icalpub", "stats", "report", "--days", "3660"]
        subprocess.run([*command, "--plot", name], env=env, cwd=tmp_path, check=True)
        assert (tmp_path / name).read_bytes().startswith(magic)


def test_hostile_user_agents_between_genuine_polls_leave_every_subscriber_counted(
    site: Path, state: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_for(site)
    client = app.test_client()
    hostile = [
        FEEDLY.format(n="9" * 20),  # beyond SQLite's integer
        FEEDLY.format(n="9" * 5000),  # beyond what int() parses
        FEEDLY.format(n=10**9 + 1),
    ]
    with caplog.at_level(logging.ERROR, logger="icalpub"):
        for n in range(20):
            assert poll(client, "/calendar.ics", f"192.0.2.{n + 1}", APPLE) == 200
            poll(client, "/feed.atom", f"198.51.100.{n % 3}", hostile[n % 3])
            if n % 5 == 4:
                app.extensions["icalpub"].counter.flush()
        app.extensions["icalpub"].counter.flush()
    rows = {(r[1], r[2]): r[3:] for r in Counts(state).rows("2000-01-01")}
    assert rows[("/calendar.ics", "apple")] == (20, 20, None)
    assert rows[("/feed.atom", "feedly")] == (3, 20, None)  # claims beyond 10**9 ignored
    assert not [r for r in caplog.records if "not" in r.getMessage()]


def test_a_poll_the_database_refuses_is_dropped_alone_and_logged_once(
    state: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from icalpub.stats.store import Poll

    counter = Counter(Counts(state), lambda: DAY)
    try:
        with caplog.at_level(logging.ERROR, logger="icalpub"):
            for round_ in range(2):
                for n in range(5):
                    counter.count("/calendar.ics", f"192.0.2.{10 * round_ + n}", APPLE)
                with counter._lock:  # a value no client can send any more: the safety net
                    counter._pending.append(
                        Poll(DAY.isoformat(), "/feed.atom", "feedly", b"x" * 16, 2**70)
                    )
                counter.flush()
                counter.flush()  # the rest of the batch, put back, is written now
    finally:
        counter.close()
    assert Counts(state).rows("2000-01-01") == [
        ("2026-11-30", "/calendar.ics", "apple", 10, 10, None)
    ]
    refused = [r for r in caplog.records if "not counted" in r.getMessage()]
    assert len(refused) == 1


def test_two_registries_on_one_machine_keep_their_counts_apart_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil
    import tempfile

    from icalpub.site import default_state_dir as state_dir

    monkeypatch.delenv("ICALPUB_STATE_DIR")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    sites = []
    for name in ("test-server", "real"):
        (tmp_path / name).mkdir()
        shutil.copy(ROOT / "events.yaml", tmp_path / name / "events.yaml")
        shutil.copy(ROOT / "events.lock", tmp_path / name / "events.lock")
        sites.append(tmp_path / name / "events.yaml")
    for number, site in enumerate(sites):
        app = app_for(site)
        for n in range(number + 1):  # one subscriber of the test server, two of the real one
            poll(app.test_client(), "/calendar.ics", f"192.0.2.{n + 1}", APPLE)
        app.extensions["icalpub"].counter.close()
    folders = [state_dir(site) for site in sites]
    assert folders[0] != folders[1]
    assert all(folder.parent.parent == tmp_path / "tmp" for folder in folders)
    counts = [Counts(folder).rows("2000-01-01") for folder in folders]
    assert [[row[3] for row in found] for found in counts] == [[1], [2]]
    assert state_dir(sites[0]) == state_dir(str(sites[0].parent / "." / "events.yaml"))
