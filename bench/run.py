"""icalpub's benchmarks, side by side with their floors, as ratios measured in one run.

    python bench/run.py            # the full run (about ten minutes on 2 cores)
    python bench/run.py --smoke    # seconds: the same code on small sizes (CI runs it)

Needs Debian's `wrk` and `nginx` for the serving part (skipped with a note when
missing). Prints a Markdown table and writes it to --out (bench/results.md).

1. Build: `icalpub build` as a whole process for N events (median of --runs,
   peak RSS) against the floor, a process that only loads the same file with
   libyaml (`yaml.CSafeLoader`).
2. Serve: gunicorn with the production gunicorn.conf.py against (a) a bare
   Flask app under the same settings answering the same bytes from memory and
   (b) nginx with deploy/nginx.conf on the static build; wrk on loopback.
3. Reload: the time from saving a changed registry to every worker serving it,
   and the worst request latency during the recompile against the median before.
4. Memory: each worker's RSS with the publication loaded, against the
   publication's bytes (plain + gzip).
5. Hostile inputs: reading and refusing the invalid corpus, an alias bomb, an
   oversized file and deep nesting, against reading the shipped registry (the
   time bounds the tests used to assert live here, as figures).
6. Edits: from saving one changed title to the service answering the new
   bytes and to its --publish tree holding them, against a cold `icalpub
   build` of the same registry (median of --runs saves).
   An editor's API save (PUT of one changed title, If-Match, git commit) of
   the same registry served with --publish: the time until it answers.
7. Command start: `icalpub --help` and `icalpub validate` of the shipped
   registry against `python -c pass`, interleaved over repeated runs.

A wrk run with any failed request (non-2xx/3xx, socket error, or none answered)
stops the script with an error: such a figure would mean nothing.
"""

from __future__ import annotations

import argparse
import base64
import compileall
import datetime as dt
import gzip
import http.client
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import itertools

from common import (
    ROOT,
    free_port,
    get,
    gunicorn,
    registry_text,
    wait_for_port,
    worker_pids,
    write_atomically,
)

BENCH = Path(__file__).resolve().parent
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def timed_process(command: list[str], cwd: Path) -> tuple[float, int]:
    """Run `command`; return its wall time in seconds and peak RSS in MiB."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"{command} failed with status {status}")
    return elapsed, usage.ru_maxrss // 1024


def memory_folder() -> Path | None:
    """Return a folder in memory (tmpfs) to build into, or None where there is none."""
    shm = Path("/dev/shm")
    try:
        with open("/proc/mounts", encoding="ascii") as mounts:
            kinds = {line.split()[1]: line.split()[2] for line in mounts}
    except OSError:
        return None
    return shm if kinds.get(str(shm)) == "tmpfs" and os.access(shm, os.W_OK) else None


def bench_build(
    sizes: list[int],
    runs: int,
    folder: Path,
    markdown: float = 0.25,
    into: Path | None = None,
) -> list[dict[str, Any]]:
    """Time cold builds against loading the same YAML with libyaml (the floor).

    `into` is where the tree is written (default: beside the registry, on
    disk); a tmpfs there leaves out the disk's file creation, which on a
    shared machine varies more than the build itself.
    """
    rows = []
    out_root = into or folder
    for count in sizes:
        registry = folder / f"r{count}-{markdown}.yaml"
        registry.write_text(registry_text(count, seed=1, markdown=markdown), "utf-8")
        builds, floors, peaks = [], [], []
        for run in range(runs):
            out = out_root / f"icalpub-bench-out{count}-{os.getpid()}-{run}"
            registry.with_suffix(".lock").unlink(missing_ok=True)
            settle()
            seconds, peak = timed_process(
                [
                    sys.executable,
                    "-m",
                    "icalpub",
                    "build",
                    str(registry),
                    "--out",
                    str(out),
                    "-q",
                ],
                folder,
            )
            builds.append(seconds)
            peaks.append(peak)
            floor, _ = timed_process(
                [
                    sys.executable,
                    "-c",
                    "import sys, yaml; yaml.load(open(sys.argv[1], 'rb'), Loader=yaml.CSafeLoader)",
                    str(registry),
                ],
                folder,
            )
            floors.append(floor)
            discard(out)
        build, floor = statistics.median(builds), statistics.median(floors)
        kind = "Markdown-heavy" if markdown > 0.5 else "usual"
        rows.append(
            {
                "events": count,
                "kind": kind + (", into tmpfs" if into is not None else ""),
                "build_s": build,
                "floor_s": floor,
                "ratio": build / floor,
                "peak_mib": max(peaks),
                "registry_mib": registry.stat().st_size / 2**20,
            }
        )
    return rows


def cold_build(registry: Path, folder: Path, runs: int) -> float:
    """Return the median time of a cold `icalpub build` of `registry` (no tree, no ledger)."""
    times = []
    for run in range(runs):
        out = folder / f"{registry.stem}-cold-{run}"
        registry.with_suffix(".lock").unlink(missing_ok=True)
        settle()
        command = [sys.executable, "-m", "icalpub", "build", str(registry), "--out", str(out), "-q"]
        times.append(timed_process(command, folder)[0])
        discard(out)
    registry.with_suffix(".lock").unlink(missing_ok=True)
    return statistics.median(times)


TRASH: list[Path] = []  # trees built, removed when the timing is over


def discard(tree: Path) -> None:
    """Keep a built tree until the end: on this VM, files created just after thousands
    were deleted cost 2-3x the kernel time (ext4 mounted `discard`), which is the
    bench's own cleanup, not the next build's cost."""
    TRASH.extend([tree, tree.parent / f".{tree.name}.lock"])


def settle() -> None:
    """Flush what earlier steps wrote, so a timed build does not pay for it."""
    os.sync()


def bench_edits(count: int, folder: Path, runs: int) -> dict[str, Any]:
    """From a save to the service, and to its --publish tree, holding the new bytes.

    Against a cold build of the same registry, measured just before. Each
    save changes one event's title; the service is asked for that event's
    file (a request also makes the worker look for changes), the tree's file
    is read from disk (what nginx would send).
    """
    registry = folder / f"edits{count}.yaml"
    text = registry_text(count, seed=5)
    registry.write_text(text, "utf-8")
    cold = cold_build(registry, folder, runs)
    tree = folder / f"edits{count}-public" / "feeds"
    tree.parent.mkdir()
    event_id = "event-000011"
    title = f'id: {event_id}\n    title: "'
    port = free_port()
    service_s, tree_s = [], []
    with gunicorn(registry, port, folder / "edits.log", env={"ICALPUB_PUBLISH_DIR": str(tree)}):
        get(port, "/healthz")
        deadline = time.perf_counter() + 300
        while not (tree / "index.json").exists() and time.perf_counter() < deadline:
            time.sleep(0.05)
        for number in range(runs):
            marker = f"Edit-{number}-".encode()
            edited = text.replace(title, f"{title}{marker.decode()} ", 1)
            assert edited != text
            found: dict[str, float] = {}
            started = time.perf_counter()
            write_atomically(registry, edited)
            while len(found) < 2:
                elapsed = time.perf_counter() - started
                if elapsed > 300:
                    raise RuntimeError(
                        f"the edit never reached {sorted({'service', 'tree'} - set(found))}"
                    )
                if "service" not in found and marker in get(port, f"/events/{event_id}.ics")[2]:
                    found["service"] = elapsed
                if "tree" not in found:
                    try:
                        if marker in (tree / "events" / f"{event_id}.ics").read_bytes():
                            found["tree"] = elapsed
                    except OSError:
                        pass
                time.sleep(0.005)
            service_s.append(found["service"])
            tree_s.append(found["tree"])
            time.sleep(2)  # both workers settled on this version before the next save
    return {
        "events": count,
        "cold_s": cold,
        "service_s": statistics.median(service_s),
        "tree_s": statistics.median(tree_s),
    }


def bench_api_save(count: int, folder: Path, runs: int) -> dict[str, Any]:
    """An editor's API save of one changed title: from the PUT to its answer.

    The registry is in a git repository (each save is a commit) and served
    with --publish, as a newsroom runs it; against a cold build of the same
    registry, measured just before.
    """
    from icalpub.editor import accounts

    site = folder / f"api{count}"
    site.mkdir()
    registry = site / "events.yaml"
    registry.write_text(registry_text(count, seed=7), "utf-8")
    cold = cold_build(registry, folder, runs)
    path = site / "editors.toml"
    found = accounts.add(
        accounts.load(path), "anna", "anna@example.lv", "bench-pass-1234", "publisher"
    )
    found, token = accounts.new_token(found, "anna")
    accounts.save(path, found)
    git = ["git", "-C", str(site), "-c", "user.name=bench", "-c", "user.email=bench@example.lv"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "events.yaml"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "registry"], check=True)
    auth = {"Authorization": f"Bearer {token}"}
    url = "/edit/api/events/event-000011"
    port = free_port()
    tree = folder / f"api{count}-public" / "feeds"
    tree.parent.mkdir()
    times = []
    with gunicorn(registry, port, folder / "api.log", env={"ICALPUB_PUBLISH_DIR": str(tree)}):
        get(port, "/healthz")
        for number in range(runs):
            status, headers, body = get(port, url, auth)
            assert status == 200, (status, body[:300])
            event = json.loads(body)
            event["title"] = f"API-{number} {event['title']}"
            payload = json.dumps(event).encode()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            started = time.perf_counter()
            connection.request(
                "PUT",
                url,
                body=payload,
                headers={**auth, "If-Match": headers["etag"], "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            answer = response.read()
            times.append(time.perf_counter() - started)
            connection.close()
            assert response.status == 200, (response.status, answer[:300])
            time.sleep(2)  # the workers reloaded and published before the next save
    return {"events": count, "cold_s": cold, "api_s": statistics.median(times)}


def bench_cli(runs: int) -> list[dict[str, Any]]:
    """Time `icalpub --help` and `icalpub validate` against `python -c pass`, interleaved."""
    commands = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "icalpub --help": [sys.executable, "-m", "icalpub", "--help"],
        "icalpub validate (the shipped registry)": [
            sys.executable,
            "-m",
            "icalpub",
            "validate",
            str(ROOT / "events.yaml"),
        ],
    }
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, command in commands.items():
            started = time.perf_counter()
            subprocess.run(
                command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
            )
            times[label].append(time.perf_counter() - started)
    floor = statistics.median(times["python -c pass (floor)"])
    return [
        {
            "command": label,
            "seconds": statistics.median(found),
            "ratio": statistics.median(found) / floor,
        }
        for label, found in times.items()
    ]


def wrk(url: str, seconds: float, headers: dict[str, str]) -> float:
    """Return requests per second that wrk measures for `url`; raise if any request failed."""
    command = ["wrk", "-t2", "-c32", f"-d{max(1, round(seconds))}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    failed = wrk_failures(output)
    if failed:
        raise RuntimeError(f"wrk {url}: {failed}\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    return float(match.group(1)) if match else 0.0


def wrk_failures(output: str) -> str:
    """Return what went wrong in a wrk report ('' when every request was answered well)."""
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors and int(errors.group(1)) > 0:
        return f"{errors.group(1)} answers were not 2xx or 3xx"
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sockets and any(int(n) for n in sockets.groups()):
        return f"socket errors: {sockets.group(0)}"
    done = re.search(r"(\d+) requests in", output)
    if not done or int(done.group(1)) == 0:
        return "no request was answered"
    return ""


def bench_hostile(runs: int) -> list[dict[str, Any]]:
    """Time the refusal of hostile registries against reading the shipped one (one process)."""
    sys.path.insert(0, str(ROOT / "src"))
    from icalpub.registry import Raw, interpret
    from icalpub.yamlsafe import MAX_BYTES

    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    corpus = sorted((ROOT / "tests" / "data" / "invalid").glob("*.yaml"))
    cases = {
        "the shipped registry (baseline)": [(ROOT / "events.yaml").read_bytes()],
        f"the invalid corpus ({len(corpus)} files)": [p.read_bytes() for p in corpus],
        "alias bomb (9 levels of 9)": [("\n".join(lines) + "\n").encode()],
        "16 MiB + 1 byte": [b"#" * (MAX_BYTES + 1)],
        "10,000 levels of nesting": [b"calendar: " + b"[" * 10_000 + b"]" * 10_000 + b"\n"],
    }
    rows = []
    for label, datas in cases.items():
        times = []
        for _ in range(max(runs, 3)):
            started = time.perf_counter()
            for data in datas:
                interpret("r.yaml", Raw(data, None, EPOCH))
            times.append(time.perf_counter() - started)
        rows.append({"input": label, "seconds": statistics.median(times)})
    base = rows[0]["seconds"]
    for row in rows:
        row["ratio"] = row["seconds"] / base
    return rows


@contextmanager
def nginx(root: Path, folder: Path, port: int, proxy: str | None = None):  # type: ignore[no-untyped-def]
    """Run nginx with the configuration `icalpub nginx-config` writes (the stack's with `proxy`)."""
    sys.path.insert(0, str(ROOT / "src"))
    from icalpub.deployment.nginx import render
    from icalpub.model import Calendar

    home = folder / f"nginx-{port}"
    (home / "logs").mkdir(parents=True)
    calendar = Calendar("Bench", "https://calendar.example.lv/", "Europe/Riga")
    conf = render(calendar, root=str(root), listen=f"127.0.0.1:{port}", proxy=proxy)
    conf = conf.replace("worker_processes auto;", "worker_processes 2;")
    conf = conf.replace("sendfile on;", "sendfile on;\n    access_log off;")
    conf = conf.replace("max-age=3600", "max-age=43200")  # the bench registries' refresh
    (home / "nginx.conf").write_text(conf)
    directives = f"daemon off; pid {home}/nginx.pid; error_log {home}/logs/error.log;"
    if os.geteuid() == 0:
        directives += " user root;"
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen(
        [binary, "-p", str(home), "-c", str(home / "nginx.conf"), "-g", directives],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def floor_server(responses: Path, port: int, log: Path):  # type: ignore[no-untyped-def]
    """Run the bare Flask floor app under the same gunicorn settings as icalpub."""
    return gunicorn(
        None, port, log, app="floor_app:app", cwd=BENCH, env={"FLOOR_RESPONSES": str(responses)}
    )


def bench_serve(count: int, seconds: float, folder: Path) -> list[dict[str, Any]]:
    registry = folder / f"serve{count}.yaml"
    registry.write_text(registry_text(count, seed=2), "utf-8")
    out = folder / f"serve{count}-feeds"
    subprocess.run(
        [sys.executable, "-m", "icalpub", "build", str(registry), "--out", str(out), "-q"],
        check=True,
    )
    event_id = "event-000007" if count <= 10_000 else "e000007"
    paths = {
        "304 (If-None-Match)": "/calendar.ics",
        "calendar.ics": "/calendar.ics",
        "calendar.ics, gzip": "/calendar.ics",
        "two topics, gzip": "/calendar.ics?topic=project&topic=training",
        "event page (HTML)": f"/events/{event_id}",
        "month page (HTML)": "/calendar/2021/03",
    }
    rows = []
    icalpub_port, floor_port, nginx_port = free_port(), free_port(), free_port()
    with gunicorn(registry, icalpub_port, folder / "gunicorn.log"):
        # Record icalpub's answers: the floor serves exactly these bytes.
        responses = {}
        for path in set(paths.values()):
            _, headers, plain = get(icalpub_port, path)
            _, _, gzipped = get(icalpub_port, path, {"Accept-Encoding": "gzip"})
            if headers.get("content-encoding") == "gzip":  # pragma: no cover - never for plain
                plain = gzip.decompress(plain)
            responses[path] = {
                "plain": base64.b64encode(plain).decode(),
                "gzip": base64.b64encode(gzipped or gzip.compress(plain)).decode(),
                "etag": headers.get("etag", '"x"'),
                "type": headers["content-type"],
            }
        record = folder / f"floor{count}.json"
        record.write_text(json.dumps(responses))
        etag = responses["/calendar.ics"]["etag"]
        have_nginx = bool(shutil.which("nginx") or Path("/usr/sbin/nginx").exists())
        with floor_server(record, floor_port, folder / "floor.log"):
            nginx_etag = None
            context = nginx(out, folder, nginx_port) if have_nginx else None
            if context:
                context.__enter__()
                nginx_etag = get(nginx_port, "/calendar.ics")[1]["etag"]
            try:
                for label, path in paths.items():
                    headers: dict[str, str] = {}
                    if label.startswith("304"):
                        headers["If-None-Match"] = etag
                    if "gzip" in label:
                        headers["Accept-Encoding"] = "gzip"
                    get(icalpub_port, path, headers)  # warm: a topic union is computed once
                    ours = wrk(f"http://127.0.0.1:{icalpub_port}{path}", seconds, headers)
                    floor = wrk(f"http://127.0.0.1:{floor_port}{path}", seconds, headers)
                    static = None
                    if context and path == "/calendar.ics":
                        if nginx_etag and label.startswith("304"):
                            headers = {**headers, "If-None-Match": nginx_etag}
                        static = wrk(f"http://127.0.0.1:{nginx_port}{path}", seconds, headers)
                    rows.append(
                        {
                            "events": count,
                            "request": label,
                            "icalpub": ours,
                            "floor": floor,
                            "nginx": static,
                            "bytes": len(
                                base64.b64decode(
                                    responses[path]["gzip" if "gzip" in label else "plain"]
                                )
                            )
                            if not label.startswith("304")
                            else 0,
                        }
                    )
            finally:
                if context:
                    context.__exit__(None, None, None)
    return rows


def bench_stack(count: int, seconds: float, folder: Path, watch: float) -> dict[str, Any]:
    """The production stack against bare nginx; from a save to nginx serving it; a broken save."""
    registry = folder / f"stack{count}.yaml"
    text = registry_text(count, seed=3)
    registry.write_text(text, "utf-8")
    tree = folder / f"stack{count}-public" / "feeds"
    tree.parent.mkdir()
    service_port, stack_port, bare_port = free_port(), free_port(), free_port()
    env = {"ICALPUB_PUBLISH_DIR": str(tree)}
    row: dict[str, Any] = {"events": count}
    with gunicorn(registry, service_port, folder / "stack.log", env=env):
        get(service_port, "/healthz")  # a worker has loaded, and so published, the registry
        bare_tree = folder / f"stack{count}-bare"
        shutil.copytree(tree, bare_tree)
        with (
            nginx(tree, folder, stack_port, proxy=f"127.0.0.1:{service_port}"),
            nginx(bare_tree, folder, bare_port),
        ):
            for label, headers in (("304", {}), ("gzip", {"Accept-Encoding": "gzip"})):
                for name, port in (("stack", stack_port), ("bare", bare_port)):
                    asked = dict(headers)
                    if label == "304":
                        asked["If-None-Match"] = get(port, "/calendar.ics")[1]["etag"]
                    row[f"{name}_{label}"] = wrk(
                        f"http://127.0.0.1:{port}/calendar.ics", seconds, asked
                    )
            # From a save to nginx serving the new bytes: nothing asks the service.
            event_id = "event-000011" if count <= 10_000 else "e000011"
            marker = "Saved-by-hand"
            title = f'id: {event_id}\n    title: "'
            edited = text.replace(title, f"{title}{marker} ", 1)
            assert edited != text
            started = time.perf_counter()
            write_atomically(registry, edited)
            while marker.encode() not in get(stack_port, f"/events/{event_id}.ics")[2]:
                if time.perf_counter() - started > 120:
                    raise RuntimeError("the edit never reached nginx")
                time.sleep(0.02)
            row["save_to_nginx_s"] = time.perf_counter() - started
            good = get(stack_port, "/calendar.ics")[2]
            # A broken save: nginx must keep serving the last good bytes.
            write_atomically(registry, edited.replace("calendar:", "calendar: [broken", 1))
            failures, answered, until = 0, 0, time.perf_counter() + max(2.0, 3 * watch)
            while time.perf_counter() < until:
                status, _, body = get(stack_port, "/calendar.ics")
                answered += 1
                failures += status != 200 or body != good
                time.sleep(0.01)
            row["broken_failures"], row["broken_requests"] = failures, answered
            write_atomically(registry, edited)
    return row


def bench_counting(count: int, seconds: float, folder: Path) -> dict[str, Any]:
    """The 304 poll rate with subscriber counting on against off, in one run."""
    registry = folder / f"count{count}.yaml"
    registry.write_text(registry_text(count, seed=4), "utf-8")
    rates: dict[str, float] = {}
    for setting in ("off", "on", "off", "on"):  # interleaved: the machine's drift hits both
        port = free_port()
        env = {"ICALPUB_STATS": setting, "ICALPUB_STATE_DIR": str(folder / f"state-{setting}")}
        with gunicorn(registry, port, folder / "counting.log", env=env):
            etag = get(port, "/calendar.ics")[1]["etag"]
            headers = {"If-None-Match": etag, "User-Agent": "iOS/17.1 (21B80) dataaccessd/1.0"}
            rate = wrk(f"http://127.0.0.1:{port}/calendar.ics", seconds, headers)
        rates[setting] = rates.get(setting, 0.0) + rate / 2
    return {"events": count, "off": rates["off"], "on": rates["on"]}


def bench_reload_and_memory(count: int, folder: Path) -> dict[str, Any]:
    registry = folder / f"reload{count}.yaml"
    text = registry_text(count, seed=3)
    registry.write_text(text, "utf-8")
    out = folder / f"reload{count}-feeds"
    subprocess.run(
        [sys.executable, "-m", "icalpub", "build", str(registry), "--out", str(out), "-q"],
        check=True,
    )
    publication_bytes = sum(
        p.stat().st_size for p in out.rglob("*") if p.is_file() and p.name != "index.json"
    )
    port = free_port()
    with gunicorn(registry, port, folder / "reload.log") as master:
        for _ in range(20):
            get(port, "/calendar.ics", {"Accept-Encoding": "gzip"})
            get(port, "/calendar.ics")
        workers = worker_pids(master.pid)
        rss = [_rss_mib(pid) for pid in workers]
        before = json.loads(get(port, "/healthz")[2])["version"]
        latencies: list[tuple[float, float]] = []
        stop = threading.Event()

        def probe() -> None:
            while not stop.is_set():
                started = time.perf_counter()
                get(port, "/calendar.ics", {"If-None-Match": '"probe"', "Accept-Encoding": "gzip"})
                latencies.append((started, time.perf_counter() - started))
                time.sleep(0.01)

        thread = threading.Thread(target=probe, daemon=True)
        thread.start()
        time.sleep(2)
        saved = time.perf_counter()
        write_atomically(registry, text.replace('title: "', 'title: "Labots: ', 1))
        seen: dict[int, float] = {}
        deadline = saved + 120
        while len(seen) < len(workers) and time.perf_counter() < deadline:
            health = json.loads(get(port, "/healthz")[2])
            if health["version"] != before and health["worker"] not in seen:
                seen[health["worker"]] = time.perf_counter() - saved
            time.sleep(0.02)
        time.sleep(1)
        stop.set()
        thread.join()
    baseline = [d for t, d in latencies if t < saved]
    during = [d for t, d in latencies if saved <= t <= saved + max(seen.values(), default=0) + 0.5]
    return {
        "events": count,
        "first_served_s": min(seen.values(), default=float("nan")),
        "all_workers_s": max(seen.values(), default=float("nan")),
        "median_latency_ms": statistics.median(baseline) * 1000 if baseline else float("nan"),
        "worst_latency_during_reload_ms": max(during, default=float("nan")) * 1000,
        "worker_rss_mib": rss,
        "publication_mib": publication_bytes / 2**20,
        "rss_ratio": max(rss) / (publication_bytes / 2**20) if rss else float("nan"),
    }


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def table(
    build: list[dict[str, Any]],
    serve: list[dict[str, Any]],
    reload: dict[str, Any] | None,
    note: str,
    hostile: list[dict[str, Any]] = (),  # type: ignore[assignment]
    stack: list[dict[str, Any]] = (),  # type: ignore[assignment]
    counting: dict[str, Any] | None = None,
    edits: list[dict[str, Any]] = (),  # type: ignore[assignment]
    cli: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> str:
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}. {note}",
        "",
        "| build | registry | icalpub build | libyaml load (floor) | build / floor | peak RSS |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in build:
        lines.append(
            f"| {row['events']:,} events, {row['kind']} | {row['registry_mib']:.1f} MiB | "
            f"{row['build_s']:.2f} s | {row['floor_s']:.2f} s | {row['ratio']:.1f}× | "
            f"{row['peak_mib']} MiB |"
        )
    usual = [row for row in build if row["kind"] == "usual"]
    if len(usual) >= 2:
        for small, large in itertools.pairwise(usual):
            lines.append(
                f"\n{large['events'] // small['events']}× the events took "
                f"{large['build_s'] / small['build_s']:.1f}× the time "
                f"({small['events']:,} → {large['events']:,})."
            )
    if serve:
        lines += [
            "",
            "| serve (requests/s, wrk -t2 -c32) | icalpub | bare Flask floor | "
            "icalpub / floor | nginx static | nginx / icalpub |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in serve:
            ratio = row["icalpub"] / row["floor"] if row["floor"] else float("nan")
            static = f"{row['nginx']:,.0f}" if row["nginx"] else "n/a"
            versus = (
                f"{row['nginx'] / row['icalpub']:.1f}×"
                if row["nginx"] and row["icalpub"]
                else "n/a"
            )
            lines.append(
                f"| {row['events']:,} events: {row['request']} | {row['icalpub']:,.0f} | "
                f"{row['floor']:,.0f} | {ratio:.0%} | {static} | {versus} |"
            )
    if stack:
        lines += [
            "",
            "| stack (nginx in front, service behind) | requests/s | bare nginx | stack / bare |",
            "| --- | ---: | ---: | ---: |",
        ]
        for row in stack:
            for label, what in (("304", "304 (If-None-Match)"), ("gzip", "calendar.ics, gzip")):
                ours, bare = row[f"stack_{label}"], row[f"bare_{label}"]
                lines.append(
                    f"| {row['events']:,} events: {what} | {ours:,.0f} | {bare:,.0f} | "
                    f"{ours / bare:.0%} |"
                )
        lines += ["", "| stack: edits | events | time or count |", "| --- | ---: | ---: |"]
        for row in stack:
            lines.append(
                f"| saved → nginx serves the new bytes | {row['events']:,} | "
                f"{row['save_to_nginx_s']:.2f} s |"
            )
            lines.append(
                f"| broken save: answers not 200 with the last good bytes | {row['events']:,} | "
                f"{row['broken_failures']} of {row['broken_requests']} |"
            )
    if edits:
        lines += [
            "",
            "| edits (median of the saves) | events | time | cold build | / cold build |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for row in edits:
            for key, what in (
                ("service_s", "saved → the service answers the new bytes"),
                ("tree_s", "saved → the --publish tree holds the new bytes"),
                ("api_s", "API save answers"),
            ):
                if key not in row:
                    continue
                lines.append(
                    f"| {what} | {row['events']:,} | {row[key]:.2f} s | {row['cold_s']:.2f} s | "
                    f"{row[key] / row['cold_s']:.2f}× |"
                )
    if cli:
        lines += [
            "",
            "| command start (median of the runs) | time | / python -c pass |",
            "| --- | ---: | ---: |",
        ]
        for row in cli:
            lines.append(
                f"| {row['command']} | {row['seconds'] * 1000:.0f} ms | {row['ratio']:.1f}× |"
            )
    if counting:
        lines += [
            "",
            "| subscriber counting (304 polls/s) | off | on | on / off |",
            "| --- | ---: | ---: | ---: |",
            f"| {counting['events']:,} events | {counting['off']:,.0f} | {counting['on']:,.0f} | "
            f"{counting['on'] / counting['off']:.0%} |",
        ]
    if reload:
        lines += [
            "",
            "| reload and memory | |",
            "| --- | ---: |",
            f"| events | {reload['events']:,} |",
            f"| saved → first worker serves it | {reload['first_served_s']:.2f} s |",
            f"| saved → every worker serves it | {reload['all_workers_s']:.2f} s |",
            f"| median request before | {reload['median_latency_ms']:.1f} ms |",
            "| worst request during the recompile | "
            f"{reload['worst_latency_during_reload_ms']:.1f} ms |",
            f"| publication (plain + gzip) | {reload['publication_mib']:.1f} MiB |",
            f"| RSS of each worker | {', '.join(f'{r:.0f}' for r in reload['worker_rss_mib'])}"
            " MiB |",
            f"| worker RSS / publication | {reload['rss_ratio']:.2f}× |",
        ]
    if hostile:
        lines += [
            "",
            "| hostile input (read and refused) | time | / shipped registry |",
            "| --- | ---: | ---: |",
        ]
        for row in hostile:
            lines.append(
                f"| {row['input']} | {row['seconds'] * 1000:.1f} ms | {row['ratio']:.1f}× |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds in all")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=BENCH / "results.md")
    args = parser.parse_args()
    # icalpub's own modules compiled, as an installed package has them (pip compiles on
    # install): a work tree run with PYTHONDONTWRITEBYTECODE=1 would compile them at every
    # start the bench times, 40-50 ms of a 1,000-event build.
    compileall.compile_dir(ROOT / "src", quiet=1)
    folder = Path(tempfile.mkdtemp(prefix="icalpub-bench-"))
    os.environ["ICALPUB_STATE_DIR"] = str(folder / "state")
    if args.smoke:
        sizes, serve_sizes, reload_size, seconds, runs = [100, 300], [100], 300, 1.0, 1
        stack_sizes = [100]
        note = "Smoke run: tiny sizes, figures are not meaningful."
    else:
        sizes, serve_sizes, reload_size, seconds, runs = (
            [1_000, 10_000, 100_000],
            [1_000, 10_000],
            10_000,
            5.0,
            args.runs,
        )
        stack_sizes = [1_000, 10_000]
        note = f"Median of {runs} runs for builds; {seconds:.0f} s of wrk per figure."
    build = bench_build(sizes, runs, folder)
    build += bench_build([s for s in sizes if s <= 10_000], runs, folder, markdown=0.9)
    memory = memory_folder()
    if memory is not None:  # the build's own cost, without this machine's disk
        large = [s for s in sizes if s <= 10_000][-1:]
        build += bench_build(large, runs, folder, into=memory)
        build += bench_build(large, runs, folder, markdown=0.9, into=memory)
    serve: list[dict[str, Any]] = []
    if shutil.which("wrk"):
        for count in serve_sizes:
            serve += bench_serve(count, seconds, folder)
    else:
        note += " wrk is not installed: serving not measured."
    stack: list[dict[str, Any]] = []
    if shutil.which("wrk") and (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        for count in stack_sizes:
            stack.append(bench_stack(count, seconds, folder, watch=0.5))
    counting = bench_counting(serve_sizes[0], seconds, folder) if shutil.which("wrk") else None
    reload = bench_reload_and_memory(reload_size, folder)
    hostile = bench_hostile(runs)
    edits = [bench_edits(count, folder, runs) for count in stack_sizes]
    edits += [bench_api_save(count, folder, runs) for count in stack_sizes]
    cli = bench_cli(3 if args.smoke else 20)
    text = table(build, serve, reload, note, hostile, stack, counting, edits, cli)
    print(text)
    args.out.write_text(text)
    for path in TRASH:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
