"""gunicorn settings for `gunicorn wsgi:app` (read from the cwd): icalpub's own, in one place.

`icalpub serve` runs gunicorn with the same settings; see
src/icalpub/deployment/gunicorn.py for what each is and why.
"""

from icalpub.deployment.gunicorn import settings

globals().update(settings())
