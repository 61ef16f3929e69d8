"""/healthz: is the service serving what is on disk?"""

from __future__ import annotations

import os

from flask import Blueprint, Response, jsonify

from .respond import service

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    """Report status, event count, publication version, load time, ledger state, last error."""
    state = service()
    served = state.current()
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
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
