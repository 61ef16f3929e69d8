"""gunicorn settings for production: `gunicorn wsgi:app` (this file is read from the cwd)."""

import os

bind = os.environ.get("ICALPUB_BIND", "127.0.0.1:8000")
# Sync workers: every answer is bytes already in memory, so a worker never waits on I/O.
workers = int(os.environ.get("ICALPUB_WORKERS", "2"))
worker_class = "sync"
# Sync workers close every connection after its answer (gunicorn keeps connections
# alive only with async workers); this applies if worker_class is changed.
keepalive = 5
timeout = 30
graceful_timeout = 10
# Each worker compiles the registry itself, so a failed reload in one never
# affects another, and a replaced worker starts from the files on disk.
preload_app = False
accesslog = os.environ.get("ICALPUB_ACCESS_LOG", "-")
errorlog = "-"
loglevel = "info"
