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


class ChangeRequestSchema(Schema):
    """Dumps a `changes.views.ChangeRequestRead`."""

    id = fields.Integer()
    status = fields.String()
    participant_id = fields.Integer()
    subject_key = fields.String(attribute="response.assessment.participant.subject_key")
    site_id = fields.Integer()
    assessment_code = fields.String(attribute="response.assessment.code")
    response_id = fields.Integer()
    response_version = fields.Integer(attribute="response.version")
    instrument_code = fields.String()
    item_id = fields.String()
    item_text = fields.String()
    old_value = fields.Raw(allow_none=True)
    new_value = fields.Raw(allow_none=True)
    old_label = fields.String()
    new_label = fields.String()
    reason = fields.String()
    source = fields.String()
    requested_by = fields.String(attribute="requested_by.name")
    requested_at = fields.DateTime()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    new_response_id = fields.Integer(allow_none=True)
    can_decide = fields.Boolean(metadata={"description": "The caller may approve or reject it"})
