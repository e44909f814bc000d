"""A response version takes the `seq` of its audit event as `audit_seq` when the sealer
chains that event, in the same transaction (audit.events.SEALED): the EDC cursor's order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection

from pro_server.audit.events import SealedEvent
from pro_server.responses.models import UNSEALED, VERSION_EVENT_ACTIONS, Response


def stamp_versions(connection: Connection, sealed: list[SealedEvent]) -> None:
    versions: list[dict[str, Any]] = [
        {"response_id": int(e.entity_id), "new_seq": e.seq} for e in sealed
        if e.entity_type == "response" and e.action in VERSION_EVENT_ACTIONS
        and e.entity_id is not None]
    if versions:
        responses = Response.__table__
        connection.execute(
            update(responses).where(responses.c.id == bindparam("response_id"),
                                    responses.c.audit_seq == UNSEALED)
            .values(audit_seq=bindparam("new_seq")), versions)
