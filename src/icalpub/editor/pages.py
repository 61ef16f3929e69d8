"""The blueprint the editor's pages (but the settings) hang on, guarded (see `guard`)."""

from __future__ import annotations

from flask import Blueprint

from .guard import protect

blueprint = protect(Blueprint("editor", __name__, url_prefix="/edit", template_folder="templates"))
