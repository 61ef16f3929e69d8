"""QR codes as inline SVG: an address a phone's camera opens.

segno rather than qrcode: pure Python with no dependencies (qrcode needs
Pillow for anything but its own SVG factories), a compact SVG of one path
that scales with CSS, and the same bytes for the same address (the pages stay
deterministic). Made offline, in the page; no image request, nothing sent to a
QR service.
"""

from __future__ import annotations

import functools

import segno
from markupsafe import Markup, escape


@functools.lru_cache(maxsize=512)
def svg(address: str, label: str) -> Markup:
    """Return an inline `<svg>` QR code of `address`, named `label` for screen readers."""
    code = segno.make(address, error="m", micro=False)
    drawing = code.svg_inline(
        scale=1, border=4, dark="#000", light="#fff", omitsize=True, svgclass="qr"
    )
    named = drawing.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return Markup(named)
