"""Which language a request is answered in, how pages link their languages; gettext for Jinja.

Public pages and files take their language from the address: the default at
the top, every other language of the registry under `/<lang>/` (the
blueprints registered a second time there, as `pages_lang` and
`feeds_lang`). `?lang=` on a page redirects to its canonical address, and
only `/` reads Accept-Language. The editor's pages, which nobody links to or
caches, follow ?lang= and Accept-Language for their interface.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, g, redirect, request, url_for
from markupsafe import Markup, escape
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response as WerkzeugResponse

from .. import languages
from ..i18n import LANGUAGES, translations
from ..model import Calendar, Event, Registry
from ..urls import LANGUAGE
from .respond import service

PAGES = ("pages", "pages_lang")  # the pages' blueprint at the top and under /<lang>/
FILES = ("feeds", "feeds_lang", "health")  # their language is their prefix
REDIRECT_MAX_AGE = 300  # as long as a page may be cached


class Code(BaseConverter):
    """A language tag as a path segment (`en`, `en-GB`); `edit` or `topics` never match."""

    regex = LANGUAGE


def install(app: Flask) -> None:
    """Route `/<lang>/…`, give templates `_()` in the request's language.

    Call before the blueprints are registered (their `/<lang>` rules need the
    converter), and `choose_for` after.
    """
    app.url_map.converters["language"] = Code
    app.context_processor(_context)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True
    )


def gettext(message: str) -> str:
    """Translate `message` into the request's language."""
    return translations(g.get("lang", "en")).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate with a plural form in the request's language."""
    return translations(g.get("lang", "en")).ngettext(singular, plural, n)


def link(endpoint: str, **values: Any) -> str:
    """Return a URL for a page or file `endpoint` in the page's language (under its prefix)."""
    view: Registry | None = g.get("view")
    other = view is not None and g.get("lang") in view.calendar.published_languages[1:]
    blueprint, _, name = endpoint.partition(".")
    if other and blueprint in ("pages", "feeds"):
        return url_for(f"{blueprint}_lang.{name}", lang=g.lang, **values)
    if g.get("lang_explicit") and "lang" not in values:
        values["lang"] = g.lang
    return url_for(endpoint, **values)


def for_unknown_address() -> None:
    """Set the language of a page that is not found: its prefix's, else the default."""
    served = service().current()
    g.served = served
    calendar = served.publication.registry.calendar
    first = request.path.strip("/").split("/", 1)[0]
    g.lang = first if first in calendar.published_languages else calendar.default_language
    g.view = served.publication.view(g.lang)


def prefixed() -> str | None:
    """Return the language the address names by its prefix (None: no prefix)."""
    found: str | None = g.get("prefixed")
    return found


def fallback(item: Event | Calendar, field: str) -> Markup:
    """Return ` lang="lv"` when `item`'s `field` shows in the default language, else nothing."""
    if field not in item.fallback:
        return Markup("")
    return Markup(' lang="{}"').format(g.view.calendar.default_language)


def shown(item: Event | Calendar, field: str) -> Markup:
    """Return `item`'s text `field` escaped, in a span marking its language if it fell back."""
    mark = fallback(item, field)
    text = getattr(item, field) or ""
    return Markup("<span{}>{}</span>").format(mark, text) if mark else escape(text)


def choose_for(app: Flask) -> None:
    """Choose the language of each request to a page blueprint (pages, the editor).

    Not for calendars and feeds: their language is their prefix, and the
    polling path stays as short as it can be. First among each blueprint's
    hooks: the editor's login check already speaks the language.
    """
    for name in ("pages_lang", "feeds_lang"):
        app.url_value_preprocessors.setdefault(name, []).append(_take_prefix)
    for name in app.blueprints:
        if name not in FILES:
            app.before_request_funcs.setdefault(name, []).insert(0, _choose)


# -- choosing ----------------------------------------------------------------------


def _take_prefix(endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.prefixed = values.pop("lang", None) if values else None


def _choose() -> WerkzeugResponse | None:
    served = service().current()
    g.served = served
    calendar = served.publication.registry.calendar
    if request.blueprint in PAGES:
        answer = _page_language(calendar)
        if answer is not None:
            return answer
    else:  # the editor
        g.lang, g.lang_explicit = _interface_language(calendar.language)
    seen = g.lang if g.lang in calendar.published_languages else calendar.default_language
    g.view = served.publication.view(seen)
    return None


def _page_language(calendar: Calendar) -> WerkzeugResponse | None:
    """Set the page's language from its address; redirect to the canonical one if need be."""
    published = calendar.published_languages
    asked = prefixed()
    if asked is not None and asked not in published[1:]:
        g.lang = published[0]
        if asked != published[0]:
            abort(404)
        return _redirect(_address(published[0]), 301)  # /lv/… is the default's address
    g.lang = asked or published[0]
    if "lang" in request.args:
        wanted = request.args["lang"]
        return _redirect(_address(wanted if wanted in published else g.lang), 301)
    if request.endpoint == "pages.index" and len(published) > 1:
        g.negotiated = True  # the one address whose answer depends on Accept-Language
        best = request.accept_languages.best_match(published, default=published[0])
        if best and best != published[0]:
            answer = _redirect(_address(best), 302)
            answer.headers["Vary"] = "Accept-Language"
            return answer
    return None


def _interface_language(default: str) -> tuple[str, bool]:
    """Return the editor's language and whether the URL chose it explicitly."""
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked, True
    best = request.accept_languages.best_match(LANGUAGES)
    if best:
        return best, False
    primary = default.split("-")[0].lower()
    return (primary if primary in LANGUAGES else "en"), False


# -- linking -----------------------------------------------------------------------


def _context() -> dict[str, Any]:
    view: Registry | None = g.get("view")
    if view is None:
        return {}
    calendar = view.calendar
    context: dict[str, Any] = {
        "calendar": calendar,
        "lang": g.get("lang", "en"),
        "link": link,
        "shown": shown,
        "fallback": fallback,
        # Texts that have no translations (contact names) are in the default language.
        "untranslated": Markup(' lang="{}"').format(calendar.default_language)
        if calendar.language != calendar.default_language
        else "",
    }
    if request.blueprint in PAGES:
        context["alternates"] = [
            (other, calendar.base_url + _address(other).lstrip("/"))
            for other in calendar.published_languages
        ]
        # The switch keeps the reader on the same page; from `/en/` to the
        # default it goes to this month's page, which `/` would negotiate away.
        index = (request.endpoint or "").endswith(".index")
        context["switches"] = [
            (other, languages.name(other), _address(other, this_month=index))
            for other in calendar.published_languages
            if other != g.lang
        ]
    else:  # the editor: its interface language, by ?lang=
        context["switches"] = [
            (other, languages.name(other), request.path + "?" + _query(lang=other))
            for other in LANGUAGES
            if other != g.get("lang")
        ]
    return context


def _address(chosen: str, this_month: bool = False) -> str:
    """Return this page's address in language `chosen`, its query kept but for ?lang=.

    With `this_month`, the default language's address of `/…` is this
    month's page (`/` itself would send an English browser back).
    """
    default = g.served.publication.registry.calendar.default_language
    name = (request.endpoint or "pages.index").split(".", 1)[1]
    values = dict(request.view_args or {})
    if this_month and chosen == default:
        today = service().today()
        name, values = "month_page", {"year": today.year, "month_number": today.month}
    if chosen == default:
        target = url_for(f"pages.{name}", **values)
    else:
        target = url_for(f"pages_lang.{name}", lang=chosen, **values)
    query = _query()
    return target + ("?" + query if query else "")


def _query(**extra: str) -> str:
    """Return the request's query without ?lang=, with `extra` parameters added."""
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return urlencode([*kept, *extra.items()])


def _redirect(target: str, code: int) -> WerkzeugResponse:
    answer = redirect(target, code=code)
    answer.headers["Cache-Control"] = f"public, max-age={REDIRECT_MAX_AGE}"
    return answer
