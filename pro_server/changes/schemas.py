from marshmallow import Schema, fields, validate

from pro_server.changes.models import STATUSES
from pro_server.staff.schemas import SignatureSchema
from pro_server.validation import Id

REASON = validate.Length(min=3, max=500)


class ChangeRequestCreateSchema(Schema):
    response_id = Id(required=True)
    item_id = fields.String(required=True, validate=validate.Length(min=1, max=60))
    new_value = fields.Raw(required=True, allow_none=True, metadata={
        "description": "The value as the instrument stores it (option code, number, list of "
                       "codes); null removes an optional answer"})
    reason = fields.String(required=True, validate=REASON)
    source = fields.String(required=True, validate=validate.Length(min=2, max=200), metadata={
        "description": "Where the correct value comes from, e.g. 'phone call with "
                       "participant 2026-03-02, documented in source notes'"})


SIGNATURE = {"description": "The decider's electronic signature: password (and code) "
                            "re-entered, with the meaning shown"}


class DecisionSchema(Schema):
    reason = fields.String(validate=REASON, allow_none=True)
    signature = fields.Nested(SignatureSchema, load_default=None, metadata=SIGNATURE)


class RejectSchema(Schema):
    reason = fields.String(required=True, validate=REASON)
    signature = fields.Nested(SignatureSchema, load_default=None, metadata=SIGNATURE)


class ChangeListArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    participant_id = Id()
    site = fields.String(validate=validate.Length(min=1, max=40))


def _of_request(field: fields.Field, path: str) -> fields.Field:
    """A field read from the change request (or what it links to) behind the read."""
    field.attribute = f"request.{path}"
    return field


class ChangeRequestSchema(Schema):
    """Dumps a `changes.views.ChangeRequestRead`."""

    id = _of_request(fields.Integer(), "id")
    status = _of_request(fields.String(), "status")
    participant_id = _of_request(fields.Integer(), "participant_id")
    subject_key = _of_request(fields.String(), "response.assessment.participant.subject_key")
    site_id = _of_request(fields.Integer(), "site_id")
    assessment_code = _of_request(fields.String(), "response.assessment.code")
    response_id = _of_request(fields.Integer(), "response_id")
    response_version = _of_request(fields.Integer(), "response.version")
    instrument_code = _of_request(fields.String(), "instrument_code")
    item_id = _of_request(fields.String(), "item_id")
    item_text = fields.String()
    old_value = _of_request(fields.Raw(allow_none=True), "old_value")
    new_value = _of_request(fields.Raw(allow_none=True), "new_value")
    old_label = fields.String()
    new_label = fields.String()
    reason = _of_request(fields.String(), "reason")
    source = _of_request(fields.String(), "source")
    requested_by = _of_request(fields.String(), "requested_by.name")
    requested_at = _of_request(fields.DateTime(), "requested_at")
    decided_by = fields.String(allow_none=True)
    decided_at = _of_request(fields.DateTime(allow_none=True), "decided_at")
    decision_reason = _of_request(fields.String(allow_none=True), "decision_reason")
    new_response_id = _of_request(fields.Integer(allow_none=True), "new_response_id")
    can_decide = fields.Boolean(metadata={"description": "The caller may approve or reject it"})
