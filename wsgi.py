"""WSGI entry point: `gunicorn wsgi:app`; the registry is $ICALPUB_REGISTRY or events.yaml."""

from icalpub.deployment.gunicorn import share_logging
from icalpub.web import create_app

# Under gunicorn, icalpub's own lines (loaded, reloaded, reload errors) go where
# gunicorn's go; without a handler Python would print only warnings and errors.
share_logging()

app = create_app()
