"""`flask --app wsgi pro ...`: operations commands, one group for every feature."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from pro_server.audit.chain import verify_chain
from pro_server.audit.models import AuditEvent
from pro_server.context import Actor, ServiceContext
from pro_server.migrate import upgrade

pro_cli = AppGroup("pro", help="ePRO platform operations.")
audit_cli = AppGroup("audit", help="The tamper-evident audit trail.")
pro_cli.add_command(audit_cli)


def _pro() -> dict:
    return current_app.extensions["pro"]


def cli_context(actor: Actor) -> ServiceContext:
    pro = _pro()
    return ServiceContext(
        session=pro["session_factory"](), clock=pro["clock"], actor=actor, settings=pro["settings"]
    )


@pro_cli.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema (Alembic, to head)."""
    upgrade(_pro()["engine"])
    click.echo("database schema is at head")


@pro_cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when a study already exists.")
def demo_command(if_empty: bool) -> None:
    """Load the demo study, sites, staff and participants; prints the staff passwords once."""
    from pro_server.demo import DEMO_ACTOR, load_demo
    from pro_server.studies.models import Study

    ctx = cli_context(DEMO_ACTOR)
    with ctx.session:
        if ctx.session.scalar(select(Study.id).limit(1)) is not None:
            if if_empty:
                click.echo("demo: a study exists already; nothing loaded")
                return
            raise click.ClickException("the database already holds a study")
        credentials = load_demo(ctx)
        ctx.session.commit()
    click.echo("Demo loaded. Staff sign-in (shown once, keep them):")
    for c in credentials:
        click.echo(f"  {c.role:<13} {c.email:<32} {c.password}")


@audit_cli.command("verify")
def audit_verify_command() -> None:
    """Walk the hash chain; name the first broken event or report it intact."""
    with _pro()["session_factory"]() as session:
        rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
        report = verify_chain(
            {c.key: getattr(e, c.key) for c in AuditEvent.__table__.columns} for e in rows
        )
    click.echo(report.describe())
    if not report.intact:
        raise SystemExit(1)
