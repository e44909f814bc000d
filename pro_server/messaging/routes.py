"""Messages for staff: the site-scoped message log, flagged replies, review, remind now."""

from flask.views import MethodView
from sqlalchemy import Select, func, select

from pro_server.access import policy
from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.errors import NotFound
from pro_server.messaging import push, services
from pro_server.messaging.log import log_csv, log_query
from pro_server.messaging.models import InboundMessage, OutboxMessage
from pro_server.messaging.schemas import (
    InboundListArgsSchema,
    InboundSchema,
    MessageListArgsSchema,
    MessageSchema,
    PushDeviceSchema,
    ReminderChannelsSchema,
    RemindNowResultSchema,
    RemindNowSchema,
    RemoveDeviceSchema,
    ResolveInboundSchema,
    ResolveMessageSchema,
)
from pro_server.participants import reminder_channels
from pro_server.participants.lookup import load_participant
from pro_server.spreadsheet_csv import csv_response
from pro_server.staff.signed_in import current_staff, staff_actor
from pro_server.studies.models import Site
from pro_server.web import db_session, settings, unit_of_work

blp = ApiBlueprint("messages", __name__, url_prefix="/api/v1",
                   description="SMS and web messages, replies, and their review", access=STAFF)


def _page(query: Select, order, pagination_parameters) -> list:
    session = db_session()
    pagination_parameters.item_count = session.scalar(
        select(func.count()).select_from(query.subquery()))
    return list(session.scalars(query.order_by(*order)
                                .offset(pagination_parameters.first_item)
                                .limit(pagination_parameters.page_size)))


def _filtered(model, args: dict) -> Select:
    """Rows of the caller's sites, with the filters every list shares."""
    query = select(model).where(model.site_id.in_(policy.readable_site_ids(current_staff())))
    if "site" in args:
        query = query.where(model.site_id.in_(select(Site.id).where(Site.code == args["site"])))
    for name in ("participant_id", "status", "purpose", "channel", "kind", "needs_review"):
        if name in args:
            query = query.where(getattr(model, name) == args[name])
    return query


@blp.route("/messages")
class Messages(MethodView):
    @blp.arguments(MessageListArgsSchema, location="query")
    @blp.response(200, MessageSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """The message log of the caller's sites: what happened, newest event first, or with
        `upcoming=true` the texts still to go out (filters: site, status, purpose, channel,
        participant_id, subject_key, since, until, needs_review)."""
        query, order = _log(args)
        return _page(query, order, pagination_parameters)


def _log(args: dict) -> tuple[Select, tuple]:
    return log_query(_filtered(OutboxMessage, args), args)


@blp.route("/messages.csv")
class MessagesCsv(MethodView):
    @blp.arguments(MessageListArgsSchema, location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, args):
        """The message log with the same filters as CSV (every matching row; times in the
        participant's zone; error codes with their meaning; texts without their link)."""
        query, order = _log(args)
        return csv_response(log_csv(db_session().scalars(query.order_by(*order))),
                            "message-log.csv")


def _load(model, item_id: int, what: str):
    item = db_session().get(model, item_id)
    if item is None or item.site_id is None:
        raise NotFound(f"{what} not found")
    policy.check_site(current_staff(), item.site_id, write=True, what=what)
    return item


@blp.route("/messages/<int:message_id>/resolve")
class ResolveMessage(MethodView):
    @blp.alt_response(409, description="The message is not waiting for review")
    @blp.arguments(ResolveMessageSchema)
    @blp.response(200, MessageSchema)
    def post(self, body, message_id):
        """Mark a message's review item handled (reason required; audited). For a message
        interrupted while sending, `outcome` says what the provider's log shows."""
        message = _load(OutboxMessage, message_id, "Message")
        with unit_of_work(staff_actor(current_staff())) as ctx:
            services.resolve_message(ctx, message, body["reason"], body.get("outcome"))
        return message


@blp.route("/inbound-messages")
class InboundMessages(MethodView):
    @blp.arguments(InboundListArgsSchema, location="query")
    @blp.response(200, InboundSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Replies from participants of the caller's sites; `needs_review=true` gives the
        flagged ones (free text, possible opt-outs)."""
        return _page(_filtered(InboundMessage, args),
                     (InboundMessage.received_at.desc(), InboundMessage.id.desc()),
                     pagination_parameters)


@blp.route("/inbound-messages/<int:inbound_id>/resolve")
class ResolveInbound(MethodView):
    @blp.alt_response(409, description="The reply is not waiting for review")
    @blp.arguments(ResolveInboundSchema)
    @blp.response(200, InboundSchema)
    def post(self, body, inbound_id):
        """Mark a flagged reply handled (reason required; audited); `apply_opt_out` stops
        all SMS when the reply asked for that in its own words."""
        message = _load(InboundMessage, inbound_id, "Reply")
        with unit_of_work(staff_actor(current_staff())) as ctx:
            services.resolve_inbound(ctx, message, body["reason"], body["apply_opt_out"])
        return message


def _unmatched(inbound_id: int) -> InboundMessage:
    policy.require(current_staff(), policy.Capability.administer)
    item = db_session().get(InboundMessage, inbound_id)
    if item is None or item.participant_id is not None:
        raise NotFound("Unmatched reply not found")
    return item


@blp.route("/inbound-messages/unmatched")
class UnmatchedInbound(MethodView):
    @blp.arguments(InboundListArgsSchema, location="query")
    @blp.response(200, InboundSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Admin: replies from numbers that match no participant (wrong or changed number,
        a participant enrolled under another number); `needs_review=true` gives the queue."""
        policy.require(current_staff(), policy.Capability.administer)
        query = select(InboundMessage).where(InboundMessage.participant_id.is_(None))
        for name in ("kind", "needs_review"):
            if name in args:
                query = query.where(getattr(InboundMessage, name) == args[name])
        return _page(query, (InboundMessage.received_at.desc(), InboundMessage.id.desc()),
                     pagination_parameters)


@blp.route("/inbound-messages/unmatched/<int:inbound_id>/resolve")
class ResolveUnmatched(MethodView):
    @blp.arguments(ResolveInboundSchema)
    @blp.response(200, InboundSchema)
    def post(self, body, inbound_id):
        """Admin: mark an unmatched reply handled, saying what was done (audited)."""
        message = _unmatched(inbound_id)
        with unit_of_work(staff_actor(current_staff())) as ctx:
            services.resolve_inbound(ctx, message, body["reason"], body["apply_opt_out"])
        return message


@blp.route("/participants/<int:participant_id>/remind-now")
class RemindNow(MethodView):
    @blp.alt_response(409, description="The participant is not enrolled or has no survey open now")
    @blp.arguments(RemindNowSchema)
    @blp.response(202, RemindNowResultSchema)
    def post(self, body, participant_id):
        """Queue a reminder for the participant's open survey now. It is not forced:
        opt-out, consent and quiet hours still apply (audited)."""
        user = current_staff()
        p = load_participant(user, participant_id, write=True)
        with unit_of_work(staff_actor(user)) as ctx:
            rows, blocked = services.remind_now(ctx, p, body.get("reason"))
        return {"messages": rows, "sms_blocked_reason": blocked}


@blp.route("/reminder-channels")
class ReminderChannels(MethodView):
    @blp.response(200, ReminderChannelsSchema)
    def get(self):
        """The channels staff may choose for a participant's reminders on this server."""
        current_staff()
        return {"available": [c.value for c in reminder_channels.available(settings())]}


@blp.route("/participants/<int:participant_id>/push-devices")
class PushDevices(MethodView):
    @blp.response(200, PushDeviceSchema(many=True))
    def get(self, participant_id):
        """The participant's devices with push notifications on (no endpoint or keys)."""
        user = current_staff()
        p = load_participant(user, participant_id)
        with unit_of_work(staff_actor(user)) as ctx:
            return push.subscriptions(ctx, p)


@blp.route("/participants/<int:participant_id>/push-devices/<int:device_id>")
class PushDevice(MethodView):
    @blp.arguments(RemoveDeviceSchema)
    @blp.response(204)
    def delete(self, body, participant_id, device_id):
        """Stop push notifications to one of the participant's devices (a lost phone);
        audited with the reason."""
        user = current_staff()
        p = load_participant(user, participant_id, write=True)
        with unit_of_work(staff_actor(user)) as ctx:
            push.remove(ctx, p, device_id, f"removed by staff: {body['reason']}")
