"""IANA time zones: which names are valid, which mean UTC, and local-time resolution."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from importlib import resources

from .errors import LocalTimeError

_UTC_NAMES = frozenset(
    {
        "UTC",
        "UCT",
        "GMT",
        "GMT0",
        "Zulu",
        "Universal",
        "Greenwich",
        "Etc/UTC",
        "Etc/UCT",
        "Etc/GMT",
        "Etc/GMT0",
        "Etc/GMT+0",
        "Etc/GMT-0",
        "Etc/Zulu",
        "Etc/Universal",
        "Etc/Greenwich",
        "GMT+0",
        "GMT-0",
    }
)


@functools.cache
def known_zones() -> frozenset[str]:
    """Return every IANA zone name of the `tzdata` package."""
    return frozenset(resources.files("tzdata").joinpath("zones").read_text("ascii").split())


def is_zone(name: str) -> bool:
    """Return whether `name` is an IANA time zone name."""
    return name in known_zones()


def is_fixed(name: str) -> bool:
    """Return whether times in zone `name` are published in UTC (`Z`), never as a TZID.

    UTC and its aliases, and the fixed-offset `Etc/` zones: Google Calendar
    rejects TZID=UTC and TZID=Etc/..., so those events are written in UTC.
    """
    return name in _UTC_NAMES or name.startswith("Etc/")


@functools.cache
def zone(name: str) -> zoneinfo.ZoneInfo:
    """Return the tzinfo for an IANA name from the `tzdata` package (cached).

    Always the package's data, never the machine's /usr/share/zoneinfo: the
    VTIMEZONEs written from it must be the same bytes on every machine.
    """
    if name not in known_zones():
        raise zoneinfo.ZoneInfoNotFoundError(name)
    path = resources.files("tzdata.zoneinfo").joinpath(*name.split("/"))
    with path.open("rb") as handle:
        return zoneinfo.ZoneInfo.from_file(handle, key=name)


def localize(wall: dt.datetime, name: str) -> dt.datetime:
    """Return naive `wall` as an aware datetime in `name`, refusing DST gaps and overlaps."""
    tz = zone(name)
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    round_trip = first.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != wall:
        raise LocalTimeError(
            f"{wall:%Y-%m-%d %H:%M} does not exist in {name} (the clocks skip it "
            "when daylight saving time starts)"
        )
    raise LocalTimeError(
        f"{wall:%Y-%m-%d %H:%M} happens twice in {name} (the clocks go back); "
        f"write it with an offset, e.g. {wall:%Y-%m-%dT%H:%M}{_offset(first)} "
        f"or {wall:%Y-%m-%dT%H:%M}{_offset(second)}"
    )


def _offset(value: dt.datetime) -> str:
    seconds = int((value.utcoffset() or dt.timedelta()).total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def today_in(name: str, now: dt.datetime | None = None) -> dt.date:
    """Return the date on the clocks of zone `name` at `now` (default: this moment)."""
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    return moment.astimezone(zone(name)).date()
