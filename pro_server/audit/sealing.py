"""Sealing: chaining committed audit events into the hash chain, after the requests that
wrote them (docs/audit-sealing.md has the argument).

A request only INSERTs its events (the database numbers them: `id`); nothing serialises
requests. The sealer, one at a time (an advisory lock on PostgreSQL, the write lock on
SQLite), takes the events committed so far that have no place in the chain yet, in `id`
order, and gives each the next `seq`, the previous event's hash and its own hash. A
transaction still in flight is invisible to it, so its events are sealed by a later run,
after whatever was sealed before: `seq` is gap-free and follows the order in which events
became committed-and-sealed, and a rolled-back transaction, whose events never commit,
leaves no hole in it (only in `id`, which the chain does not cover).

Subscribers of audit.events.SEALED run in the same sealing transaction: a response version
takes its event's `seq` as `audit_seq` there, so the EDC cursor (`audit_seq > cursor`) never
skips a version committed late: a version gets a seq only once every smaller seq is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from pro_server.audit.chain import GENESIS_HASH, event_hash
from pro_server.audit.events import SEALED, SealedEvent
from pro_server.audit.models import AuditEvent
from pro_server.context import ServiceContext
from pro_server.events import EventBus

# Any constant works; it names the lock that lets one sealer run at a time on PostgreSQL.
_SEAL_LOCK_KEY = 0x50524F_5345414C  # "PRO SEAL"
BATCH = 500

_events = AuditEvent.__table__


@dataclass(frozen=True)
class Tail:
    """The committed events not sealed yet: how many, and when the oldest occurred."""

    count: int
    oldest: datetime | None

    def describe(self, now: datetime) -> str:
        if not self.count or self.oldest is None:
            return "unsealed tail: none"
        age = max(timedelta(0), now - self.oldest)
        return (f"unsealed tail: {self.count} events, the oldest {age.total_seconds():.0f} s "
                f"old (occurred {self.oldest.isoformat(timespec='seconds')})")


def seal(session: Session, events: EventBus, *, batch: int = BATCH) -> int:
    """Seal every event committed so far; how many. Commits each batch in its own short
    transaction, so a crash loses at most the batch in hand (its events stay unsealed and
    the next run seals them)."""
    total = 0
    while True:
        sealed = _seal_batch(session, events, batch)
        session.commit()
        total += sealed
        if sealed < batch:
            return total


def seal_pending(session_factory: Callable[[], Session], events: EventBus) -> int:
    """Seal on demand (before `pro audit verify`, before an EDC read), in a session of its
    own so the caller's transaction is not committed under it. Reads once when nothing is
    pending."""
    with session_factory() as session:
        if tail(session).count == 0:
            return 0
        session.rollback()
        return seal(session, events)


def seal_job(new_context: Callable[[], ServiceContext]) -> int:
    """The scheduler's job: seal what the requests committed since the last run."""
    ctx = new_context()
    with ctx.session:
        return seal(ctx.session, ctx.events)


def tail(session: Session) -> Tail:
    count, oldest = session.execute(
        select(func.count(), func.min(AuditEvent.occurred_at)).where(AuditEvent.seq.is_(None))
    ).one()
    return Tail(count, oldest)


def _seal_batch(session: Session, events: EventBus, batch: int) -> int:
    _take_seal_lock(session)
    head = session.execute(select(AuditEvent.seq, AuditEvent.hash)
                           .where(AuditEvent.seq.is_not(None))
                           .order_by(AuditEvent.seq.desc()).limit(1)).first()
    rows = session.execute(select(_events).where(_events.c.seq.is_(None))
                           .order_by(_events.c.id).limit(batch)).mappings().all()
    if not rows:
        return 0
    seq, previous = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    seals: list[dict[str, Any]] = []
    sealed: list[SealedEvent] = []
    for row in rows:
        seq += 1
        content = dict(row) | {"seq": seq, "prev_hash": previous}
        previous = event_hash(content)
        seals.append({"event_id": row["id"], "new_seq": seq,
                      "new_prev_hash": content["prev_hash"], "new_hash": previous})
        sealed.append(SealedEvent(row["entity_type"], row["entity_id"], row["action"], seq))
    connection = session.connection()
    done = connection.execute(
        update(_events).where(_events.c.id == bindparam("event_id"), _events.c.seq.is_(None))
        .values(seq=bindparam("new_seq"), prev_hash=bindparam("new_prev_hash"),
                hash=bindparam("new_hash")), seals)
    if done.rowcount != len(seals):  # only a second sealer not holding the lock could do it
        raise RuntimeError("audit events were sealed by someone else during this seal")
    events.publish(SEALED, connection, sealed)
    return len(rows)


def _take_seal_lock(session: Session) -> None:
    """PostgreSQL: the sealers' own advisory lock (requests never take it). SQLite: the one
    write lock, taken before the chain's head is read (a no-op write starts the write
    transaction), so no other sealer can append between the read and the seal."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEAL_LOCK_KEY})
    else:
        session.execute(text("UPDATE audit_event SET seq = seq WHERE 0 = 1"))
