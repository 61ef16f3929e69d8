"""Which calendar a visitor most likely uses, from the User-Agent: the subscribe page leads with it.

Only an order, never a choice: every client's way stays on the page. Pure.
"""

from __future__ import annotations

import re

CLIENTS = ("google", "outlook", "apple", "other")  # the subscribe page's sections
# Platform → the clients in the order its people most likely use them.
ORDER = {
    "ios": ("apple", "google", "outlook", "other"),
    "macos": ("apple", "google", "outlook", "other"),
    "android": ("google", "outlook", "apple", "other"),
    "chromeos": ("google", "outlook", "apple", "other"),
    "windows": ("outlook", "google", "apple", "other"),
    "other": ("google", "outlook", "apple", "other"),
}
# The platforms whose calendar opens `webcal://` links itself. New Outlook for
# Windows strips the scheme and Android has no handler: there the link fails.
WEBCAL = frozenset(("ios", "macos", "other"))

_RULES = (
    (re.compile(r"iPhone|iPad|iPod"), "ios"),
    (re.compile(r"Android"), "android"),
    (re.compile(r"CrOS"), "chromeos"),
    (re.compile(r"Macintosh|Mac OS X"), "macos"),
    (re.compile(r"Windows"), "windows"),
)


def platform(user_agent: str) -> str:
    """Return 'ios', 'android', 'chromeos', 'macos', 'windows' or 'other'."""
    for pattern, name in _RULES:
        if pattern.search(user_agent):
            return name
    return "other"


def clients_for(user_agent: str) -> tuple[str, ...]:
    """Return the subscribe page's client sections, the visitor's likely one first."""
    return ORDER[platform(user_agent)]
