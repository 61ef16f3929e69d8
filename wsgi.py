"""WSGI entry point: `gunicorn wsgi:app`; the registry is $ICALPUB_REGISTRY or events.yaml."""

import logging

from icalpub.web import create_app

# Under gunicorn, icalpub's own lines (loaded, reloaded, reload errors) go where
# gunicorn's go; without a handler Python would print only warnings and errors.
_gunicorn = logging.getLogger("gunicorn.error")
if _gunicorn.handlers:
    logging.getLogger("icalpub").handlers = _gunicorn.handlers

app = create_app()
