"""The framework's floor: a bare Flask app answering from bytes held in memory.

It answers a fixed ETag with 304 and otherwise returns the same bytes (plain
or precompressed gzip) that icalpub served for each path, recorded in the JSON
file named by $FLOOR_RESPONSES. No registry, no logic: what Flask under the
same gunicorn settings costs per request.
"""

from __future__ import annotations

import base64
import json
import os

from flask import Flask, Response, request

app = Flask(__name__)
with open(os.environ["FLOOR_RESPONSES"], encoding="utf-8") as handle:
    RESPONSES = {
        path: (base64.b64decode(r["plain"]), base64.b64decode(r["gzip"]), r["etag"], r["type"])
        for path, r in json.load(handle).items()
    }


@app.route("/<path:path>")
def serve(path: str) -> Response:
    """Answer from memory."""
    key = request.full_path.rstrip("?")
    plain, gzipped, etag, content_type = RESPONSES[key]
    if request.headers.get("If-None-Match") == etag:
        return Response(status=304, headers={"ETag": etag})
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        return Response(
            gzipped,
            content_type=content_type,
            headers={"ETag": etag, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )
    return Response(
        plain, content_type=content_type, headers={"ETag": etag, "Vary": "Accept-Encoding"}
    )
