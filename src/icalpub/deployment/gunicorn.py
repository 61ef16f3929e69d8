"""The production server: gunicorn with icalpub's settings, for `icalpub serve` and `gunicorn`.

`settings()` is the one place for them; the repository's `gunicorn.conf.py`
(for `gunicorn wsgi:app`) reads it too. Sync workers: every answer is bytes
already in memory, so a worker never waits on I/O. Each worker compiles the
registry itself (no preload), so a failed reload in one never affects another
and a replaced worker starts from the files on disk.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication


def settings(
    bind: str | None = None, workers: int | None = None, registry: str | Path | None = None
) -> dict[str, Any]:
    """Return gunicorn's settings: flags first, then $ICALPUB_BIND/WORKERS/ACCESS_LOG."""
    from ..editor.accounts import editors_path
    from ..web.forwarded import Trust

    registry = registry or os.environ.get("ICALPUB_REGISTRY", "events.yaml")
    return {
        # gunicorn believes X-Forwarded-Proto (the request's scheme) only from the proxies
        # the editor and the counts trust: the one list (empty: nobody, not gunicorn's
        # default of 127.0.0.1). A change to it takes effect at the next start.
        "forwarded_allow_ips": ",".join(Trust(editors_path(registry)).listed()),
        "bind": bind or os.environ.get("ICALPUB_BIND", "127.0.0.1:8000"),
        "workers": workers or int(os.environ.get("ICALPUB_WORKERS", "2")),
        "worker_class": "sync",
        # Sync workers close every connection after its answer (gunicorn keeps
        # connections alive only with async workers); this applies if that changes.
        "keepalive": 5,
        "timeout": 30,
        "graceful_timeout": 10,
        "preload_app": False,
        "accesslog": os.environ.get("ICALPUB_ACCESS_LOG", "-"),
        "errorlog": "-",
        "loglevel": "info",
        # gunicorn 25+ opens an admin socket under ~/.gunicorn; nothing here uses it,
        # and a service user with a read-only home could not create it.
        "control_socket_disable": True,
    }


def share_logging() -> None:
    """Send icalpub's log lines (loaded, reloaded, saved) where gunicorn's go."""
    found = logging.getLogger("gunicorn.error")
    if found.handlers:
        logging.getLogger("icalpub").handlers = found.handlers


class Service(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn serving one registry, each worker creating its own app."""

    def __init__(self, registry: str | Path, options: dict[str, Any]) -> None:
        self.registry = str(registry)
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # older gunicorn versions lack some
                self.cfg.set(key, value)

    def load(self) -> Any:
        from ..web import create_app

        share_logging()
        return create_app(self.registry)


def run(registry: str | Path, bind: str, workers: int | None = None) -> None:
    """Serve `registry` with gunicorn until it is stopped (SIGTERM, Ctrl-C)."""
    Service(registry, settings(bind, workers, registry)).run()
