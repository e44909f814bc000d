"""`pro vapid generate`: the VAPID key pair Web Push signs with."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from pro_server.messaging.push import generate_keys

vapid_cli = AppGroup("vapid", help="Web Push (VAPID) keys.")


@vapid_cli.command("generate")
def vapid_generate_command() -> None:
    """Print a new key pair once, as environment lines; nothing is stored. Keep the private
    key with the other secrets: a new pair ends every device's subscription."""
    private, public = generate_keys()
    click.echo(f"VAPID_PRIVATE_KEY={private}")
    click.echo(f"VAPID_PUBLIC_KEY={public}")
    click.echo("VAPID_SUBJECT=mailto:<the study team's address>")
