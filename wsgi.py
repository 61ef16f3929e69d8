"""WSGI entry point: `gunicorn wsgi:app`; the registry is $ICALPUB_REGISTRY or events.yaml."""

from icalpub.web import create_app

app = create_app()
