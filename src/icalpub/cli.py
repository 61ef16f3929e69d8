"""The command line; library errors become messages and exit codes."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from typing import ClassVar, NoReturn

import click

# Each command imports what it uses, when it runs: `--help` and `validate` start at once.
from . import __version__
from .errors import BuildError, LedgerPendingError, Problem, RegistryError, SettingError


def _editor() -> click.Command:
    from .editor.commands import editor

    return editor


def _stats() -> click.Command:
    from .stats.commands import stats

    return stats


class _LazyGroup(click.Group):
    """A group whose larger command groups are imported only when one of them runs.

    Click's documented pattern for lazily loaded subcommands: `get_command`
    imports the module. The listing of `--help` shows each one's help from
    `LAZY` instead (a test checks it is the group's own).
    """

    # name → (what imports the group, the group's short help as its docstring gives it)
    LAZY: ClassVar[dict[str, tuple[Callable[[], click.Command], str]]] = {
        "editor": (
            _editor,
            "Manage the web editor's accounts (the file is $ICALPUB_EDITORS or editors.toml).",
        ),
        "stats": (
            _stats,
            "Subscriber counts per calendar and feed (stored in $ICALPUB_STATE_DIR).",
        ),
    }
    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.LAZY:
            return super().get_command(ctx, cmd_name)
        load, short_help = self.LAZY[cmd_name]
        if self._listing:
            return click.Command(cmd_name, help=short_help)
        return load()

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="icalpub")
def cli() -> None:
    """Publish an event registry (events.yaml) as calendars and feeds."""


@cli.command()
@click.argument("registry", default="events.yaml", type=click.Path(dir_okay=False))
def validate(registry: str) -> None:
    """Check REGISTRY and print every problem as file:line:col; exit 1 on any error."""
    from . import languages
    from .reader import read_source
    from .sizes import size_warnings
    from .zones import today_in

    source = read_source(registry)
    model, problems = source.registry, source.problems
    if model is not None:
        today = today_in(model.calendar.timezone)
        problems += size_warnings(model, source.ledger, today) + languages.missing(model)
        problems = sorted(problems)
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
    from . import parallel
    from .build import build_folder

    started = time.perf_counter()
    try:
        built = build_folder(registry, out, dt.datetime.now(dt.UTC), render=parallel.vevents)
    except RegistryError as exc:
        _print_problems(exc.problems)
        errors = sum(p.severity == "error" for p in exc.problems)
        _fail(f"build failed: {_count(errors, 'error')} in {registry}; {out}/ is untouched")
    except LedgerPendingError as exc:
        _fail(f"build incomplete: {exc}")
    except BuildError as exc:
        _fail(f"build failed: {exc}; {out}/ and the ledger are untouched")
    if not quiet:
        _print_problems(built.problems)
    publication = built.publication
    if verbose:
        for event_id in publication.reconciled.changed:
            click.echo(f"changed: {event_id}", err=True)
        for event_id in publication.reconciled.deleted:
            click.echo(f"deleted: {event_id}", err=True)
    if verbose or (not quiet and sys.stderr.isatty()):
        click.echo(
            f"built {out}/: {_count(len(built.registry.events), 'event')}, "
            f"{_count(built.files, 'file')} (+ .gz), "
            f"{_count(len(publication.reconciled.changed), 'change')} in "
            f"{time.perf_counter() - started:.2f} s",
            err=True,
        )


@cli.command()
@click.argument("registry", default="events.yaml", type=click.Path(dir_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="gunicorn worker processes (default: $ICALPUB_WORKERS, else 2).",
)
@click.option(
    "--publish",
    "publish",
    default=None,
    type=click.Path(file_okay=False),
    help="Write the static tree here at each new version ($ICALPUB_PUBLISH_DIR).",
)
@click.option("--push", is_flag=True, help="Push each editor commit to the git upstream.")
@click.option("--dev", is_flag=True, help="Werkzeug's development server with its reloader.")
def serve(
    registry: str,
    host: str,
    port: int,
    workers: int | None,
    publish: str | None,
    push: bool,
    dev: bool,
) -> None:
    """Serve REGISTRY's calendars, feeds, pages (and the editor) with gunicorn."""
    from pathlib import Path

    from .reader import read_source
    from .settings import Settings

    source = read_source(registry)
    if source.registry is None:
        _print_problems(source.problems)
        _fail(f"not serving: {registry} has errors; fix them and start again")
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        settings = Settings.from_environment(
            registry=Path(registry),
            bind=bind,
            workers=workers,
            publish_dir=Path(publish).absolute() if publish else None,
            git_push=push or None,
        )
    except SettingError as exc:
        _fail(str(exc))
    if dev:
        from .service import create_service

        click.echo(f"icalpub: serving {registry} on http://{host}:{port}/ (development)", err=True)
        create_service(settings).run(host=host, port=port, threaded=True, use_reloader=True)
        return
    from .deployment import gunicorn

    click.echo(f"icalpub: serving {registry} on http://{bind}/ with gunicorn", err=True)
    gunicorn.run(settings)


@cli.command("nginx-config")
@click.argument("registry", default="events.yaml", type=click.Path(dir_okay=False))
@click.option("--root", default="/srv/icalpub/feeds", show_default=True, help="The build's folder.")
@click.option("--listen", default="8080", show_default=True, help="nginx's `listen` address.")
@click.option(
    "--proxy", default=None, help="The service's address (host:port): pass all but files to it."
)
def nginx_config(registry: str, root: str, listen: str, proxy: str | None) -> None:
    """Print an nginx.conf serving REGISTRY's static build, its caching from `refresh`.

    With --proxy, the whole stack: files from the tree, the rest from the service.
    """
    from .deployment import nginx
    from .reader import load

    try:
        model = load(registry)
    except RegistryError as exc:
        _print_problems(exc.problems)
        _fail(f"{registry} has errors; fix them first")
    click.echo(nginx.render(model.calendar, root=root, listen=listen, proxy=proxy), nl=False)


@cli.command()
@click.argument("registry", default="events.yaml", type=click.Path(dir_okay=False))
@click.option("--wait", default=60.0, show_default=True, help="Seconds to wait for a save.")
def pull(registry: str, wait: float) -> None:
    """`git pull --ff-only` in REGISTRY's work tree, holding the editor's lock.

    The web editor never saves over what the pull brings, nor the pull over a
    save half-made; the service loads the pulled file by itself. Other tools
    take the same lock with `flock` (see docs/editing.md).
    """
    import subprocess
    from pathlib import Path

    from .files import LockTimeout
    from .untracked import writers_lock

    path = Path(registry)
    try:
        with writers_lock(path, timeout=wait):
            done = subprocess.run(
                ["git", "pull", "--ff-only"], cwd=path.parent, capture_output=True, text=True
            )
    except LockTimeout:
        _fail(f"{registry} was being saved for more than {wait:g} s; nothing was pulled")
    except OSError as exc:
        _fail(f"cannot run git: {exc}")
    click.echo(done.stdout, nl=False)
    click.echo(done.stderr, nl=False, err=True)
    if done.returncode:
        _fail("git pull failed; nothing was changed by icalpub")


@cli.command()
def schema() -> None:
    """Print the registry's JSON Schema (for editors' completion and checking)."""
    from importlib import resources

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
    try:
        cli()
    except SettingError as exc:  # a command that read the settings (editor, stats)
        _fail(str(exc))
