"""The Flask application factory."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from flask import Blueprint, Flask, Response, g

from ..live import Live
from ..publisher import Publisher
from ..stats import counter
from . import forwarded
from .polls import Polls


def create_app(
    registry: str | Path | None = None,
    live: Live | None = None,
    extra: Iterable[Blueprint] = (),
    editor: bool = True,
    publish: str | Path | None = None,
) -> Flask:
    """Create the app serving `registry` (default: $ICALPUB_REGISTRY, else events.yaml).

    `extra` are the blueprints a deployment enables besides the public ones
    (the editor). With `publish` (default: $ICALPUB_PUBLISH_DIR), each new
    version loaded is written there as `icalpub build` would. The editor's
    URLs are there unless `editor` is false; they answer 404 while the
    editors file does not exist. Raises RegistryError
    when the registry is invalid: the service refuses to start rather than
    serve an empty calendar.
    """
    from ..editor.accounts import editors_path
    from . import agenda, feeds, health, language, pages

    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    logging.getLogger("icalpub").setLevel(logging.INFO)
    if live is None:
        path = registry or os.environ.get("ICALPUB_REGISTRY", "events.yaml")
        publish = publish or os.environ.get("ICALPUB_PUBLISH_DIR") or None
        publisher = Publisher(path, publish) if publish else None
        live = Live(path, on_loaded=publisher)
        if publisher is not None:
            live.watch()  # nginx answers the polls: changes must not wait for a request
        app.extensions["icalpub-publisher"] = publisher
    app.extensions["icalpub"] = live
    app.extensions["icalpub-stats"] = counter.for_service(live.today, live.path)
    app.extensions["icalpub-trust"] = forwarded.Trust(editors_path(live.path))
    agenda.install(app)
    language.install(app)  # before the blueprints: their /<lang> rules use its converter
    app.register_blueprint(feeds.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(pages.blueprint)
    # Every other language of the registry: the same addresses under /<lang>/.
    app.register_blueprint(feeds.blueprint, name="feeds_lang", url_prefix="/<language:lang>")
    app.register_blueprint(pages.blueprint, name="pages_lang", url_prefix="/<language:lang>")
    for blueprint in extra:
        app.register_blueprint(blueprint)
    if editor:
        from ..editor.setup import install

        install(app, live.path)
    language.choose_for(app)
    # Unchanged polls of published files are answered before Flask (the hot path).
    app.wsgi_app = Polls(  # type: ignore[method-assign]
        app.wsgi_app, live, app.extensions["icalpub-stats"], app.extensions["icalpub-trust"]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.errorhandler(404)
    def not_found(error: Exception) -> Response:
        if g.get("view") is None:  # no page of ours, or refused before its language was known
            language.for_unknown_address()
        return pages.not_found(g.view)

    return app
