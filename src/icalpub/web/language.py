"""Which language a request is answered in, and gettext for Jinja.

Public pages and feeds take their language from the address: the default at
the top, every other language of the registry under `/<lang>/`. The editor's
pages, which nobody links to or caches, still follow ?lang= and
Accept-Language.
"""

from __future__ import annotations

from flask import Flask, g, request
from werkzeug.routing import BaseConverter

from ..i18n import LANGUAGES, translations
from ..urls import LANGUAGE


class Code(BaseConverter):
    """A language tag as a path segment (`en`, `en-GB`); `edit` or `topics` never match."""

    regex = LANGUAGE


def choose(default: str) -> tuple[str, bool]:
    """Return the editor's language for this request and whether the URL chose it explicitly."""
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked, True
    best = request.accept_languages.best_match(LANGUAGES)
    if best:
        return best, False
    primary = default.split("-")[0].lower()
    return (primary if primary in LANGUAGES else "en"), False


def negotiate(languages: tuple[str, ...]) -> str:
    """Return the registry language the client's Accept-Language prefers, the default if none."""
    return request.accept_languages.best_match(languages, default=languages[0]) or languages[0]


def gettext(message: str) -> str:
    """Translate `message` into the request's language."""
    return translations(g.get("lang", "en")).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate with a plural form in the request's language."""
    return translations(g.get("lang", "en")).ngettext(singular, plural, n)


def install(app: Flask) -> None:
    """Give the app's templates `_()` in the request's language (Jinja's i18n extension)."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True
    )
