"""WSGI entry point in a checkout: `gunicorn wsgi:app`, `flask --app wsgi ...` (the
installed package's is `pro_server.wsgi`)."""

from pro_server.wsgi import app

__all__ = ["app"]
