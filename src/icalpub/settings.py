"""Every setting of the service in one table, read from the environment once.

Each row names a setting, its `ICALPUB_*` environment variable, its default
and what it does (docs/deploying.md's table is checked against it). An entry
point (`wsgi.py`, `icalpub serve`, the `icalpub editor` and `icalpub stats`
commands) builds one `Settings` and hands it on; no other module reads the
environment.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SettingError
from .site import default_state_dir

PER_REGISTRY = Path("\0per-registry")  # state_dir unset: default_state_dir(registry)
OFF = ("off", "0", "no", "false")


@dataclass(frozen=True)
class Setting:
    """One row of the table: a setting, its variable, its default as written, and its help."""

    name: str
    variable: str
    default: str
    help: str
    parse: Callable[[str], Any]


def _on(raw: str) -> bool:
    return raw.strip().lower() not in OFF


def _count(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError(raw)
    return value


def _names(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


TABLE = (
    Setting("registry", "ICALPUB_REGISTRY", "events.yaml",
            "The registry the service serves (`icalpub serve` takes it as its argument).", Path),
    Setting("publish_dir", "ICALPUB_PUBLISH_DIR", "(none)",
            "Write the static tree there at each new version (`icalpub serve --publish`).", Path),
    Setting("bind", "ICALPUB_BIND", "127.0.0.1:8000",
            "gunicorn's address under plain gunicorn (`icalpub serve`: `--host`, `--port`).", str),
    Setting("workers", "ICALPUB_WORKERS", "2",
            "gunicorn worker processes (`icalpub serve --workers`).", _count),
    Setting("access_log", "ICALPUB_ACCESS_LOG", "-",
            "gunicorn's access log file (`-`: standard output).", str),
    Setting("editors", "ICALPUB_EDITORS", "editors.toml beside the registry",
            "The editors file; the editor at /edit/ is on while it exists.", Path),
    Setting("secret_key", "ICALPUB_SECRET_KEY", "a random key kept beside the editors file",
            "The key that signs the editor's session cookies.", str),
    Setting("git_push", "ICALPUB_GIT_PUSH", "0",
            "`1` pushes each editor commit to the git upstream (`icalpub serve --push`).",
            lambda raw: raw == "1"),
    Setting("stats", "ICALPUB_STATS", "on",
            "Subscriber counting; `off` (or `0`, `no`, `false`) turns it off.", _on),
    Setting("stats_retention_days", "ICALPUB_STATS_RETENTION_DAYS", "400",
            "Days of subscriber counts kept.", _count),
    Setting("state_dir", "ICALPUB_STATE_DIR",
            "`icalpub-<uid>/<registry>-<hash of its path>` in the temp directory: one per registry",
            "The state folder: last good versions of each server run, subscriber counts, "
            "the editor's login failures and open sessions.", Path),
    Setting("trusted_proxies", "ICALPUB_TRUSTED_PROXIES", "(none)",
            "Comma-separated addresses or networks of the proxies whose X-Forwarded-For and "
            "X-Forwarded-Proto the editor, the counts and gunicorn believe (with editors.toml's "
            "`[proxy] trusted`: one list).", _names),
    Setting("embed_ancestors", "ICALPUB_EMBED_ANCESTORS", "the calendar's own host",
            "Space-separated CSP sources that may frame /embed/ (see docs/finding.md).", str),
)  # fmt: skip


@dataclass(frozen=True)
class Settings:
    """The service's settings (see TABLE for what each is)."""

    registry: Path = Path("events.yaml")
    publish_dir: Path | None = None
    bind: str = "127.0.0.1:8000"
    workers: int = 2
    access_log: str = "-"
    editors: Path | None = None
    secret_key: str | None = None
    git_push: bool = False
    stats: bool = True
    stats_retention_days: int = 400
    state_dir: Path = PER_REGISTRY  # replaced by the registry's own folder
    trusted_proxies: tuple[str, ...] = ()
    embed_ancestors: str = ""

    def __post_init__(self) -> None:
        if self.state_dir is PER_REGISTRY:
            object.__setattr__(self, "state_dir", default_state_dir(self.registry))

    def serving(self, registry: Path) -> Settings:
        """Return these settings for `registry`: its own state folder unless one is set."""
        if registry == self.registry:
            return self
        own = self.state_dir == default_state_dir(self.registry)
        folder = default_state_dir(registry) if own else self.state_dir
        return dataclasses.replace(self, registry=registry, state_dir=folder)

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> Settings:
        """Return the settings from `environ` (default: os.environ); `overrides` (not None) win."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for row in TABLE:
            raw = environ.get(row.variable, "")
            if raw:
                try:
                    values[row.name] = row.parse(raw)
                except ValueError:
                    raise SettingError(row.variable, raw) from None
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)


def markdown_table() -> str:
    """Return TABLE as the Markdown table of docs/deploying.md."""
    lines = [
        "| setting | environment variable | default | what it does |",
        "| --- | --- | --- | --- |",
    ]
    for row in TABLE:
        lines.append(f"| `{row.name}` | `{row.variable}` | {row.default} | {row.help} |")
    return "\n".join(lines) + "\n"
