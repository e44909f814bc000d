"""WSGI entry point of the installed package: `gunicorn pro_server.wsgi:app`,
`flask --app pro_server.wsgi ...`. The configuration comes from the environment."""

from pro_server import create_app
from pro_server.config import ConfigError

try:
    app = create_app()
except ConfigError as error:  # one clear line for the operator, not a traceback
    raise SystemExit(f"pro-server refuses to start: {error}") from None
