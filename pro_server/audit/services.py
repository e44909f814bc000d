"""Writing audit events: the only code path that inserts into the audit table.

An event is only INSERTed here, in the caller's transaction; the database numbers it (`id`)
and nothing is locked, so audited requests run side by side. Its place in the hash chain
(`seq`, `prev_hash`, `hash`) is given after commit by the sealer (`audit.sealing`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table

from pro_server.audit.chain import normalise_json
from pro_server.audit.models import AuditEvent
from pro_server.context import ServiceContext
from pro_server.db import insert_rows_now

REASON_REQUIRED_PREFIXES = ("correct", "withdraw")


class AuditReasonRequired(ValueError):
    """A correction or withdrawal was attempted without saying why."""


def event_row(
    ctx: ServiceContext,
    action: str,
    entity_type: str,
    entity_id: object | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    study_id: int | None = None,
    site_id: int | None = None,
) -> dict[str, Any]:
    """One event's columns (not stored: `record` or `record_rows` stores it). `before` and
    `after` are kept as given; the column stores them as sorted JSON text."""
    verb = action.rsplit(".", 1)[-1]
    if verb.startswith(REASON_REQUIRED_PREFIXES) and not (reason and reason.strip()):
        raise AuditReasonRequired(f"{action} needs a reason")
    return {
        "occurred_at": ctx.now(),
        "actor_type": ctx.actor.type,
        "actor_id": ctx.actor.id,
        "actor_label": ctx.actor.label,
        "action": action,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
        "study_id": study_id,
        "site_id": site_id,
        "before": before,
        "after": after,
        "reason": reason,
        "request_id": ctx.request_id,
    }


def record(
    ctx: ServiceContext,
    action: str,
    entity_type: str,
    entity_id: object | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    study_id: int | None = None,
    site_id: int | None = None,
) -> AuditEvent:
    """Append one event, in the caller's transaction (sealed into the chain after commit)."""
    content = event_row(ctx, action, entity_type, entity_id, before=before, after=after,
                        reason=reason, study_id=study_id, site_id=site_id)
    content["before"] = normalise_json(before)
    content["after"] = normalise_json(after)
    event = AuditEvent(**content)
    ctx.session.add(event)  # inserted at the next flush, with the transaction's other events
    return event


_EVENTS = cast(Table, AuditEvent.__table__)


def record_rows(ctx: ServiceContext, rows: Sequence[dict[str, Any]]) -> None:
    """Append several events now (`event_row`s, in this order, their ids in this order), in
    one statement (`db.insert_rows_now`; events recorded before these are flushed first and
    keep their place): no unit of work, nothing read back. For a request's hot path; `record`
    batches at the next flush."""
    insert_rows_now(ctx.session, _EVENTS, rows)


def changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The before/after pair restricted to the keys whose values differ."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}
