from __future__ import annotations

import pytest


@pytest.fixture
def gnv(staff_client):
    return staff_client("coordinator.gnv@example.org")


def give(client, pid: int, number: int, at_local: str, reason: str | None = None):
    body = {"status": "given", "given_at_local": at_local}
    if reason:
        body["reason"] = reason
    response = client.put(f"/api/v1/participants/{pid}/infusions/{number}", json=body)
    assert response.status_code == 200, response.json
    return response.json


def by_code(schedule: dict) -> dict[str, dict]:
    return {a["code"]: a for a in schedule["assessments"]}
