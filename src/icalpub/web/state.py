"""What the service's views share, handed to `create_app` by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app

from ..live import Live
from ..publisher import Publisher
from ..stats.counter import Counter
from ..stats.store import Counts
from . import forwarded


@dataclass
class AppState:
    """The live publication, its publisher, the subscriber counts and whom they trust."""

    live: Live
    publisher: Publisher | None
    counter: Counter | None  # None: counting is off
    counts: Counts  # read by the editor's subscribers page, also when counting is off
    trusted_proxies: tuple[str, ...] = ()  # the setting; editors.toml's [proxy] trusted adds
    embed_ancestors: str = ""  # the sites that may frame /embed/ (CSP sources)
    editors: Path | None = None  # the editors file, whose [proxy] trusted is trusted too
    trust: forwarded.Trust = field(init=False)

    def __post_init__(self) -> None:
        self.trust = forwarded.Trust(self.editors, self.trusted_proxies)

    def count_poll(
        self, resource: str, remote: str, forwarded_for: str, user_agent: str
    ) -> Callable[[], None] | None:
        """Count one poll of `resource`; return the write to run after the answer, if due."""
        counter = self.counter
        if counter is None:
            return None
        address = forwarded.address_of(remote, forwarded_for, self.counted_proxy)
        counter.count(resource, address, user_agent)
        return counter.flush if counter.due() else None

    def counted_proxy(self, address: str | None) -> bool:
        """Return whether `address` is a proxy whose X-Forwarded-For the counts believe: the
        one list the editor and gunicorn believe too (`forwarded.Trust`)."""
        return self.trust(address)


KEY = "icalpub"


def of(app: Flask) -> AppState:
    """Return the state of `app`."""
    found: AppState = app.extensions[KEY]
    return found


def state() -> AppState:
    """Return the state of the app handling the current request."""
    return of(current_app)
