"""The command line; library errors become messages and exit codes."""

from __future__ import annotations

import sys
from importlib import resources

import click

from . import __version__
from .errors import Problem
from .registry import read_source


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


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def main() -> None:
    """Run the icalpub command line."""
    cli()
