"""gunicorn's settings for `gunicorn wsgi:app` (read from the cwd), made from icalpub's.

The bind address, workers and access log are the `bind`, `workers` and
`access_log` settings (ICALPUB_BIND, ICALPUB_WORKERS, ICALPUB_ACCESS_LOG);
`forwarded_allow_ips` is the one trusted-proxy list (ICALPUB_TRUSTED_PROXIES
and editors.toml's `[proxy] trusted`);
`icalpub serve` runs gunicorn with the same translation, in
src/icalpub/deployment/gunicorn.py, which says what each is and why.
"""

from icalpub.deployment.gunicorn import settings
from icalpub.settings import Settings

globals().update(settings(Settings.from_environment()))
