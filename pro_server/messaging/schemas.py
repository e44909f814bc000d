from marshmallow import Schema, fields, validate

from pro_server.messaging.error_meanings import error_meaning
from pro_server.messaging.keywords import InboundKind
from pro_server.messaging.purposes import MessageStatus, Purpose
from pro_server.messaging.services import OUTCOMES
from pro_server.participants.reminder_channels import Channel
from pro_server.validation import Id

REASON = validate.Length(min=3, max=500)


class MessageListArgsSchema(Schema):
    site = fields.String(validate=validate.Length(min=1, max=40))
    participant_id = Id()
    status = fields.String(validate=validate.OneOf([s.value for s in MessageStatus]))
    purpose = fields.String(validate=validate.OneOf([p.value for p in Purpose]))
    channel = fields.String(validate=validate.OneOf([c.value for c in Channel]))
    needs_review = fields.Boolean()
    subject_key = fields.String(validate=validate.Length(min=1, max=40),
                                metadata={"description": "One participant, by subject key"})
    since = fields.AwareDateTime(metadata={"description": "Events at or after this instant"})
    until = fields.AwareDateTime(metadata={"description": "Events before this instant"})
    upcoming = fields.Boolean(load_default=False, metadata={
        "description": "false (default): what happened, newest event first; true: what is "
                       "still to go out (pending), soonest due first"})


class MessageSchema(Schema):
    id = fields.Integer()
    participant_id = fields.Integer()
    subject_key = fields.String(attribute="participant.subject_key")
    site_code = fields.String(attribute="participant.site.code")
    channel = fields.String()
    purpose = fields.String()
    target_kind = fields.String()
    target_id = fields.Integer()
    occurrence = fields.Integer()
    dedup_key = fields.String()
    language = fields.String()
    status = fields.String()
    status_reason = fields.String(allow_none=True)
    fallback_of_id = fields.Integer(allow_none=True, metadata={
        "description": "Sent on this channel because this earlier message (the "
                       "participant's preferred channel) could not deliver"})
    due_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    attempts = fields.Integer()
    last_attempt_at = fields.DateTime(allow_none=True)
    provider_message_id = fields.String(allow_none=True)
    last_error_code = fields.String(allow_none=True)
    last_error_message = fields.String(allow_none=True)
    error_meaning = fields.Function(
        lambda m: error_meaning(m.last_error_code), allow_none=True,
        metadata={"description": "The provider's error code in plain language"})
    event_at = fields.DateTime(attribute="status_updated_at", metadata={
        "description": "When the message reached its current status (the log's order)"})
    body_redacted = fields.String(
        allow_none=True, metadata={"description": "The text as sent, the link as [link]"})
    included_opt_out = fields.Boolean()
    sent_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    needs_review = fields.Boolean()
    review_reason = fields.String(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class InboundListArgsSchema(Schema):
    site = fields.String(validate=validate.Length(min=1, max=40))
    participant_id = Id()
    kind = fields.String(validate=validate.OneOf([k.value for k in InboundKind]))
    needs_review = fields.Boolean(metadata={"description": "true: the review queue"})


class InboundSchema(Schema):
    id = fields.Integer()
    participant_id = fields.Integer(allow_none=True)
    # null for a reply from a number that matches no participant (the unmatched queue)
    subject_key = fields.Function(
        lambda m: m.participant.subject_key if m.participant else None, allow_none=True,
        metadata={"type": "string"})
    site_code = fields.Function(
        lambda m: m.participant.site.code if m.participant else None, allow_none=True,
        metadata={"type": "string"})
    from_masked = fields.String(allow_none=True, metadata={
        "description": "The sender's number with all but the last 4 digits hidden"})
    kind = fields.String()
    body = fields.String()
    received_at = fields.DateTime()
    needs_review = fields.Boolean()
    reviewed_at = fields.DateTime(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    review_note = fields.String(allow_none=True)


class ResolveMessageSchema(Schema):
    reason = fields.String(required=True, validate=REASON)
    outcome = fields.String(
        validate=validate.OneOf(OUTCOMES),
        metadata={"description": "Only for a message interrupted while sending: what the "
                                 "provider's log shows (sent, not_sent) or resend"})


class ResolveInboundSchema(Schema):
    reason = fields.String(required=True, validate=REASON)
    apply_opt_out = fields.Boolean(load_default=False)


class RemindNowSchema(Schema):
    reason = fields.String(validate=REASON)


class RemindNowResultSchema(Schema):
    messages = fields.List(fields.Nested(MessageSchema))
    sms_blocked_reason = fields.String(allow_none=True)


class PushDeviceSchema(Schema):
    id = fields.Integer()
    device_label = fields.String(allow_none=True)
    created_at = fields.DateTime()
    last_sent_at = fields.DateTime(allow_none=True)


class RemoveDeviceSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


class ReminderChannelsSchema(Schema):
    available = fields.List(fields.String(), metadata={
        "description": "The channels a participant's reminders may use on this server (push "
                       "only when its VAPID keys are set)", "example": ["sms", "push"]})
