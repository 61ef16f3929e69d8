"""The editor's "Subscribers" page: the counts' table, pictures and CSV, behind the login."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, render_template, request

from ..stats import report
from ..stats.clients import label
from ..web.state import state as app_state
from .guard import login_required, protect
from .parts import today as today_of
from .setup import editing

blueprint = protect(Blueprint("subscribers", __name__, url_prefix="/edit/subscribers"))


@blueprint.get("/")
@login_required
def page() -> str:
    """The last N days' counts per calendar and feed."""
    days, today, rows = _rows()
    table: list[tuple[str, list[tuple[str, int, float, float, int | None]]]] = []
    for resource in sorted({row[1] for row in rows}):
        mine = [row for row in rows if row[1] == resource]
        figures = []
        for client in sorted({row[2] for row in mine}):
            by_day = {r[0]: (r[3], r[4], r[5]) for r in mine if r[2] == client}
            figures.append(
                (
                    client,
                    by_day.get(today.isoformat(), (0, 0, None))[0],
                    report.average(by_day, today, 7),
                    report.average(by_day, today, 30),
                    report.latest_reported(by_day),
                )
            )
        table.append((resource, figures))
    enabled = app_state().counter is not None
    return render_template(
        "editor/subscribers.html", table=table, days=days, enabled=enabled, label=label
    )


@blueprint.get("/plot.svg")
@login_required
def plot() -> Response:
    """The counts drawn, as SVG (server-rendered: no script)."""
    from ..stats.plot import draw

    _, _, rows = _rows()
    return Response(draw(rows, "svg"), content_type="image/svg+xml")


@blueprint.get("/counts.csv")
@login_required
def csv() -> Response:
    """The counts as CSV: one row per day, resource and client."""
    days, _, rows = _rows()
    return Response(
        report.to_csv(rows),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="subscribers-{days}-days.csv"'},
    )


def _rows() -> tuple[int, dt.date, list[report.Row]]:
    try:
        days = max(1, min(int(request.args.get("days", "90")), 3660))
    except ValueError:
        days = 90
    state = editing().store().state()
    today = today_of(state)
    since = (today - dt.timedelta(days=days - 1)).isoformat()
    return days, today, app_state().counts.rows(since)
