"""Request and response shapes of the participant API and the staff link endpoints."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from pro_server.participant_web.second_factor import KINDS, STUDY_CHOICES
from pro_server.validation import LANGUAGES

REASON = validate.Length(min=3, max=500)
KEY = validate.Regexp(r"^[A-Za-z0-9_-]{16,80}$",
                      error="16 to 80 letters, digits, '-' or '_' (e.g. a UUID)")
MAX_PAGES = 1000  # screens in one survey; the longest today has about 40
ITEM_ID_LENGTH = (1, 60)


class ItemAnswers(fields.Dict):
    """item id -> value: marshmallow's Dict of an id (1 to 60 characters) to any value.

    Answers come with every draft save and submission; marshmallow deserializes each id and
    each value through its fields (a tenth of a submission's CPU). An object whose ids are all
    text of an accepted length is taken as it is, which is what those fields give; anything
    else goes through them, so what is refused, and the message, stay theirs."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        low, high = ITEM_ID_LENGTH
        if type(value) is dict and all(type(k) is str and low <= len(k) <= high
                                       for k in value):
            return dict(value)
        return super()._deserialize(value, attr, data, **kwargs)


ANSWERS = ItemAnswers(keys=fields.String(validate=validate.Length(*ITEM_ID_LENGTH)),
                      values=fields.Raw(allow_none=True),
                      metadata={"description": "item id -> value (null = not answered)"})


# --- participant side --------------------------------------------------------------------

class SessionOpenSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=16, max=128),
                          metadata={"description": "The token from the link's fragment"})
    second_factor = fields.String(validate=validate.Length(min=1, max=20),
                                  metadata={"description": "Birth year or PIN, when asked"})


class LangArgsSchema(Schema):
    lang = fields.String(validate=validate.OneOf(LANGUAGES))


class ContactSchema(Schema):
    """Dumps a Participant: their study team's contact."""

    program = fields.String(attribute="study.program_name")
    site = fields.String(attribute="site.name")
    phone = fields.String(attribute="site.contact_phone", allow_none=True)


class SessionSchema(Schema):
    """Dumps a `SessionRead`."""

    participant_id = fields.Integer(attribute="id")
    language = fields.String(metadata={"description": "The participant's preferred language"})
    timezone = fields.String()
    contact = fields.Nested(ContactSchema, attribute="model")
    csrf_token = fields.String(metadata={"description": "Send as X-CSRFToken from now on"})


class InstantSchema(Schema):
    at = fields.String(metadata={"description": "UTC instant, ISO 8601"})
    local = fields.String(metadata={"description": "The same instant in the participant's zone"})
    end_of_day = fields.String(allow_none=True, metadata={
        "description": "When the instant is local midnight: the local date that ends there"})


class AssessmentSummarySchema(Schema):
    id = fields.Integer()
    code = fields.String()
    status = fields.String()
    state = fields.String(metadata={
        "description": "open, not_open, closed, completed or cancelled"})
    opens = fields.Nested(InstantSchema)
    closes = fields.Nested(InstantSchema)
    finish_by = fields.Nested(InstantSchema, allow_none=True, metadata={
        "description": "Started surveys can be finished until the window end plus the grace"})
    instrument_count = fields.Integer()
    expected_minutes = fields.Integer(metadata={
        "description": "About how long the survey takes, from its instruments' item counts"})
    percent_done = fields.Integer(allow_none=True, metadata={
        "description": "A started survey: the share of its questions answered so far (0-100)"})
    completed_on = fields.String(allow_none=True)


class VisitSchema(Schema):
    id = fields.Integer()
    starts = fields.Nested(InstantSchema)
    duration_minutes = fields.Integer()
    mode = fields.String()
    join_url = fields.String(allow_none=True)
    calendar_url = fields.String()


class HistorySchema(Schema):
    id = fields.Integer()
    code = fields.String()
    completed_on = fields.String()


class HomeSchema(Schema):
    now = fields.String()
    timezone = fields.String()
    due = fields.List(fields.Nested(AssessmentSummarySchema))
    upcoming = fields.List(fields.Nested(AssessmentSummarySchema))
    visits = fields.List(fields.Nested(VisitSchema))
    history = fields.List(fields.Nested(HistorySchema), metadata={
        "description": "Completed surveys, dates only (never scores)"})
    contact = fields.Nested(ContactSchema)  # the participant


class AssessmentSchema(AssessmentSummarySchema):
    timezone = fields.String()
    language = fields.String()
    instruments = fields.List(fields.Dict(), metadata={
        "description": "Public definitions in `language` (only while the survey is open)"})
    answers = fields.Dict(keys=fields.String(), values=fields.Dict(), metadata={
        "description": "Answers saved so far: instrument -> item -> value"})
    position = fields.String(allow_none=True, metadata={
        "description": "The screen the participant reached last, to resume there"})


class DraftSchema(Schema):
    instrument = fields.String(required=True, validate=validate.Length(min=1, max=40))
    answers = ANSWERS
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    screen = fields.String(validate=validate.Length(min=1, max=120), allow_none=True,
                           metadata={"description": "The screen reached, to resume there"})
    page = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGES), metadata={
        "description": "That screen's number as the participant sees it (page N of M); with "
                       "`pages` and `screen`. Shown to the study team, never the answers"})
    pages = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGES), metadata={
        "description": "How many screens the survey has now (M)"})

    @validates_schema
    def _page_of_pages(self, data, **_kwargs):
        page, pages = data.get("page"), data.get("pages")
        if (page is None) != (pages is None):
            missing = "pages" if pages is None else "page"
            raise ValidationError("Send page and pages together", missing)
        if page is not None and not data.get("screen"):
            raise ValidationError("A page number needs the screen it is", "screen")
        if page is not None and page > pages:
            raise ValidationError(f"Page {page} is beyond the {pages} pages", "page")


class DraftOutSchema(Schema):
    instrument = fields.String()
    saved_at = fields.String()
    answers = fields.Dict(metadata={"description": "item -> {value, answered_at}"})


class SubmissionSchema(Schema):
    idempotency_key = fields.String(required=True, validate=KEY, metadata={
        "description": "Made once by the page; a resend with the same key is stored once"})
    answers = fields.Dict(keys=fields.String(), values=ANSWERS, load_default=dict, metadata={
        "description": "instrument -> item -> value; merged over the saved answers"})
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))


class SubmissionOutSchema(Schema):
    assessment_id = fields.Integer()
    idempotency_key = fields.String()
    received = fields.Nested(InstantSchema)
    state = fields.String()


# --- staff side --------------------------------------------------------------------------

class LinkIssueSchema(Schema):
    revoke_others = fields.Boolean(load_default=False, metadata={
        "description": "End every earlier link of this participant (needs a reason)"})
    reason = fields.String(validate=REASON)


class LinkOutSchema(Schema):
    url = fields.String(metadata={"description": "Shown once; only its hash is stored"})
    expires_at = fields.DateTime()
    links_revoked = fields.Integer()


class RevokeSchema(Schema):
    reason = fields.String(required=True, validate=REASON)


class RevokeOutSchema(Schema):
    links_revoked = fields.Integer()


class SecondFactorSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    value = fields.String(required=True, load_only=True, validate=validate.Length(min=4, max=20))


class SecondFactorOutSchema(Schema):
    kind = fields.String(allow_none=True)
    study_requires = fields.String()


class StudyWebSettingsSchema(Schema):
    second_factor = fields.String(required=True, validate=validate.OneOf(STUDY_CHOICES))


class PushKeysSchema(Schema):
    p256dh = fields.String(required=True, validate=validate.Length(min=20, max=200))
    auth = fields.String(required=True, validate=validate.Length(min=8, max=100))


class PushSubscribeSchema(Schema):
    """What the browser's PushSubscription.toJSON() gives, and a name for the device."""

    endpoint = fields.String(required=True, validate=validate.Length(min=10, max=2000))
    keys = fields.Nested(PushKeysSchema, required=True)
    device_label = fields.String(validate=validate.Length(max=80))


class PushUnsubscribeSchema(Schema):
    endpoint = fields.String(required=True, validate=validate.Length(min=10, max=2000))


class ChannelsSchema(Schema):
    reminder_channels = fields.List(fields.String(), required=True, metadata={
        "description": "Channels in order of preference (sms, push, email)"})


class NotificationsSchema(Schema):
    available = fields.Boolean(metadata={"description": "Push is configured on the server"})
    public_key = fields.String(allow_none=True, metadata={
        "description": "The VAPID public key (applicationServerKey)"})
    reminder_channels = fields.List(fields.String())
    devices = fields.Integer(metadata={"description": "Devices with notifications on"})
