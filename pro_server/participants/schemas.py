from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from pro_server.participants.models import ParticipantStatus
from pro_server.validation import LANGUAGES, LocalTime, Phone, TimeZone

SUBJECT_KEY = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$", error="Letters, digits and '-' only, at most 40 characters"
)


class ConsentSchema(Schema):
    given = fields.Boolean(required=True)
    source = fields.String(validate=validate.Length(min=1, max=200))

    @validates_schema
    def _source_when_given(self, data, **kwargs):
        if data.get("given") and not data.get("source"):
            raise ValidationError("Say where consent was recorded (e.g. 'ICF v3 signed at site')",
                                  "source")


class EnrolSchema(Schema):
    subject_key = fields.String(required=True, validate=SUBJECT_KEY)
    site_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    study_code = fields.String(validate=validate.Length(min=1, max=40))
    status = fields.Enum(ParticipantStatus, by_value=True, load_default=ParticipantStatus.enrolled)
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    timezone = TimeZone(required=True)
    phone = Phone(allow_none=True)
    email = fields.Email(allow_none=True)
    sms_consent = fields.Nested(ConsentSchema, load_default=None)
    reminder_time = LocalTime(metadata={
        "description": "Daily reminder time (local); default: the protocol's daily reminder time"})
    enrolled_on = fields.Date(allow_none=True)

    @validates_schema
    def _status_on_enrol(self, data, **kwargs):
        if data.get("status") not in (ParticipantStatus.screening, ParticipantStatus.enrolled):
            raise ValidationError("A new participant is screening or enrolled", "status")
        consent = data.get("sms_consent")
        if consent and consent["given"] and not data.get("phone"):
            raise ValidationError("SMS consent needs a phone number", "phone")


class UpdateSchema(Schema):
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    timezone = TimeZone()
    phone = Phone(allow_none=True)
    email = fields.Email(allow_none=True)
    sms_consent = fields.Nested(ConsentSchema)
    reminder_time = LocalTime()
    status = fields.Enum(ParticipantStatus, by_value=True)
    reason = fields.String(validate=validate.Length(min=1, max=500))

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not set(data) - {"reason"}:
            raise ValidationError("Nothing to change", "_schema")
        if data.get("status") == ParticipantStatus.withdrawn:
            raise ValidationError("Use POST .../withdraw, which needs a reason", "status")


class WithdrawSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


class ListArgsSchema(Schema):
    site = fields.String(validate=validate.Length(min=1, max=40))
    status = fields.Enum(ParticipantStatus, by_value=True)
    study = fields.String(validate=validate.Length(min=1, max=40))


class ParticipantSchema(Schema):
    id = fields.Integer()
    subject_key = fields.String()
    study_code = fields.String(attribute="study.code")
    site_code = fields.String(attribute="site.code")
    status = fields.Enum(ParticipantStatus, by_value=True)
    language = fields.String()
    timezone = fields.String()
    phone = fields.String(allow_none=True)
    phone_masked = fields.String(allow_none=True)
    has_email = fields.Boolean()
    email = fields.String(allow_none=True)
    sms_consent = fields.Boolean()
    sms_consent_at = fields.DateTime(allow_none=True)
    sms_consent_source = fields.String(allow_none=True)
    sms_opted_out_at = fields.DateTime(allow_none=True)
    phone_flag = fields.String(allow_none=True)
    reminder_time = fields.String()
    enrolled_on = fields.Date(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    withdrawal_reason = fields.String(allow_none=True)
    protocol_version = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
