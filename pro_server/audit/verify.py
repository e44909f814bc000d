"""Checking the stored audit trail: `pro audit verify` and the audit viewer call this one
function, so both always report the same thing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pro_server.audit.chain import ChainReport, verify_chain
from pro_server.audit.models import AuditEvent


def verify_stored_chain(session: Session) -> ChainReport:
    """Walk every stored event in chain order; name the first broken one or report it intact."""
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
    return verify_chain(
        {c.key: getattr(e, c.key) for c in AuditEvent.__table__.columns} for e in rows
    )
