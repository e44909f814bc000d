"""What the audit trail tells the others: which events the sealer has just chained.

A feature whose rows follow the chain's order subscribes (responses take their event's seq
as `audit_seq`, the EDC cursor), and its handler runs in the sealing transaction, so a row
gets its seq exactly when its event does. The audit trail never imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pro_server.events import Event

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class SealedEvent:
    entity_type: str
    entity_id: str | None
    action: str
    seq: int


# After a batch of events is chained, before its transaction commits.
SEALED: Event[[Connection, list[SealedEvent]]] = Event("audit.sealed", subscribers=("responses",))
