"""`flask --app wsgi pro participant-link SUBJECT_KEY`: print a fresh link (dev, support)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from pro_server.context import Actor
from pro_server.participants.links import issue_link
from pro_server.participants.models import Participant, ParticipantStatus


@click.command("participant-link")
@click.argument("subject_key")
@with_appcontext
def participant_link_command(subject_key: str) -> None:
    """Issue a new link for an enrolled participant and print it (audited)."""
    from pro_server.commands import cli_context

    ctx = cli_context(Actor.system("cli participant-link"))
    with ctx.session:
        p = ctx.session.scalar(select(Participant).where(Participant.subject_key == subject_key))
        if p is None or p.status is not ParticipantStatus.enrolled:
            raise click.ClickException(f"no enrolled participant {subject_key}")
        url = issue_link(ctx, p, audited=True)
        ctx.session.commit()
    click.echo(url)
