"""The security headers of every HTML response: one place, for the pages and the editor."""

from __future__ import annotations

from flask import Response

# No inline script or style anywhere: scripts and styles come from /static only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def secure(response: Response) -> Response:
    """Add the security headers an HTML page carries; return the same response."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


def framed_by(sources: list[str]) -> str:
    """Return the pages' policy with `frame-ancestors` naming `sources` (the widget's)."""
    return CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", "frame-ancestors " + " ".join(sources)
    )
