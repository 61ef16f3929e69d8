"""The counts as people read them: a table per calendar or feed, or CSV (SPEC §8). Pure."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Sequence

from .clients import label

Row = tuple[str, str, str, int, int, "int | None"]
CSV_HEADER = ("date", "resource", "client", "subscribers", "requests", "reported")


def to_csv(rows: Sequence[Row]) -> str:
    """Return one CSV row per day, resource and client family, with the SPEC's header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for day, resource, client, subscribers, requests, reported in rows:
        writer.writerow(
            [day, resource, client, subscribers, requests, "" if reported is None else reported]
        )
    return out.getvalue()


def to_table(rows: Sequence[Row], today: dt.date) -> str:
    """Return a table per resource: subscribers today, 7- and 30-day averages, by family."""
    by_resource: dict[str, dict[str, dict[str, tuple[int, int, int | None]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for day, resource, client, subscribers, requests, reported in rows:
        by_resource[resource][client][day] = (subscribers, requests, reported)
    if not by_resource:
        return "No polls counted yet.\n"
    lines: list[str] = []
    for resource in sorted(by_resource):
        families = by_resource[resource]
        lines.append(resource)
        lines.append(f"  {'client':<44} {'today':>7} {'7 days':>8} {'30 days':>8} {'reported':>9}")
        total = [0.0, 0.0, 0.0]
        for family in sorted(families, key=lambda f: -average(families[f], today, 30)):
            days = families[family]
            figures = [
                float(days.get(today.isoformat(), (0, 0, None))[0]),
                average(days, today, 7),
                average(days, today, 30),
            ]
            total = [a + b for a, b in zip(total, figures, strict=True)]
            reported = latest_reported(days)
            lines.append(
                f"  {label(family)[:44]:<44} {figures[0]:>7.0f} {figures[1]:>8.1f} "
                f"{figures[2]:>8.1f} {'' if reported is None else reported:>9}"
            )
        lines.append(f"  {'all':<44} {total[0]:>7.0f} {total[1]:>8.1f} {total[2]:>8.1f}")
        lines.append("")
    return "\n".join(lines)


def average(days: dict[str, tuple[int, int, int | None]], today: dt.date, span: int) -> float:
    """Return the average subscribers a day over the `span` days up to `today`."""
    first = today - dt.timedelta(days=span - 1)
    counted = [
        s for day, (s, _, _) in days.items() if first.isoformat() <= day <= today.isoformat()
    ]
    return sum(counted) / span


def latest_reported(days: dict[str, tuple[int, int, int | None]]) -> int | None:
    """Return the latest count a hosted reader reported, if any."""
    for day in sorted(days, reverse=True):
        if days[day][2] is not None:
            return days[day][2]
    return None
