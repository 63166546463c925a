"""``shopmon users``: who may sign in to the case board, and with which role."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from monitor.cli.context import ready_settings


def _read_password(from_stdin: bool) -> str:
    """From stdin (one line, for scripts) or an interactive prompt asked twice; never an argument,
    which would land in shell history and the process list."""
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


app = typer.Typer(name="users", help="Board users: add, list, disable, reset a password.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name; shown as the actor in case histories.")],
    role: Annotated[str, typer.Option("--role", help="staff, supervisor, analyst or admin.")] = "staff",
    language: Annotated[Optional[str], typer.Option("--language", help="en or zh (default: alerts.language).")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Create a user; the password is asked for (or read from stdin) and stored as an argon2 hash."""
    from monitor.accounts import add_user
    from monitor.db import session_scope

    settings = ready_settings(ctx)
    password = _read_password(password_stdin)
    with session_scope(settings) as session:
        user = add_user(session, name, password, role=role, language=language)
        typer.echo(f"added {user.name} ({user.role})")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List users with role, language and whether they are disabled."""
    from monitor.accounts import list_users
    from monitor.db import session_scope

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        users = list_users(session)
        if not users:
            typer.echo("no users yet: add one with `shopmon users add NAME --role admin`")
        for u in users:
            state = "disabled" if u.disabled else "active"
            typer.echo(f"{u.name:<24} {u.role:<11} {u.language or '-':<3} {state}")


@app.command("disable")
def disable(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again instead.")] = False,
) -> None:
    """Disable a user: sign-in refused and every open session of theirs ends now."""
    from monitor.accounts import set_disabled
    from monitor.db import session_scope

    settings = ready_settings(ctx)
    with session_scope(settings) as session:
        user = set_disabled(session, name, not enable)
        typer.echo(f"{user.name} is {'disabled' if user.disabled else 'enabled'}")


@app.command("reset")
def reset(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Set a new password; the user's open sessions end."""
    from monitor.accounts import reset_password
    from monitor.db import session_scope

    settings = ready_settings(ctx)
    password = _read_password(password_stdin)
    with session_scope(settings) as session:
        user = reset_password(session, name, password)
        typer.echo(f"password of {user.name} changed; their sessions ended")
