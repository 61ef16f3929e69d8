"""Write the nginx configuration that serves a static build at the SPEC's URLs.

The paths come from `urls` and the caching time from `calendar.refresh`, so
the configuration cannot drift from what the build writes and the service
sends: `icalpub nginx-config` prints it, `deploy/nginx.conf` is its output for
the shipped registry (a test keeps them equal).
"""

from __future__ import annotations

import re
from importlib import resources

import jinja2

from .. import urls
from ..model import Calendar


def render(calendar: Calendar, *, root: str, listen: str, proxy: str | None = None) -> str:
    """Return a complete nginx.conf serving the build in `root` on `listen`.

    With `proxy` (the service's address), everything that is not a file of
    the tree goes to the service: the one production stack.
    """
    environment = jinja2.Environment(
        autoescape=False,  # nginx syntax, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    template = environment.from_string(
        resources.files(__package__).joinpath("nginx.conf.j2").read_text("utf-8")
    )
    return template.render(
        root=root,
        listen=listen,
        proxy=proxy,
        max_age=calendar.max_age,
        refresh=calendar.refresh,
        whole="|".join(urls.whole_names()),
        folders="|".join(urls.FOLDERS),
        formats="|".join(urls.FORMATS),
        id=urls.ID,
        languages="|".join(re.escape(x) for x in calendar.published_languages[1:]),
    )
