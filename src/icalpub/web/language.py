"""The page language: ?lang=, then Accept-Language, then calendar.language; gettext for Jinja."""

from __future__ import annotations

from flask import Flask, g, request

from ..i18n import LANGUAGES, translations


def choose(default: str) -> tuple[str, bool]:
    """Return the language for this request and whether the URL chose it explicitly."""
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked, True
    best = request.accept_languages.best_match(LANGUAGES)
    if best:
        return best, False
    primary = default.split("-")[0].lower()
    return (primary if primary in LANGUAGES else "en"), False


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
