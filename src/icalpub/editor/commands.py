"""`icalpub editor …`: add, change and remove the people who may use the web editor."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click

from .. import untracked
from ..settings import Settings
from ..site import editors_path, session_key_path
from . import accounts
from .accounts import AccountError


@click.group()
@click.option(
    "--registry",
    default="events.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The registry whose editors these are (editors.toml goes beside it).",
)
@click.pass_context
def editor(context: click.Context, registry: str) -> None:
    """Manage the web editor's accounts (the file is $ICALPUB_EDITORS or editors.toml)."""
    context.obj = editors_path(registry, Settings.from_environment().editors)


@editor.command()
@click.argument("name")
@click.option("--email", required=True, help="The editor's email (their git author address).")
@click.option(
    "--role",
    type=click.Choice(accounts.ROLES),
    default="publisher",
    show_default=True,
    help="publisher: publishes; author: creates drafts and proposes changes.",
)
@click.pass_obj
def add(path: Path, name: str, email: str, role: str) -> None:
    """Add editor NAME; the password is asked twice (or read as one line from a pipe)."""
    _change(path, lambda a: accounts.add(a, name, email, _password(), role))
    click.echo(f"added {role} {name.lower()} <{email}> to {path.absolute()}", err=True)
    _secrets_note(path)


@editor.command()
@click.argument("name")
@click.argument("role", type=click.Choice(accounts.ROLES))
@click.pass_obj
def role(path: Path, name: str, role: str) -> None:
    """Make NAME a publisher or an author."""
    _change(path, lambda a: accounts.set_role(a, name, role))
    click.echo(f"{name} is now {'a' if role == 'publisher' else 'an'} {role}", err=True)


@editor.command()
@click.argument("name")
@click.pass_obj
def passwd(path: Path, name: str) -> None:
    """Set NAME's password (their open sessions end)."""
    _change(path, lambda a: accounts.set_password(a, name, _password()))
    click.echo(f"password of {name} changed", err=True)


@editor.command()
@click.argument("name")
@click.pass_obj
def remove(path: Path, name: str) -> None:
    """Remove editor NAME (their sessions and API tokens stop working)."""
    _change(path, lambda a: accounts.remove(a, name))
    click.echo(f"removed editor {name}", err=True)


@editor.command("list")
@click.pass_obj
def list_(path: Path) -> None:
    """List the editors: name, email, how they log in, how many API tokens, role."""
    for entry in sorted(_load(path).editors.values(), key=lambda e: e.name):
        login = "password" if entry.password else "proxy only"
        tokens = f"{len(entry.tokens)} token(s)"
        click.echo(f"{entry.name}\t{entry.email}\t{login}\t{tokens}\t{entry.role}")


@editor.command()
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Revoke every API token of NAME instead.")
@click.pass_obj
def token(path: Path, name: str, revoke: bool) -> None:
    """Print a new API token for NAME, once (only its hash is kept); or --revoke them all."""
    found = _load(path)
    try:
        if revoke:
            accounts.save(path, accounts.revoke_tokens(found, name))
            click.echo(f"every API token of {name} is revoked", err=True)
            return
        changed, secret = accounts.new_token(found, name)
    except AccountError as exc:
        _fail(str(exc))
    accounts.save(path, changed)
    click.echo(secret)


def _change(path: Path, change: Callable[[accounts.Accounts], accounts.Accounts]) -> None:
    try:
        accounts.save(path, change(_load(path)))
    except AccountError as exc:
        _fail(str(exc))


def _secrets_note(path: Path) -> None:
    """Say where the secrets are and that git will not offer them (or what to do)."""
    for note in untracked.keep_out_of_git([path, session_key_path(path)]):
        click.echo(note, err=True)


def _load(path: Path) -> accounts.Accounts:
    try:
        return accounts.load(path)
    except AccountError as exc:
        _fail(str(exc))


def _password() -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = click.prompt("Password", hide_input=True)
    second = click.prompt("Password again", hide_input=True)
    if first != second:
        _fail("the two passwords differ; nothing was changed")
    return str(first)


def _fail(message: str) -> NoReturn:
    click.echo(f"icalpub: {message}", err=True)
    sys.exit(1)
