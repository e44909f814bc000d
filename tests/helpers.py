"""Test helpers: a signed-in staff client that sends the CSRF token on state-changing calls,
the rows of a CSV download, and one migration run again on the data a test stored."""

from __future__ import annotations

import csv
import io
from typing import Any

from alembic import command
from flask.testing import FlaskClient
from sqlalchemy import Engine

from pro_server.migrate import alembic_config, upgrade


class CsrfClient:
    """A test client that sends its session's CSRF token on state-changing calls."""

    def __init__(self, client: FlaskClient, csrf_token: str) -> None:
        self.client = client
        self.csrf_token = csrf_token

    def get(self, url: str, **kwargs: Any):
        return self.client.get(url, **kwargs)

    def _send(self, method: str, url: str, **kwargs: Any):
        headers = {"X-CSRFToken": self.csrf_token, **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def post(self, url: str, **kwargs: Any):
        return self._send("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any):
        return self._send("PATCH", url, **kwargs)

    def put(self, url: str, **kwargs: Any):
        return self._send("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any):
        return self._send("DELETE", url, **kwargs)


class StaffClient(CsrfClient):
    @classmethod
    def login(cls, client: FlaskClient, email: str, password: str) -> StaffClient:
        token = client.get("/api/v1/auth/csrf").json["csrf_token"]
        response = client.post("/api/v1/auth/login", json={"email": email, "password": password},
                               headers={"X-CSRFToken": token})
        assert response.status_code == 200, response.json
        return cls(client, response.json["csrf_token"])


def csv_download(response: Any) -> list[dict[str, str]]:
    """The rows of a CSV download, after checking it is one (200, text/csv, attachment)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def migrate_again(engine: Engine, before: str, revision: str) -> None:
    """Down to `before`, then up to `revision`: its upgrade runs on the data stored now; then
    to the head (the next test on this database needs the whole schema)."""
    command.downgrade(alembic_config(engine), before)
    try:
        upgrade(engine, revision)
    finally:
        upgrade(engine)
