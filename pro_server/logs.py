"""Logging set-up: one format, and on every record the id of the request it was written in.

The id is the one the response's `X-Request-ID` header carries (the caller's own, if it sent
a well-formed one), so a support question quoting that header finds its log lines.
"""

from __future__ import annotations

import logging

from flask import has_request_context

from pro_server.web import request_id

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
OUTSIDE_A_REQUEST = "-"  # the CLI, the scheduler, start-up
QUIET_LOGGERS = ("alembic.runtime.plugins", "flask-limiter")


class RequestIdFilter(logging.Filter):
    """Sets ``record.request_id`` on every record a handler emits."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id() if has_request_context() else OUTSIDE_A_REQUEST
        return True


def configure_logging(level: str) -> None:
    """The root handler (created here unless one exists) writes LOG_FORMAT; every root
    handler gets the request id. Idempotent: each app of a process calls it."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
