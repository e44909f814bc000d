from marshmallow import Schema, fields, validate

from pro_server.dashboard.attention import KINDS
from pro_server.dashboard.cells import BUCKETS, LABELS
from pro_server.participants.models import ParticipantStatus
from pro_server.staff.models import Role
from pro_server.staff.schemas import SiteRefSchema
from pro_server.validation import Phone, TimeZone

CODE = validate.Length(min=1, max=40)


class StudyArgsSchema(Schema):
    study = fields.String(validate=CODE, metadata={"description": "Study code (default: the "
                                                                  "only study)"})
    site = fields.String(validate=CODE, metadata={"description": "Only this site"})


class GridFilterSchema(StudyArgsSchema):
    status = fields.Enum(ParticipantStatus, by_value=True,
                         metadata={"description": "Only participants with this status"})
    q = fields.String(validate=validate.Length(max=40), load_default="",
                      metadata={"description": "Only subject keys containing this text "
                                               "(any case)"})


GRID_PAGE = 100
GRID_PAGE_MAX = 500


class GridArgsSchema(GridFilterSchema):
    limit = fields.Integer(load_default=GRID_PAGE,
                           validate=validate.Range(min=1, max=GRID_PAGE_MAX),
                           metadata={"description": "Participants per page"})
    after = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "The `next` cursor of the previous page: rows after this subject key"})


# --- overview ---------------------------------------------------------------------------------

class CountsSchema(Schema):
    on_time = fields.Integer()
    late = fields.Integer()
    missed = fields.Integer()
    open = fields.Integer(metadata={"description": "Open now, started or not"})
    upcoming = fields.Integer(metadata={"description": "Not open yet, or expected from a "
                                                      "planned infusion"})
    total = fields.Integer()
    completion_percent = fields.Integer(allow_none=True, metadata={
        "description": "Answered (on time or late) out of those whose window is over"})


class CodeCountsSchema(Schema):
    code = fields.String()
    counts = fields.Nested(CountsSchema)


class SiteCountsSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    participants = fields.Integer(metadata={
        "description": "Participants with at least one survey in the counts"})
    counts = fields.Nested(CountsSchema)
    assessments = fields.List(fields.Nested(CodeCountsSchema))


class LeftOutSchema(Schema):
    subject_key = fields.String()
    site_code = fields.String()
    status = fields.String(metadata={"description": "The participant's status"})


class StudyRefSchema(Schema):
    code = fields.String()
    name = fields.String()
    registry_id = fields.String(allow_none=True)


class OverviewSchema(Schema):
    study = fields.Nested(StudyRefSchema)
    as_of = fields.DateTime()
    site_choices = fields.List(fields.Nested(SiteRefSchema))
    buckets = fields.List(fields.String(), metadata={"description": ", ".join(BUCKETS)})
    assessments = fields.List(fields.Nested(CodeCountsSchema))
    sites = fields.List(fields.Nested(SiteCountsSchema))
    totals = fields.Nested(CountsSchema)
    left_out = fields.List(fields.Nested(LeftOutSchema), metadata={
        "description": "Participants with no survey in the counts (e.g. screening)"})


# --- grid -------------------------------------------------------------------------------------

class CellSchema(Schema):
    status = fields.String(metadata={"description": ", ".join(LABELS)})
    projected = fields.Boolean(metadata={"description": "Expected from a planned infusion "
                                                        "date; no assessment exists yet"})
    first_day = fields.Date(metadata={"description": "First local day of the window"})
    last_day = fields.Date(metadata={"description": "Last local day of the window"})
    completed_at = fields.DateTime(allow_none=True)
    missed_reason = fields.String(allow_none=True, metadata={
        "description": "Why a missed survey was missed, as a coordinator recorded it"})


class GridRowSchema(Schema):
    participant_id = fields.Integer()
    subject_key = fields.String()
    site_code = fields.String()
    status = fields.Enum(ParticipantStatus, by_value=True)
    timezone = fields.String()
    cells = fields.Dict(keys=fields.String(), values=fields.Nested(CellSchema))


class GridSchema(Schema):
    as_of = fields.DateTime()
    codes = fields.List(fields.String())
    site_choices = fields.List(fields.Nested(SiteRefSchema))
    total = fields.Integer(metadata={"description": "Participants matching the filters, on "
                                                    "every page"})
    next = fields.String(allow_none=True, metadata={
        "description": "Pass as `after` for the next page; null on the last page"})
    rows = fields.List(fields.Nested(GridRowSchema),
                       metadata={"description": "One page, in subject key order"})


# --- attention --------------------------------------------------------------------------------

class AttentionItemSchema(Schema):
    kind = fields.String(metadata={"description": ", ".join(KINDS)})
    heading = fields.String()
    action = fields.String(metadata={"description": "The next step"})
    participant_id = fields.Integer()
    subject_key = fields.String()
    site_code = fields.String()
    timezone = fields.String()
    at = fields.DateTime(allow_none=True)
    detail = fields.String()
    assessment_code = fields.String(allow_none=True)
    message_id = fields.Integer(allow_none=True)


class AttentionKindSchema(Schema):
    kind = fields.String()
    heading = fields.String()
    action = fields.String()


class AttentionSchema(Schema):
    as_of = fields.DateTime()
    site_choices = fields.List(fields.Nested(SiteRefSchema))
    kinds = fields.List(fields.Nested(AttentionKindSchema),
                        metadata={"description": "Every kind, most urgent first"})
    missed_reasons = fields.List(fields.Dict(), metadata={
        "description": "The reasons a missed survey may be given ({code, label}), in order"})
    items = fields.List(fields.Nested(AttentionItemSchema))


# --- one participant --------------------------------------------------------------------------

class TimelineEventSchema(Schema):
    at = fields.DateTime()
    all_day = fields.Boolean()
    kind = fields.String(metadata={"description": "enrolment, infusion, assessment, visit, "
                                                  "message, activity (what the participant "
                                                  "did: link opened, survey started, stopped "
                                                  "at page N of M, sent), reply, change, "
                                                  "withdrawal"})
    title = fields.String()
    status = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)
    ref = fields.Dict()


class AccessSchema(Schema):
    write = fields.Boolean()
    approve = fields.Boolean()


class TimelineSchema(Schema):
    participant_id = fields.Integer()
    timezone = fields.String()
    as_of = fields.DateTime()
    access = fields.Nested(AccessSchema)
    events = fields.List(fields.Nested(TimelineEventSchema))


class TrendPointSchema(Schema):
    at = fields.DateTime()
    assessment_code = fields.String()
    value = fields.Float(allow_none=True)
    reason = fields.String(allow_none=True)
    version = fields.Integer()
    response_id = fields.Integer()


class TrendSeriesSchema(Schema):
    instrument = fields.String()
    key = fields.String()
    label = fields.String()
    unit = fields.String(allow_none=True)
    min = fields.Float()
    max = fields.Float()
    higher_is_better = fields.Boolean()
    points = fields.List(fields.Nested(TrendPointSchema))


class InfusionMarkSchema(Schema):
    number = fields.Integer()
    at = fields.DateTime()


class TrendsSchema(Schema):
    participant_id = fields.Integer()
    series = fields.List(fields.Nested(TrendSeriesSchema))
    infusions = fields.List(fields.Nested(InfusionMarkSchema))


class ScoreOutSchema(Schema):
    key = fields.String()
    label = fields.String()
    value = fields.Float(allow_none=True)
    reason = fields.String(allow_none=True)


class AnswerOutSchema(Schema):
    item_id = fields.String()
    text = fields.String()
    value = fields.Raw(allow_none=True)
    label = fields.String()
    changed_at = fields.String(allow_none=True)


class ResponseVersionSchema(Schema):
    response_id = fields.Integer()
    assessment_code = fields.String()
    instrument = fields.String(metadata={"description": "Key into `instruments`"})
    instrument_code = fields.String()
    instrument_title = fields.String()
    version = fields.Integer()
    is_current = fields.Boolean()
    replaces_id = fields.Integer(allow_none=True)
    language = fields.String()
    submitted_at = fields.DateTime()
    recorded_at = fields.DateTime()
    recorded_by = fields.String()
    change_reason = fields.String(allow_none=True)
    change_source = fields.String(allow_none=True)
    scores = fields.List(fields.Nested(ScoreOutSchema))
    answers = fields.List(fields.Nested(AnswerOutSchema))


class ResponsesSchema(Schema):
    participant_id = fields.Integer()
    instruments = fields.Dict(metadata={"description": "Item types and allowed values by "
                                                       "instrument@version"})
    responses = fields.List(fields.Nested(ResponseVersionSchema))


# --- administration ---------------------------------------------------------------------------

class AdminUserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.Enum(Role, by_value=True)
    active = fields.Boolean()
    sites = fields.List(fields.Nested(SiteRefSchema))
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)
    locked_at = fields.DateTime(allow_none=True)
    must_change_password = fields.Boolean()
    second_factor_enabled_at = fields.DateTime(attribute="totp_enabled_at", allow_none=True)


class AdminUserCreateSchema(Schema):
    email = fields.Email(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.Enum(Role, by_value=True, required=True)
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=12, max=200))
    site_codes = fields.List(fields.String(validate=CODE), load_default=list)
    study_code = fields.String(validate=CODE)


class AdminUserUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    role = fields.Enum(Role, by_value=True)
    site_codes = fields.List(fields.String(validate=CODE))
    active = fields.Boolean()
    reason = fields.String(validate=validate.Length(min=3, max=500))
    study_code = fields.String(validate=CODE)


class AdminSiteSchema(Schema):
    id = fields.Integer()
    study_code = fields.String(attribute="study.code")
    code = fields.String()
    name = fields.String()
    timezone = fields.String()
    contact_phone = fields.String(allow_none=True)
    created_at = fields.DateTime()


class AdminSiteCreateSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Z0-9][A-Z0-9-]{0,39}$", error="Capital letters, digits and '-'"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    timezone = TimeZone(required=True)
    contact_phone = Phone(allow_none=True)
    study_code = fields.String(validate=CODE)


class AdminSiteUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    timezone = TimeZone()
    contact_phone = Phone(allow_none=True)
    reason = fields.String(validate=validate.Length(min=3, max=500))


# --- study-wide reports -----------------------------------------------------------------------

class WeekSchema(Schema):
    week = fields.String(metadata={"description": "ISO week, e.g. 2026-W09"})
    starts = fields.Date(metadata={"description": "Its Monday, in the study's time zone"})


class WeekCountSchema(Schema):
    week = fields.String(metadata={"description": "ISO week the windows closed in"})
    week_starts = fields.Date()
    site_code = fields.String(allow_none=True, metadata={"description": "null: every site "
                                                                        "in the report"})
    assessment_code = fields.String(allow_none=True, metadata={"description": "null: every "
                                                                              "assessment"})
    due = fields.Integer(metadata={"description": "Settled surveys: completed + missed"})
    completed = fields.Integer()
    missed = fields.Integer()
    rate_percent = fields.Float(allow_none=True, metadata={
        "description": "completed / due x 100, one decimal; null when nothing was due"})


class CompletionReportSchema(Schema):
    study = fields.Nested(StudyRefSchema)
    as_of = fields.DateTime()
    timezone = fields.String(metadata={"description": "The study's time zone the weeks are in"})
    rule = fields.String(metadata={"description": "What is counted, in words"})
    site_choices = fields.List(fields.Nested(SiteRefSchema))
    sites = fields.List(fields.Nested(SiteRefSchema), metadata={
        "description": "The sites this report covers"})
    codes = fields.List(fields.String(), metadata={"description": "Assessments in order"})
    weeks = fields.List(fields.Nested(WeekSchema), metadata={
        "description": "Every week from the first settled survey to the current one"})
    rows = fields.List(fields.Nested(WeekCountSchema), metadata={
        "description": "Per week: per site and assessment, and totals (null site or "
                       "assessment); weeks or combinations with nothing due are left out"})


class ScoreDistributionSchema(Schema):
    assessment_code = fields.String()
    n = fields.Integer(metadata={"description": "Participants with a score"})
    not_scored = fields.Integer(metadata={"description": "Answered, but unscored per the "
                                                         "manual (e.g. too many items missing)"})
    median = fields.Float(allow_none=True)
    q1 = fields.Float(allow_none=True, metadata={"description": "First quartile"})
    q3 = fields.Float(allow_none=True, metadata={"description": "Third quartile"})
    low = fields.Float(allow_none=True, metadata={"description": "Lowest score"})
    high = fields.Float(allow_none=True, metadata={"description": "Highest score"})


class ScoreSeriesSchema(Schema):
    instrument = fields.String()
    key = fields.String()
    label = fields.String()
    unit = fields.String(allow_none=True)
    scale_min = fields.Float()
    scale_max = fields.Float()
    higher_is_better = fields.Boolean()
    assessments = fields.List(fields.Nested(ScoreDistributionSchema))


class ScoreReportSchema(Schema):
    study = fields.Nested(StudyRefSchema)
    as_of = fields.DateTime()
    rule = fields.String(metadata={"description": "How the quartiles are computed"})
    quantile_method = fields.String(metadata={"description": "statistics.quantiles method"})
    site_choices = fields.List(fields.Nested(SiteRefSchema))
    sites = fields.List(fields.Nested(SiteRefSchema))
    codes = fields.List(fields.String())
    series = fields.List(fields.Nested(ScoreSeriesSchema))
