"""The production server: gunicorn with icalpub's settings, for `icalpub serve` and `gunicorn`.

`settings()` turns icalpub's settings into gunicorn's, in one place; the
repository's `gunicorn.conf.py` (for `gunicorn wsgi:app`) uses it too. Sync
workers: a public answer is bytes already in memory, so a worker waits on
I/O only for an editor's save. Each worker compiles the registry itself (no
preload), so a failed reload in one never affects another and a replaced
worker starts from the files on disk.
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from ..settings import Settings


def settings(service: Settings) -> dict[str, Any]:
    """Return gunicorn's settings for the service's (bind, workers, access log, proxies)."""
    from ..site import editors_path
    from ..web.forwarded import Trust

    editors = editors_path(service.registry, service.editors)
    return {
        # gunicorn believes X-Forwarded-Proto (the request's scheme) only from the proxies
        # the editor and the counts trust: the one list (empty: nobody, not gunicorn's
        # default of 127.0.0.1). A change to it takes effect at the next start.
        "forwarded_allow_ips": ",".join(Trust(editors, service.trusted_proxies).listed()),
        "bind": service.bind,
        "workers": service.workers,
        "worker_class": "sync",
        # Sync workers close every connection after its answer (gunicorn keeps
        # connections alive only with async workers); this applies if that changes.
        "keepalive": 5,
        "timeout": 30,
        "graceful_timeout": 10,
        "preload_app": False,
        "accesslog": service.access_log,
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

    def __init__(self, service: Settings) -> None:
        self.service = service
        self.options = settings(service)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # older gunicorn versions lack some
                self.cfg.set(key, value)

    def load(self) -> Any:
        from ..service import create_service

        share_logging()
        return create_service(self.service)


def run(service: Settings) -> None:
    """Serve the registry of `service` with gunicorn until it is stopped (SIGTERM, Ctrl-C)."""
    Service(service).run()
