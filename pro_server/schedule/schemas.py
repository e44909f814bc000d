from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from pro_server.schedule.visits import MODES
from pro_server.staff.schemas import SignatureSchema

REASON = validate.Length(min=3, max=500)


class InfusionSchema(Schema):
    status = fields.String(
        required=True, validate=validate.OneOf(["planned", "given", "not_given"])
    )
    planned_date = fields.Date(allow_none=True)
    given_at_local = fields.NaiveDateTime(
        allow_none=True, metadata={"description": "Local wall-clock time, e.g. 2026-03-05T10:30"})
    reason = fields.String(validate=REASON, allow_none=True)

    @validates_schema
    def _by_status(self, data, **kwargs):
        status = data["status"]
        if status == "planned" and not data.get("planned_date"):
            raise ValidationError("A planned infusion needs planned_date", "planned_date")
        if status == "given" and not data.get("given_at_local"):
            raise ValidationError("A given infusion needs given_at_local", "given_at_local")
        if status != "given" and data.get("given_at_local"):
            raise ValidationError("Only a given infusion has given_at_local", "given_at_local")
        if status == "not_given" and not data.get("reason"):
            raise ValidationError("Say why the infusion was not given", "reason")


class VisitCreateSchema(Schema):
    starts_at_local = fields.NaiveDateTime(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    join_url = fields.Url(schemes={"https"}, allow_none=True)
    note = fields.String(validate=validate.Length(max=200), allow_none=True)
    duration_minutes = fields.Integer(load_default=30, validate=validate.Range(min=5, max=240))


class VisitRescheduleSchema(Schema):
    starts_at_local = fields.NaiveDateTime(required=True)
    reason = fields.String(required=True, validate=REASON)
    mode = fields.String(validate=validate.OneOf(MODES))
    join_url = fields.Url(schemes={"https"}, allow_none=True)


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=REASON)


class AmendmentSchema(Schema):
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    reason = fields.String(required=True, validate=REASON)
    subject_keys = fields.List(fields.String(), validate=validate.Length(min=1))
    signature = fields.Nested(SignatureSchema, load_default=None, metadata={
        "description": "The admin's electronic signature: password (and code) re-entered, "
                       "meaning 'I approve applying this protocol amendment'"})


class CalendarArgsSchema(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    site = fields.String()

    @validates_schema
    def _range(self, data, **kwargs):
        if data["end"] < data["start"]:
            raise ValidationError("end is before start", "end")
        if (data["end"] - data["start"]).days > 366:
            raise ValidationError("At most 366 days at a time", "end")


class LocalTimeText(fields.String):
    """A wall-clock time in the participant's zone, as ISO 8601 text."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.isoformat()


class WindowSchema(Schema):
    """An assessment window in the participant's local time and in UTC.

    Dumps a `schedule.views.AssessmentRead` or the planner's `PlannedAssessment`."""

    code = fields.String()
    first_day = fields.Date()
    last_day = fields.Date()
    window_start_local = LocalTimeText()
    window_end_local = LocalTimeText()
    window_start_utc = fields.DateTime()
    window_end_utc = fields.DateTime()
    instruments = fields.List(fields.String())


class ProjectedSchema(WindowSchema):
    """A window that follows from a planned (not yet given) infusion."""


class AssessmentOutSchema(WindowSchema):
    id = fields.Integer()
    sequence = fields.Integer()
    anchor = fields.String()
    protocol_version = fields.String()
    status = fields.String()
    timezone = fields.String()
    started_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)


class InfusionOutSchema(Schema):
    """Dumps the planner's `ScheduledInfusion`."""

    number = fields.Integer()
    label = fields.String()
    status = fields.String()
    protocol_date = fields.Date(allow_none=True)
    planned_date = fields.Date(allow_none=True)
    given_at_local = LocalTimeText(allow_none=True)
    reason = fields.String(allow_none=True)


class VisitOutSchema(Schema):
    """Dumps a `schedule.views.VisitRead`."""

    id = fields.Integer()
    starts_at_utc = fields.DateTime(attribute="starts_at")
    starts_at_local = LocalTimeText()
    timezone = fields.String()
    duration_minutes = fields.Integer()
    mode = fields.String()
    join_url = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    status = fields.String()
    revision = fields.Integer()
    cancel_reason = fields.String(allow_none=True)


class ScheduleSchema(Schema):
    """Dumps a `schedule.views.ScheduleRead`."""

    participant_id = fields.Integer(attribute="id")
    subject_key = fields.String()
    timezone = fields.String()
    protocol_version = fields.String()
    infusions = fields.List(fields.Nested(InfusionOutSchema))
    assessments = fields.List(fields.Nested(AssessmentOutSchema))
    projected = fields.List(fields.Nested(ProjectedSchema))
    visits = fields.List(fields.Nested(VisitOutSchema))


class CalendarEventSchema(Schema):
    kind = fields.String(metadata={"description": "window_opens, window_closes or visit"})
    at_utc = fields.DateTime()
    at_local = fields.String()
    subject_key = fields.String()
    participant_id = fields.Integer()
    site_code = fields.String()
    code = fields.String(allow_none=True)
    status = fields.String()


class AmendmentResultSchema(Schema):
    version = fields.Integer()
    participants = fields.Dict(
        keys=fields.String(), values=fields.List(fields.List(fields.String()))
    )


class MissedReasonSchema(Schema):
    reason = fields.String(required=True, metadata={
        "description": "not_reached, declined, too_unwell, technical_problem, hospitalised, "
                       "other"})
    text = fields.String(allow_none=True, metadata={"description": "Required for 'other'"})


class MissedReasonOutSchema(Schema):
    code = fields.String()
    missed_reason = fields.String(allow_none=True)
    missed_reason_text = fields.String(allow_none=True)
    missed_reason_label = fields.String(allow_none=True)
    missed_reason_at = fields.DateTime(allow_none=True)
