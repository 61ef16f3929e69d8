"""Load and faults against real gunicorn: many clients while the registry is broken and fixed.

    python bench/load.py [--clients 200] [--rewrites 20] [--window 2.0] [--events 300]

Concurrent clients poll /calendar.ics (unconditional, conditional with their
last ETag, and with gzip) while the registry is rewritten `--rewrites` times,
alternately broken and fixed (each fix an edit), the ledger is updated as a
build would, and one worker is killed with SIGKILL halfway. Every 200 body must
be one of the published versions; during each broken window the last good
version must be served; no 5xx; no connection error but the killed worker's
in-flight request. Prints a summary and exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import http.client
import json
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import free_port, gunicorn, registry_text, worker_pids, write_atomically

from icalpub import ledger as ledger_module
from icalpub.files import write_file
from icalpub.publish import publish
from icalpub.reader import read_source
from icalpub.served import compile_served
from icalpub.site import ledger_path


@dataclass
class Result:
    started: float
    ended: float
    status: int  # 0: connection error
    digest: str | None
    error: str = ""


def client(port: int, stop: threading.Event, results: list[Result], number: int) -> None:
    etag: str | None = None
    mode = number % 3  # 0 unconditional, 1 conditional, 2 gzip
    # Sync workers close every connection, and the server keeps each closed one in
    # TIME_WAIT for a minute: from one source address, a long run would use up the
    # ephemeral ports. Each client gets its own loopback address, as real clients
    # have their own machines.
    source = (f"127.{1 + number // 250}.{number % 250}.{1 + number % 7}", 0)
    while not stop.is_set():
        headers = {}
        if mode == 1 and etag:
            headers["If-None-Match"] = etag
        if mode == 2:
            headers["Accept-Encoding"] = "gzip"
        started = time.monotonic()
        try:
            connection = http.client.HTTPConnection(
                "127.0.0.1", port, timeout=30, source_address=source
            )
            connection.request("GET", "/calendar.ics", headers=headers)
            response = connection.getresponse()
            body = response.read()
            connection.close()
        except (OSError, http.client.HTTPException) as exc:
            results.append(
                Result(started, time.monotonic(), 0, None, f"{type(exc).__name__}: {exc}")
            )
            time.sleep(0.1)  # a real client backs off; errors must not spin
            continue
        digest = None
        if response.status == 200:
            if response.getheader("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            digest = hashlib.sha256(body).hexdigest()
            etag = response.getheader("ETag")
        results.append(Result(started, time.monotonic(), response.status, digest))


def update_ledger(registry: Path) -> None:
    """Do what `icalpub build` does to the ledger."""
    source = read_source(registry)
    assert source.registry is not None
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    published = publish(source.registry, source.ledger, now)
    write_file(ledger_path(registry), ledger_module.dumps(published.reconciled.ledger))


def published_digest(registry: Path) -> str:
    return hashlib.sha256(compile_served(registry).resources["calendar.ics"].body).hexdigest()


def run(clients: int, rewrites: int, window: float, events: int) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="icalpub-load-"))
    registry = folder / "events.yaml"
    good = registry_text(events, seed=7)
    write_atomically(registry, good)
    update_ledger(registry)
    versions = {published_digest(registry)}
    last_good = next(iter(versions))
    port = free_port()
    results: list[Result] = []
    windows: list[tuple[float, float, str]] = []
    kills: list[float] = []
    stop = threading.Event()
    os.environ["ICALPUB_STATE_DIR"] = str(folder / "state")
    with gunicorn(registry, port, folder / "gunicorn.log") as master:
        threads = [
            threading.Thread(target=client, args=(port, stop, results, n), daemon=True)
            for n in range(clients)
        ]
        for thread in threads:
            thread.start()
        time.sleep(window)
        for step in range(rewrites):
            if step % 2 == 0:  # break it: a YAML syntax error an editor might make
                broken_at = time.monotonic()
                write_atomically(registry, good.replace("events:\n", "events: [\n", 1))
                if step == (rewrites // 2) // 2 * 2:
                    # Kill a worker while the file is broken: its replacement must
                    # boot and serve the last good version, not take the server down.
                    time.sleep(window / 2)
                    victim = worker_pids(master.pid)[0]
                    kills.append(time.monotonic())
                    os.kill(victim, signal.SIGKILL)
                    time.sleep(window / 2)
                time.sleep(window)
                windows.append((broken_at, time.monotonic(), last_good))
            else:  # fix it, with an edit, and sometimes update the ledger as a build would
                good = good.replace('title: "', f'title: "v{step} ', 1)
                write_atomically(registry, good)
                # Published as it is until the ledger is updated: a worker may load it
                # in between (its edit stamped at the file's save time, not the build's).
                last_good = published_digest(registry)
                versions.add(last_good)
                if step % 4 == 1:
                    update_ledger(registry)
                    last_good = published_digest(registry)
                    versions.add(last_good)
                time.sleep(window)
        time.sleep(window)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    settle = 1.6  # a worker notices a change within 1 s, then recompiles
    in_window = [
        r
        for r in results
        for (start, end, _) in windows
        if start + settle <= r.started and r.ended <= end
    ]
    stale = [
        r
        for r in results
        for (start, end, digest) in windows
        if start + settle <= r.started and r.ended <= end and r.status == 200 and r.digest != digest
    ]
    errors = [r for r in results if r.status == 0]
    summary = {
        "requests": len(results),
        "clients": clients,
        "rewrites": rewrites,
        "broken_windows": len(windows),
        "versions_published": len(versions),
        "status_200": sum(r.status == 200 for r in results),
        "status_304": sum(r.status == 304 for r in results),
        "status_5xx": sum(r.status >= 500 for r in results),
        "status_other": sum(r.status not in (0, 200, 304) and r.status < 500 for r in results),
        "connection_errors": len(errors),
        "worker_kills": len(kills),
        "unknown_bodies": sum(r.status == 200 and r.digest not in versions for r in results),
        "requests_in_broken_windows": len(in_window),
        "stale_in_broken_windows": len(stale),
        "seconds": round(
            max((r.ended for r in results), default=0)
            - min((r.started for r in results), default=0),
            1,
        ),
    }
    kinds: dict[str, int] = {}
    for r in errors:
        kinds[r.error] = kinds.get(r.error, 0) + 1
    summary["errors"] = dict(sorted(kinds.items(), key=lambda kv: -kv[1])[:5])
    summary["ok"] = (
        summary["status_5xx"] == 0
        and summary["status_other"] == 0
        and summary["unknown_bodies"] == 0
        and summary["stale_in_broken_windows"] == 0
        and len(errors) <= len(kills)  # at most the killed sync worker's one request in flight
        and summary["status_200"] > 0
        and summary["status_304"] > 0
    )
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rewrites", type=int, default=20)
    parser.add_argument("--window", type=float, default=2.0)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args()
    summary = run(args.clients, args.rewrites, args.window, args.events)
    text = json.dumps(summary, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
