"""`pro admin create`: the first admin of an empty server (or another one), from a shell.

The password is read from the terminal (asked twice, not echoed) or, when standard input is
not a terminal, from its first line; never from an argument, where it would sit in the
shell's history and the process list.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from pro_server.access import policy
from pro_server.commands import cli_context
from pro_server.context import Actor, ServiceContext
from pro_server.errors import DomainError
from pro_server.staff.security import Meaning, sign
from pro_server.staff.services import find_by_email

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
    from pro_server.staff.services import create_admin

    password = _read_password()
    ctx = cli_context(Actor(type="staff", label="cli:admin create"))
    with ctx.session:
        try:
            user = create_admin(ctx, email=email, name=name, password=password)
        except DomainError as exc:
            raise click.ClickException("; ".join(exc.field_messages()) or exc.message) from None
        ctx.session.commit()
        click.echo(f"admin {user.email} created; the password must be changed at first sign-in")


def cli_signature(ctx: ServiceContext, signer: str, meaning: Meaning) -> dict[str, str]:
    """An admin's electronic signature asked for at the terminal (password, and the code when
    enrolled); the actor becomes that admin. A refusal is counted and audited, then exits."""
    user = find_by_email(ctx, signer)
    if user is None or not user.active or not policy.has(user, policy.Capability.administer):
        raise click.ClickException(f"{signer} is not an active admin")
    ctx.actor = Actor(type="staff", id=str(user.id), label=f"{user.email} (admin, cli)")
    click.echo(f'Electronic signature: "{meaning.value}"')
    password = click.prompt("Password", hide_input=True)
    code = click.prompt("Authenticator code") if user.totp_enabled_at else None
    signature = sign(ctx, user, password, code, meaning)
    if signature is None:
        ctx.session.commit()  # the failed attempt is counted and audited
        raise click.ClickException("signature refused: the password (or code) is wrong")
    return signature
