"""/healthz: is the service serving what is on disk?"""

from __future__ import annotations

import os

from flask import Blueprint, Response, current_app, jsonify

from .respond import service

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    """Report status, events, version, load time, ledger, last error, and the tree written."""
    state = service()
    served = state.current()
    publisher = current_app.extensions.get("icalpub-publisher")
    tree = {"path": str(publisher.out), "version": publisher.version()} if publisher else None
    response = jsonify(
        {
            "status": state.status,
            "events": len(served.publication.registry.events),
            "version": served.version,
            "loaded_at": served.loaded_at.isoformat().replace("+00:00", "Z"),
            "ledger": "behind" if served.ledger_behind else "current",
            "last_error": state.errors,
            "last_error_at": state.error_at.isoformat().replace("+00:00", "Z")
            if state.error_at
            else None,
            "registry": str(state.path),
            "worker": os.getpid(),
            "tree": tree,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
