"""The `pro-server` console script: the `pro` operations group with the app built from the
environment, plus Flask's own commands (`run`, `shell`, `routes`).

`pro-server migrate`, `pro-server admin create ...` and `pro-server scheduler` are the same
commands as `flask --app pro_server.wsgi pro migrate` etc.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo

from pro_server.config import ConfigError


def _create_app() -> Flask:
    from pro_server import create_app

    try:
        return create_app()
    except ConfigError as error:
        raise SystemExit(f"pro-server refuses to start: {error}") from None


class _ProServer(FlaskGroup):
    """Flask's group; a name it does not know is looked up in the `pro` group (whose
    commands the features add when the app is built)."""

    def _pro(self, ctx: click.Context) -> click.Group:
        ctx.ensure_object(ScriptInfo).load_app()
        from pro_server.cli import pro_cli

        return pro_cli

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._pro(ctx).get_command(ctx, name) or super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._pro(ctx).list_commands(ctx)))


cli = _ProServer(name="pro-server", create_app=_create_app, load_dotenv=False,
                 help="ePRO platform: operations commands and a development server.")


def main() -> None:
    cli.main(prog_name="pro-server")
