"""gunicorn settings for `gunicorn wsgi:app` (read from the cwd): icalpub's own, in one place.

`icalpub serve` runs gunicorn with the same settings; see
src/icalpub/deployment/gunicorn.py for what each is and why.
"""

from icalpub.deployment.gunicorn import settings
from icalpub.settings import Settings

globals().update(settings(Settings.from_environment()))
