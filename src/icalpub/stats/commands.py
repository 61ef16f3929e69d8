"""`icalpub stats …`: the subscriber counts report, and counting from nginx logs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

# Each command imports what it uses when it runs: `icalpub --help` imports this module.


@click.group()
def stats() -> None:
    """Subscriber counts per calendar and feed (stored in $ICALPUB_STATE_DIR)."""


@stats.command("report")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 3660))
@click.option("--csv", "as_csv", is_flag=True, help="One row per day, resource and client.")
@click.option("--registry", default="events.yaml", show_default=True, type=click.Path())
@click.option(
    "--plot",
    "plot_to",
    default=None,
    type=click.Path(dir_okay=False),
    help="Also draw the counts into FILE.svg or FILE.png.",
)
def report_command(days: int, as_csv: bool, registry: str, plot_to: str | None) -> None:
    """Print the counts of the last DAYS days: a table per calendar/feed, or CSV."""
    from ..settings import Settings
    from ..zones import today_in
    from . import report
    from .store import for_settings

    today = today_in(_zone(registry))
    since = (today - dt.timedelta(days=days - 1)).isoformat()
    rows = for_settings(Settings.from_environment()).rows(since)
    click.echo(report.to_csv(rows) if as_csv else report.to_table(rows, today), nl=False)
    if plot_to:
        from .plot import draw

        fmt = Path(plot_to).suffix.lstrip(".").lower()
        if fmt not in ("svg", "png"):
            raise click.BadParameter("the plot must be a .svg or .png file", param_hint="--plot")
        Path(plot_to).write_bytes(draw(rows, fmt))


@stats.command("ingest")
@click.argument("logs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--registry", default="events.yaml", show_default=True, type=click.Path())
def ingest_command(logs: tuple[str, ...], registry: str) -> None:
    """Count the calendar and feed polls in nginx access LOGS (plain or .gz), each line once."""
    from ..settings import Settings
    from .ingest import ingest as ingest_log
    from .store import for_settings

    store = for_settings(Settings.from_environment())
    zone = _zone(registry)
    for log in logs:
        read, counted = ingest_log(store, Path(log), zone)
        click.echo(f"{log}: {read} new lines, {counted} polls counted", err=True)


def _zone(registry: str) -> str:
    """Return the calendar's zone (days are its days), UTC without a readable registry."""
    from ..reader import read_source

    source = read_source(registry)
    return source.registry.calendar.timezone if source.registry else "UTC"
