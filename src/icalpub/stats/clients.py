"""Which kind of client a User-Agent is: families from `clients.json`, counts readers report.

The data file, not code, holds the families, so that a new client is one
line; `tests/data/user-agents.tsv` is a corpus of real User-Agent strings
with the family each must get.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources

# The most subscribers a reader may report: larger claims are ignored (no feed has a
# billion readers, and SQLite's integers end at 2**63).
MAX_REPORTED = 10**9


@dataclass(frozen=True)
class Family:
    """A kind of client, as the report shows it."""

    family: str  # short lowercase name: the CSV's `client`
    label: str
    patterns: tuple[str, ...]
    reported: re.Pattern[str] | None = None
    server_side: bool = False


@dataclass(frozen=True)
class Client:
    """One User-Agent classified: its family and the subscriber count it reports, if any."""

    family: str
    reported: int | None = None


@functools.cache
def families() -> tuple[tuple[Family, ...], Family]:
    """Return the families in matching order, and the family of everything else."""
    data = json.loads(resources.files(__package__).joinpath("clients.json").read_text("utf-8"))
    found = tuple(
        Family(
            family=entry["family"],
            label=entry["label"],
            patterns=tuple(p.lower() for p in entry["patterns"]),
            reported=re.compile(entry["reported"], re.IGNORECASE) if "reported" in entry else None,
            server_side=bool(entry.get("server_side", False)),
        )
        for entry in data["families"]
    )
    other = Family(data["other"]["family"], data["other"]["label"], ())
    return found, other


@functools.lru_cache(maxsize=4096)
def classify(user_agent: str) -> Client:
    """Return the client family of a User-Agent, with the count a hosted reader reports."""
    lowered = user_agent.lower()
    known, other = families()
    for family in known:
        if any(pattern in lowered for pattern in family.patterns):
            count = None
            if family.reported is not None:
                match = family.reported.search(user_agent)
                count = _bounded(match.group(1)) if match else None
            return Client(family.family, count)
    return Client(other.family)


def _bounded(digits: str) -> int | None:
    """Return a reported count, or None when it is larger than any real one."""
    if len(digits) > len(str(MAX_REPORTED)):  # before int(): 5,000 digits would raise
        return None
    count = int(digits)
    return count if count <= MAX_REPORTED else None


def label(family: str) -> str:
    """Return how the report names a family."""
    known, other = families()
    return next((f.label for f in known if f.family == family), other.label)
