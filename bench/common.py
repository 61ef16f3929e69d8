"""Shared by the bench scripts: generated registries, a gunicorn under test, HTTP helpers."""

from __future__ import annotations

import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZONES = (
    "Europe/Riga",
    "Europe/Riga",
    "Europe/Riga",
    "Europe/Vilnius",
    "America/New_York",
    "Asia/Tokyo",
)
TOPICS = ("training", "project", "campaign", "meeting", "conference")
LV_WORDS = (
    "mācības",
    "sanāksme",
    "cilvēku",
    "tirdzniecības",
    "novēršana",
    "pašvaldību",
    "sociālajiem",
    "darbiniekiem",
    "robežsardze",
    "konference",
    "Rīgā",
    "Liepājā",
    "Daugavpilī",
    "informatīvā",
    "kampaņa",
    "sadarbība",
    "upuru",
    "atpazīšana",
)
EN_WORDS = (
    "training",
    "meeting",
    "human",
    "trafficking",
    "prevention",
    "municipal",
    "social",
    "workers",
    "border",
    "guard",
    "conference",
    "campaign",
    "cooperation",
    "victims",
)


def _marked_up(rng: random.Random, paragraph: str, words: list[str], number: int) -> str:
    """Return a paragraph with a bold phrase, an emphasised word and a link in it."""
    parts = paragraph.split(" ")
    if len(parts) > 8:
        parts[1] = f"**{parts[1]} {parts[2]}**"
        del parts[2]
        parts[4] = f"*{parts[4]}*"
        parts[6] = f"[{parts[6]}](https://example.lv/{number}/{rng.randrange(100)})"
    return " ".join(parts)


def registry_text(count: int, seed: int = 1, title_suffix: str = "", markdown: float = 0.25) -> str:
    """Return a realistic registry of `count` events, the same for the same seed.

    10% all-day (half of them multi-day), 5% repeating, 3% cancelled, several
    zones, five topics, Latvian and English text; a `markdown` share of the
    descriptions use Markdown (the rest are plain prose, which skips the
    Markdown parser). Above a half, the prose itself carries emphasis and
    links too, as a communications officer's text does.
    """
    rng = random.Random(seed)
    out = [
        "calendar:\n  title: Notikumu kalendārs\n  base_url: https://calendar.example.lv/\n"
        "  timezone: Europe/Riga\n  language: lv\n"
        '  contact: {name: Iekšlietu ministrija, phone: "+371 67829674"}\n'
        "  refresh: PT12H\n  feed_items: 50\n",
        "topics:\n"
        + "".join(f"  {t}: {{title: {{lv: {t.capitalize()}, en: {t}}}}}\n" for t in TOPICS),
        "events:\n",
    ]
    if count > 10_000:
        out.extend(_compact_events(rng, count, title_suffix))
        return "".join(out)
    for i in range(count):
        words = LV_WORDS if rng.random() < 0.7 else EN_WORDS
        title = " ".join(rng.choice(words) for _ in range(rng.randint(3, 9))).capitalize()
        paragraphs = [
            " ".join(rng.choice(words) for _ in range(rng.randint(20, 60))) + "."
            for _ in range(rng.randint(1, 3))
        ]
        if markdown > 0.5:
            paragraphs = [_marked_up(rng, p, words, i) for p in paragraphs]
        if rng.random() < markdown:  # some Markdown: emphasis, a link, a list
            paragraphs.append(
                f"**{rng.choice(words)}** [{rng.choice(words)}](https://example.lv/{i})\n\n"
                + "\n".join(f"- {rng.choice(words)}" for _ in range(rng.randint(2, 4)))
            )
        day = 1 + rng.randrange(365 * 3)
        start_day = f"{2021 + day // 365}-{1 + (day % 365) // 31 % 12:02d}-{1 + day % 28:02d}"
        kind = rng.random()
        lines = [f"  - id: event-{i:06d}\n", f'    title: "{title}{title_suffix}"\n']
        if kind < 0.10:
            lines.append(f"    start: {start_day}\n")
            if kind < 0.05:
                end_day = start_day[:-2] + f"{min(28, int(start_day[-2:]) + rng.randint(1, 3)):02d}"
                lines.append(f"    end: {end_day}\n")
        else:
            hour = rng.randint(8, 17)
            lines.append(f"    start: {start_day} {hour:02d}:{rng.choice(('00', '30'))}\n")
            lines.append(f"    end: {start_day} {hour + 1:02d}:30\n")
            zone = rng.choice(ZONES)
            if zone != "Europe/Riga":
                lines.append(f"    timezone: {zone}\n")
            if rng.random() < 0.05:
                lines.append(f"    repeat: FREQ=WEEKLY;COUNT={rng.randint(2, 12)}\n")
        lines.append(f"    location: {rng.choice(('Rīga', 'Liepāja', 'Tiešsaistē', 'Valmiera'))}\n")
        lines.append(f"    topics: [{', '.join(rng.sample(TOPICS, rng.randint(1, 2)))}]\n")
        lines.append(f'    summary: "{paragraphs[0][:120]}"\n')
        lines.append(
            "    description: |\n" + textwrap.indent("\n\n".join(paragraphs), "      ") + "\n"
        )
        lines.append('    contact: {name: Iekšlietu ministrija, phone: "67829674"}\n')
        if rng.random() < 0.03:
            lines.append("    status: cancelled\n")
        out.append("".join(lines))
    return "".join(out)


def _compact_events(rng: random.Random, count: int, title_suffix: str) -> list[str]:
    """Return `count` one-line events: SPEC §1 caps a registry at 16 MiB (~160 bytes an event)."""
    lines = []
    for i in range(count):
        words = LV_WORDS if rng.random() < 0.7 else EN_WORDS
        title = " ".join(rng.choice(words) for _ in range(rng.randint(2, 4))).capitalize()
        day = 1 + rng.randrange(365 * 3)
        start_day = f"{2021 + day // 365}-{1 + (day % 365) // 31 % 12:02d}-{1 + day % 28:02d}"
        kind = rng.random()
        topic = rng.choice(TOPICS)
        if kind < 0.10:
            when = f"start: {start_day}"
        else:
            hour = rng.randint(8, 17)
            when = f"start: {start_day} {hour:02d}:00, end: {start_day} {hour + 1:02d}:30"
            if kind > 0.95:
                when += f", repeat: FREQ=WEEKLY;COUNT={rng.randint(2, 12)}"
        status = ", status: cancelled" if rng.random() < 0.03 else ""
        fields = f"id: e{i:06d}, title: {title}{title_suffix}, {when}, topics: [{topic}]"
        lines.append(f"  - {{{fields}{status}}}\n")
    return lines


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    """Wait until 127.0.0.1:`port` accepts connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


@contextmanager
def gunicorn(
    registry: Path | None,
    port: int,
    log: Path,
    workers: int = 2,
    app: str = "wsgi:app",
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run gunicorn with the production gunicorn.conf.py: icalpub for `registry`, or `app`."""
    env = {
        **os.environ,
        **(env or {}),
        "ICALPUB_BIND": f"127.0.0.1:{port}",
        "ICALPUB_WORKERS": str(workers),
        "ICALPUB_ACCESS_LOG": "/dev/null",
    }
    if registry is not None:
        env["ICALPUB_REGISTRY"] = str(registry)
    with log.open("ab") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), app],
            cwd=cwd,
            env=env,
            stdout=stream,
            stderr=stream,
        )
        try:
            wait_for_port(port)
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def get(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """GET `path` from 127.0.0.1:`port`: status, lower-cased headers, body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def worker_pids(master: int) -> list[int]:
    """Return the pids of gunicorn's workers (the master's children)."""
    found = []
    for task in Path(f"/proc/{master}/task").iterdir():
        children = (task / "children").read_text().split()
        found.extend(int(c) for c in children)
    return sorted(found)


def write_atomically(path: Path, text: str) -> None:
    """Save `path` as an editor that writes a temporary file and renames it would."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, "utf-8")
    os.replace(temporary, path)
