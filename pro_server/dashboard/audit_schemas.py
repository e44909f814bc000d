"""What the audit trail viewer accepts and answers."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from pro_server.dashboard.audit_trail import ACTION_PATTERN
from pro_server.dashboard.schemas import StudyArgsSchema, StudyRefSchema
from pro_server.staff.schemas import SiteRefSchema
from pro_server.validation import Id, about

DAYS = validate.Range(min=date(2000, 1, 1), max=date(2999, 12, 31),
                      error="Give a day between 2000-01-01 and 2999-12-31")
ZONE = ("in the time zone of the site shown (`site`, or the caller's only site), else the "
        "study's default time zone; `timezone` in /audit/filters names it")


class TrailArgsSchema(StudyArgsSchema):
    participant = fields.String(validate=validate.Length(min=1, max=40), metadata=about(
        "Events about one participant, by study label (subject key)", "GNV-001"))
    user = Id(metadata=about("Actions of one staff user, by id (see /audit/filters)", 4))
    action = fields.String(
        validate=[validate.Length(max=64), validate.Regexp(
            ACTION_PATTERN, error="An action like 'participant.update', or a family like "
                                  "'participant'")],
        metadata=about("One action, or every action of a family", "participant.update"))
    from_day = fields.Date(data_key="from", validate=DAYS,
                           metadata=about(f"First day (YYYY-MM-DD), {ZONE}", "2026-03-01"))
    to_day = fields.Date(data_key="to", validate=DAYS,
                         metadata=about(f"Last day, inclusive, {ZONE}", "2026-03-31"))

    @validates_schema
    def _days_in_order(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("from_day") and data.get("to_day") and data["to_day"] < data["from_day"]:
            raise ValidationError("The last day comes before the first day", "to")


class SignatureViewSchema(Schema):
    name = fields.String(allow_none=True)
    meaning = fields.String(allow_none=True)
    signed_at = fields.String(allow_none=True)
    method = fields.String(allow_none=True)


class FieldChangeSchema(Schema):
    field = fields.String()
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class AuditEventViewSchema(Schema):
    id = fields.Integer()
    seq = fields.Integer(allow_none=True)
    occurred_at = fields.AwareDateTime()
    occurred_at_local = fields.String(metadata={"description": f"When, {ZONE}"})
    who = fields.String(metadata={"description": "The actor: staff by name and the role "
                                                 "they acted in, a participant by label"})
    actor_type = fields.String()
    user_id = fields.Integer(allow_none=True)
    action = fields.String()
    entity_type = fields.String()
    entity_id = fields.String(allow_none=True)
    participant = fields.String(allow_none=True)
    site = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    signature = fields.Nested(SignatureViewSchema, allow_none=True)
    changes = fields.List(fields.Nested(FieldChangeSchema), metadata={
        "description": "Field by field: every field of a new record, the differing ones of "
                       "a change. Contact data is never shown ([redacted])"})


class UserChoiceSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.String()


class TrailFiltersSchema(Schema):
    study = fields.Nested(StudyRefSchema)
    timezone = fields.String()
    timezone_of = fields.String(metadata={"description": "site or study"})
    site_choices = fields.List(fields.Nested(SiteRefSchema))
    users = fields.List(fields.Nested(UserChoiceSchema))
    actions = fields.List(fields.String())


class ChainStatusSchema(Schema):
    intact = fields.Boolean()
    summary = fields.String()
    details = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), metadata={
        "description": "The result of `pro audit verify`, as it reports it"})
