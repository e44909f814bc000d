"""Requesting and deciding changes to one answer of a participant's response.

Rules: only the current version of a response can be the subject of a request; the new value
must be valid for the item and differ from the old one; one pending request per answer;
whoever asked cannot decide. Approval applies the change to the then-current version, as
long as the answer there is still the one the requester saw.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pro_server.access import policy
from pro_server.audit.services import record
from pro_server.changes.models import ChangeRequest, ChangeStatus
from pro_server.context import ServiceContext
from pro_server.errors import Conflict, DomainError, Forbidden, InvalidInput
from pro_server.instruments import default_registry
from pro_server.responses.models import Response
from pro_server.responses.services import check_change, correct_answer
from pro_server.staff.models import StaffUser


def may_decide(user: StaffUser, site_id: int) -> bool:
    """Whether the one access policy lets the user approve or reject changes at this site."""
    try:
        policy.check_approver(user, site_id)
    except DomainError:
        return False
    return True


def current_value(response: Response, item_id: str) -> Any:
    return (response.answers.get(item_id) or {}).get("value")


def _check_new_value(response: Response, item_id: str, new_value: Any) -> None:
    definition = default_registry().get(response.instrument_code, response.instrument_version)
    item = definition.items_by_id.get(item_id)
    if item is None:
        raise InvalidInput.field("item_id", f"{response.instrument_code} has no item {item_id!r}")
    if new_value is None and item.required:
        raise InvalidInput.field("new_value", "A required answer cannot be removed")
    if new_value == current_value(response, item_id):
        raise InvalidInput.field("new_value", "The new value is the same as the current one")
    # The whole new version must pass the participant path's check, not just this answer.
    check_change(definition, response, item_id, new_value)


def request_change(ctx: ServiceContext, requester: StaffUser, response: Response, *,
                   item_id: str, new_value: Any, reason: str, source: str) -> ChangeRequest:
    if not response.is_current:
        raise Conflict("This response has a newer version; request the change on that one")
    _check_new_value(response, item_id, new_value)
    pending = ctx.session.scalar(select(ChangeRequest.id).where(
        ChangeRequest.response_id == response.id, ChangeRequest.item_id == item_id,
        ChangeRequest.status == "pending"))
    if pending is not None:
        raise Conflict(f"Change request {pending} for this answer is waiting for a decision")
    change = ChangeRequest(
        response_id=response.id, participant_id=response.participant_id,
        study_id=response.study_id, site_id=response.site_id,
        instrument_code=response.instrument_code, item_id=item_id,
        old_value=current_value(response, item_id), new_value=new_value, reason=reason,
        source=source, status="pending", requested_by_id=requester.id, requested_at=ctx.now(),
    )
    ctx.session.add(change)
    ctx.session.flush()
    record(ctx, "change_request.create", "change_request", change.id, after={
        "response_id": response.id, "instrument": response.instrument_code, "item": item_id,
        "old_value": change.old_value, "new_value": new_value, "source": source},
        reason=reason, study_id=change.study_id, site_id=change.site_id)
    return change


def _current_version(ctx: ServiceContext, change: ChangeRequest) -> Response:
    base = change.response
    current = ctx.session.scalar(select(Response).where(
        Response.assessment_id == base.assessment_id,
        Response.instrument_code == base.instrument_code, Response.is_current.is_(True)))
    if current is None or current_value(current, change.item_id) != change.old_value:
        raise Conflict("The answer changed after this request was made; reject it and ask again")
    return current


def _check_decidable(change: ChangeRequest, decider: StaffUser) -> None:
    if change.status != "pending":
        raise Conflict(f"This request is already {change.status}")
    if change.requested_by_id == decider.id:
        raise Forbidden("A change request is decided by someone other than who made it")


def approve(ctx: ServiceContext, decider: StaffUser, change: ChangeRequest,
            reason: str | None = None, *, signature: dict[str, str] | None = None) -> Response:
    """Apply the change: a new response version with recomputed scores; the old one stays."""
    _check_decidable(change, decider)
    current = _current_version(ctx, change)
    new = correct_answer(
        ctx, current, change.item_id, change.new_value, reason=change.reason,
        source=change.source, approved_by=ctx.actor.label or f"staff:{decider.id}")
    change.status = ChangeStatus.APPROVED
    change.decided_by_id = decider.id
    change.decided_at = ctx.now()
    change.decision_reason = reason
    change.new_response_id = new.id
    record(ctx, "change_request.approve", "change_request", change.id, after={
        "response_id": current.id, "new_response_id": new.id, "new_version": new.version,
        "signature": signature},
        reason=reason, study_id=change.study_id, site_id=change.site_id)
    return new


def reject(ctx: ServiceContext, decider: StaffUser, change: ChangeRequest, reason: str, *,
           signature: dict[str, str] | None = None) -> None:
    _check_decidable(change, decider)
    if not reason.strip():
        raise InvalidInput.field("reason", "Say why the change is rejected")
    change.status = ChangeStatus.REJECTED
    change.decided_by_id = decider.id
    change.decided_at = ctx.now()
    change.decision_reason = reason
    record(ctx, "change_request.reject", "change_request", change.id,
           after={"response_id": change.response_id, "signature": signature}, reason=reason,
           study_id=change.study_id, site_id=change.site_id)
