from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from pro_server.participants.models import ParticipantStatus
from pro_server.validation import LANGUAGES, LocalTime, Phone, TimeZone, about

SUBJECT_KEY = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$", error="Letters, digits and '-' only, at most 40 characters"
)


class ConsentSchema(Schema):
    given = fields.Boolean(required=True, metadata=about(
        "Whether the participant agreed to SMS reminders", True))
    source = fields.String(validate=validate.Length(min=1, max=200), metadata=about(
        "Where the consent is recorded", "ICF v3 signed at screening visit"))

    @validates_schema
    def _source_when_given(self, data, **kwargs):
        if data.get("given") and not data.get("source"):
            raise ValidationError("Say where consent was recorded (e.g. 'ICF v3 signed at site')",
                                  "source")


class EnrolSchema(Schema):
    subject_key = fields.String(required=True, validate=SUBJECT_KEY, metadata=about(
        "The study's subject identifier, unique in the study", "GNV-101"))
    site_code = fields.String(required=True, validate=validate.Length(min=1, max=40),
                              metadata=about("Code of one of the caller's sites", "GNV"))
    study_code = fields.String(validate=validate.Length(min=1, max=40), metadata=about(
        "The study; default: the only study", "RES001-DMPM-02"))
    status = fields.Enum(ParticipantStatus, by_value=True, load_default=ParticipantStatus.enrolled,
                         metadata=about("screening or enrolled", "enrolled"))
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES),
                             metadata=about("Language of surveys and messages", "en"))
    timezone = TimeZone(required=True, metadata=about(
        "IANA time zone the schedule is computed in", "America/New_York"))
    phone = Phone(national=True, allow_none=True, metadata=about(
        "Mobile number for SMS (stored encrypted, in E.164): E.164, or the national format of "
        "the site's country (the country of the site's contact phone)", "(352) 555-0123"))
    email = fields.Email(allow_none=True, metadata=about(
        "Email address (stored encrypted)", "pat.doe@example.com"))
    sms_consent = fields.Nested(ConsentSchema, load_default=None, metadata=about(
        "SMS consent as recorded on the consent form; null: none"))
    reminder_time = LocalTime(metadata=about(
        "Local time of day for reminders (HH:MM); default: the protocol's daily reminder time",
        "10:00"))
    enrolled_on = fields.Date(allow_none=True, metadata=about(
        "Date of enrolment; default: today", "2026-03-01"))
    reminder_channels = fields.List(fields.String(), metadata=about(
        "Reminder channels in order of preference: the first that can deliver is used "
        "(sms, push, email)", ["push", "sms"]))

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
    phone = Phone(national=True, allow_none=True, metadata=about(
        "As on enrolment: E.164 or the site's national format", "+13525550123"))
    email = fields.Email(allow_none=True)
    sms_consent = fields.Nested(ConsentSchema)
    reminder_time = LocalTime()
    reminder_channels = fields.List(fields.String(), metadata=about(
        "Reminder channels in order of preference: the first that can deliver is used "
        "(sms, push, email)", ["push", "sms"]))
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
    id = fields.Integer(metadata=about("The participant's id in this service", 1))
    subject_key = fields.String(metadata=about("The study's subject identifier", "GNV-101"))
    study_code = fields.String(attribute="study.code", metadata=about("Study", "RES001-DMPM-02"))
    site_code = fields.String(attribute="site.code", metadata=about("Site", "GNV"))
    status = fields.Enum(ParticipantStatus, by_value=True,
                         metadata=about("screening, enrolled, completed or withdrawn", "enrolled"))
    language = fields.String(metadata=about("Language of surveys and messages", "en"))
    timezone = fields.String(metadata=about("IANA time zone of the schedule", "America/New_York"))
    phone = fields.String(allow_none=True, metadata=about(
        "Full number; only for staff who may change the participant, else null", "+13525550123"))
    phone_masked = fields.String(allow_none=True, metadata=about(
        "The number with all but its last 4 digits hidden", "********0123"))
    has_email = fields.Boolean()
    email = fields.String(allow_none=True)
    email_flag = fields.String(allow_none=True, metadata=about(
        "Why no email goes to the address: bounced, complaint or unsubscribed; null: none",
        "bounced"))
    sms_consent = fields.Boolean()
    sms_consent_at = fields.DateTime(allow_none=True)
    sms_consent_source = fields.String(allow_none=True)
    sms_opted_out_at = fields.DateTime(allow_none=True, metadata=about(
        "When the participant opted out of SMS (STOP); null: not opted out"))
    phone_flag = fields.String(allow_none=True, metadata=about(
        "Why the number cannot receive SMS, for staff to fix; null: none"))
    reminder_time = fields.String()
    reminder_channels = fields.List(fields.String(), metadata=about(
        "Reminder channels in order of preference", ["push", "sms"]))
    push_devices = fields.Integer(metadata=about(
        "Devices subscribed to push notifications", 1))
    enrolled_on = fields.Date(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    withdrawal_reason = fields.String(allow_none=True)
    protocol_version = fields.String(allow_none=True, metadata=about(
        "Version of the protocol the schedule follows", "2.0"))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class TimeZonesSchema(Schema):
    timezones = fields.List(fields.String(), metadata=about(
        "Every IANA time zone name accepted for a participant, sorted", ["America/New_York"]))
