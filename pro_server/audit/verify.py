"""Checking the stored audit trail: `pro audit verify` and the audit viewer call this one
function, so both always report the same thing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pro_server.audit.chain import ChainReport, verify_chain
from pro_server.audit.models import AuditEvent


def verify_stored_chain(session: Session) -> ChainReport:
    """Walk the sealed events in chain order; name the first broken one or report it intact.
    Events not sealed yet have no place in the chain: ``audit.sealing.tail`` reports them."""
    rows = session.execute(select(AuditEvent).where(AuditEvent.seq.is_not(None))
                           .order_by(AuditEvent.seq)).scalars()
    return verify_chain(
        {c.key: getattr(e, c.key) for c in AuditEvent.__table__.columns} for e in rows
    )
