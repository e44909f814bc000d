"""`flask --app wsgi pro edc-client ...`: create, list, rotate and revoke EDC clients."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from pro_server.commands import cli_context
from pro_server.context import Actor
from pro_server.edc import services
from pro_server.edc.models import SCOPES
from pro_server.errors import DomainError
from pro_server.studies.services import get_study

edc_client_cli = AppGroup("edc-client", help="EDC clients: machines that pull one study's data.")
CLI_ACTOR = Actor(type="staff", label="cli:edc-client")


def _fail(exc: DomainError) -> click.ClickException:
    return click.ClickException(f"{exc.message} {exc.errors or ''}".strip())


@edc_client_cli.command("create")
@click.option("--study", "study_code", required=True)
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES), required=True)
def create_command(study_code: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create a client; prints its token once (only a hash is stored)."""
    ctx = cli_context(CLI_ACTOR)
    with ctx.session:
        try:
            client, token = services.create_client(ctx, get_study(ctx.session, study_code),
                                                   name, scopes)
        except DomainError as exc:
            raise _fail(exc) from exc
        ctx.session.commit()
        click.echo(f"client {client.id} ({client.name}) for {study_code}, scopes "
                   f"{', '.join(client.scopes)}")
    click.echo("token (shown once; send as 'Authorization: Bearer <token>'):")
    click.echo(token)


@edc_client_cli.command("list")
def list_command() -> None:
    """Every client, without secrets."""
    ctx = cli_context(CLI_ACTOR)
    with ctx.session:
        for c in services.list_clients(ctx):
            state = "revoked" if c.revoked_at else "active"
            click.echo(f"{c.id}\t{c.study.code}\t{c.name}\t{c.key_id}\t{','.join(c.scopes)}"
                       f"\t{state}")


@edc_client_cli.command("rotate")
@click.argument("client_id", type=int)
def rotate_command(client_id: int) -> None:
    """A new token; the old one stops working at once."""
    ctx = cli_context(CLI_ACTOR)
    with ctx.session:
        try:
            token = services.rotate_client(ctx, services.get_client(ctx, client_id))
        except DomainError as exc:
            raise _fail(exc) from exc
        ctx.session.commit()
    click.echo(token)


@edc_client_cli.command("revoke")
@click.argument("client_id", type=int)
@click.option("--reason", required=True)
def revoke_command(client_id: int, reason: str) -> None:
    """Revoke a client; its token gets 401 from now on."""
    ctx = cli_context(CLI_ACTOR)
    with ctx.session:
        try:
            services.revoke_client(ctx, services.get_client(ctx, client_id), reason)
        except DomainError as exc:
            raise _fail(exc) from exc
        ctx.session.commit()
    click.echo(f"client {client_id} revoked")
