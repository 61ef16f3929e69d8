"""/healthz: is the service serving what is on disk?"""

from __future__ import annotations

import os

from flask import Blueprint, Response, jsonify

from .state import state

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    """Report status, events, version, load time, ledger, last error, and the tree written."""
    live = state().live
    served = live.current()
    publisher = state().publisher
    tree = {"path": str(publisher.out), "version": publisher.version()} if publisher else None
    response = jsonify(
        {
            "status": live.status,
            "events": len(served.publication.registry.events),
            "version": served.version,
            "loaded_at": served.loaded_at.isoformat().replace("+00:00", "Z"),
            "ledger": "behind" if served.ledger_behind else "current",
            "last_error": live.errors,
            "last_error_at": live.error_at.isoformat().replace("+00:00", "Z")
            if live.error_at
            else None,
            "registry": str(live.path),
            "worker": os.getpid(),
            "tree": tree,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
