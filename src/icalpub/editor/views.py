"""The editor's pages, by job: `login_page`, `list_page`, `event_pages`, `history_pages`
(on the `editor` blueprint of `pages`) and `settings_pages` (its own blueprint).

Every page is `no-store`, carries the strict CSP (no inline script) and works
without JavaScript; every form has a CSRF token (`guard`). Importing this
module hangs every page on its blueprint; `blueprints` are what to register.
"""

from __future__ import annotations

from . import event_pages, history_pages, list_page, login_page, proposal_pages, settings_pages
from .pages import blueprint

blueprints = (blueprint, settings_pages.blueprint)

__all__ = [
    "blueprints",
    "event_pages",
    "history_pages",
    "list_page",
    "login_page",
    "proposal_pages",
]
