"""The audit trail's hash chain: canonical content, hashing and verification (pure)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
CHAINED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "entity_type",
    "entity_id",
    "study_id",
    "site_id",
    "before",
    "after",
    "reason",
    "request_id",
    "prev_hash",
)


def normalise_json(value: Any) -> Any:
    """What a JSON value looks like after a round trip through the database."""
    return None if value is None else json.loads(json.dumps(value, sort_keys=True, default=str))


def canonical_bytes(content: dict[str, Any]) -> bytes:
    data = {name: content.get(name) for name in CHAINED_FIELDS}
    occurred = data["occurred_at"]
    if isinstance(occurred, datetime):
        data["occurred_at"] = occurred.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()


def event_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    checked: int
    broken_event_id: int | None = None
    broken_seq: int | None = None
    problem: str | None = None

    def describe(self) -> str:
        if self.intact:
            return f"audit chain intact: {self.checked} events checked"
        return (
            f"audit chain BROKEN at event id={self.broken_event_id} seq={self.broken_seq}: "
            f"{self.problem} ({self.checked} events checked before it)"
        )


def verify_chain(events: Iterable[dict[str, Any]]) -> ChainReport:
    """Walk events in `seq` order; name the first one whose content, link or position is wrong."""
    previous_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in events:
        problem = None
        if event["seq"] != expected_seq:
            problem = f"sequence gap: expected seq {expected_seq}, found {event['seq']}"
        elif event["prev_hash"] != previous_hash:
            problem = "prev_hash does not match the previous event's hash"
        elif event_hash(event) != event["hash"]:
            problem = "content does not match its hash (the row was altered)"
        if problem:
            return ChainReport(False, checked, event["id"], event["seq"], problem)
        previous_hash = event["hash"]
        expected_seq += 1
        checked += 1
    return ChainReport(True, checked)
