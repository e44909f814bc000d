"""What every `pro ...` command shares: a service context from the app it runs in.

The features' command groups are listed in their `feature.py` (``COMMANDS``) and gathered
into the `pro` group by `pro_server.cli`, once per process, as the jobs are gathered.
"""

from __future__ import annotations

from flask import current_app

from pro_server.context import Actor, ServiceContext


def cli_context(actor: Actor) -> ServiceContext:
    return ServiceContext.of_app(current_app.extensions["pro"], actor)
