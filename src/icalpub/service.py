"""The composition root: the one place the service is assembled from its settings.

`wsgi.py` (plain gunicorn), `icalpub serve` (gunicorn in-process, one app per
worker) and `icalpub serve --dev` all call `create_service`. It builds the
live publication (with its last good version in the state folder), the
publisher that writes the static tree when one is configured, the subscriber
counter, and the editor, and hands them to the web app as one `AppState`.
"""

from __future__ import annotations

import logging

from flask import Flask

from .live import Live
from .publisher import Publisher
from .settings import Settings
from .site import Site, editors_path
from .snapshot import Snapshot
from .stats.counter import Counter
from .stats.store import for_settings
from .web import create_app
from .web.state import AppState


def create_service(
    settings: Settings | None = None, *, live: Live | None = None, editor: bool = True
) -> Flask:
    """Assemble the service for `settings` (default: read from the environment).

    `live` replaces the live publication of `settings.registry` (tests pass one
    with their clock). The editor's URLs are there unless `editor` is false;
    they answer 404 while the editors file does not exist. Raises
    RegistryError when the registry is invalid: the service refuses to start
    rather than serve an empty calendar.
    """
    settings = settings or Settings.from_environment()
    logging.getLogger("icalpub").setLevel(logging.INFO)  # loaded, reloaded, saved
    if live is not None:
        settings = settings.serving(live.path)
    registry = settings.registry
    site = Site(registry, editors_path(registry, settings.editors), settings.state_dir)
    publisher = None
    if live is None:
        if settings.publish_dir is not None:
            publisher = Publisher(registry, settings.publish_dir)
        snapshot = Snapshot(registry, site.state_dir)
        turn = publisher.turn if publisher is not None else None
        live = Live(registry, on_loaded=publisher, snapshot=snapshot, turn=turn)
        if publisher is not None:
            live.watch()  # nginx answers the polls: changes must not wait for a request
    counts = for_settings(settings)
    state = AppState(
        live=live,
        publisher=publisher,
        counter=Counter(counts, live.today) if settings.stats else None,
        counts=counts,
        trusted_proxies=settings.trusted_proxies,
        embed_ancestors=settings.embed_ancestors,
        editors=site.editors,
    )

    def editor_room(app: Flask) -> None:
        # Imported here, after the registry is compiled, as before the composition
        # root: the editor's imports (argon2, the pages) take a worker a second
        # under load, and a worker reads the registry as soon as it can.
        from .editor.install import install

        install(app, site, settings.git_push, settings.secret_key)

    return create_app(state, rooms=[editor_room] if editor else [])
