"""The command line; library errors become messages and exit codes."""

from __future__ import annotations

import datetime as dt
import sys
import time
from importlib import resources
from pathlib import Path
from typing import NoReturn

import click

from . import __version__, collector, ledger, parallel
from .build import Tree, write_file
from .errors import BuildError, Problem, RegistryError
from .publish import publish, size_warnings
from .registry import ledger_path, read_source
from .zones import zone


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="icalpub")
def cli() -> None:
    """Publish an event registry (events.yaml) as calendars and feeds."""


@cli.command()
@click.argument("registry", default="events.yaml", type=click.Path(dir_okay=False))
def validate(registry: str) -> None:
    """Check REGISTRY and print every problem as file:line:col; exit 1 on any error."""
    source = read_source(registry)
    model, problems = source.registry, source.problems
    if model is not None:
        today = dt.datetime.now(dt.UTC).astimezone(zone(model.calendar.timezone)).date()
        problems = sorted(problems + size_warnings(model, source.ledger, today))
    _print_problems(problems)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if model is None:
        click.echo(
            f"{registry}: {_count(errors, 'error')}, {_count(warnings, 'warning')}", err=True
        )
        sys.exit(1)
    days = sorted(event.first_day for event in model.events)
    span = f", {days[0].isoformat()} to {days[-1].isoformat()}" if days else ""
    click.echo(
        f"{registry}: ok, {_count(len(model.events), 'event')} in "
        f"{_count(len(model.topics), 'topic')}{span}; {_count(warnings, 'warning')}"
    )


@cli.command()
@click.argument("registry", default="events.yaml", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    default="feeds",
    show_default=True,
    type=click.Path(),
    help="The folder to write the publication into (replaced as a whole).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--verbose", "-v", is_flag=True, help="Also name every changed and deleted event.")
def build(registry: str, out: str, quiet: bool, verbose: bool) -> None:
    """Write every calendar and feed of REGISTRY into --out, atomically, and update the ledger."""
    with collector.paused():
        _build(registry, out, quiet, verbose)


def _build(registry: str, out: str, quiet: bool, verbose: bool) -> None:
    started = time.perf_counter()
    source = read_source(registry)
    if not quiet or source.registry is None:
        _print_problems(source.problems)
    if source.registry is None:
        errors = sum(p.severity == "error" for p in source.problems)
        _fail(f"build failed: {_count(errors, 'error')} in {registry}; {out}/ is untouched")
    model = source.registry
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = now.astimezone(zone(model.calendar.timezone)).date()
    lock = ledger_path(registry)
    try:
        # Files go to disk (and gzip) on the other core while the rest are rendered.
        with Tree(Path(out)) as tree:
            publication = publish(
                model, source.ledger, now, today, on_file=tree.add, render=parallel.vevents
            )
            tree.commit(publication.files)
        new_ledger = ledger.dumps(publication.reconciled.ledger)
        if not lock.exists() or lock.read_bytes() != new_ledger:
            write_file(lock, new_ledger)
    except (BuildError, OSError) as exc:
        _fail(f"build failed: {exc}; {out}/ is untouched")
    if verbose:
        for event_id in publication.reconciled.changed:
            click.echo(f"changed: {event_id}", err=True)
        for event_id in publication.reconciled.deleted:
            click.echo(f"deleted: {event_id}", err=True)
    if verbose or (not quiet and sys.stderr.isatty()):
        click.echo(
            f"built {out}/: {_count(len(model.events), 'event')}, "
            f"{_count(len(publication.files), 'file')} (+ .gz), "
            f"{_count(len(publication.reconciled.changed), 'change')} in "
            f"{time.perf_counter() - started:.2f} s",
            err=True,
        )


@cli.command()
@click.argument("registry", default="events.yaml", type=click.Path(dir_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(registry: str, host: str, port: int) -> None:
    """Serve REGISTRY's calendars, feeds and pages (development server; see README for gunicorn)."""
    from .web import create_app

    try:
        app = create_app(registry)
    except RegistryError as exc:
        _print_problems(exc.problems)
        _fail(f"not serving: {registry} has errors; fix them and start again")
    click.echo(f"icalpub: serving {registry} on http://{host}:{port}/", err=True)
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@cli.command()
def schema() -> None:
    """Print the registry's JSON Schema (for editors' completion and checking)."""
    click.echo(
        resources.files("icalpub")
        .joinpath("schema/registry.schema.json")
        .read_text(encoding="utf-8"),
        nl=False,
    )


def _print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)


def _fail(message: str) -> NoReturn:
    click.echo(f"icalpub: {message}", err=True)
    sys.exit(1)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def main() -> None:
    """Run the icalpub command line."""
    cli()
