"""WSGI entry point: `gunicorn wsgi:app`, with the settings of the environment."""

from icalpub.deployment.gunicorn import share_logging
from icalpub.service import create_service
from icalpub.settings import Settings

# Under gunicorn, icalpub's own lines (loaded, reloaded, reload errors) go where
# gunicorn's go; without a handler Python would print only warnings and errors.
share_logging()

app = create_service(Settings.from_environment())
