"""`pro admin create`: the first admin of an empty server (or another one), from a shell.

The password is read from the terminal (asked twice, not echoed) or, when standard input is
not a terminal, from its first line; never from an argument, where it would sit in the
shell's history and the process list.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from pro_server.context import Actor
from pro_server.errors import DomainError

admin_cli = AppGroup("admin", help="Staff accounts from the command line.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@admin_cli.command("create")
@click.option("--email", required=True, help="The admin's email, used to sign in.")
@click.option("--name", required=True, help="The admin's full name (shown in the audit trail).")
def admin_create_command(email: str, name: str) -> None:
    """Create an admin; the password comes from a prompt or stdin and must be changed at
    first sign-in."""
    from pro_server.cli import cli_context
    from pro_server.staff.services import create_admin

    password = _read_password()
    ctx = cli_context(Actor(type="staff", label="cli:admin create"))
    with ctx.session:
        try:
            user = create_admin(ctx, email=email, name=name, password=password)
        except DomainError as exc:
            details = [m for messages in (exc.errors or {}).get("json", {}).values()
                       for m in messages]
            raise click.ClickException("; ".join(details) or exc.message) from None
        ctx.session.commit()
        click.echo(f"admin {user.email} created; the password must be changed at first sign-in")
