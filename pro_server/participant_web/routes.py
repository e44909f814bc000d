"""The participant API (/api/v1/p): a participant reads and writes only their own surveys.

The session comes from the link's token (POST /session); every other call needs it.
State-changing calls carry the CSRF token like the staff API does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from flask import Response, g
from flask.views import MethodView
from flask_wtf.csrf import generate_csrf

from pro_server.api_blueprint import Access, ApiBlueprint
from pro_server.context import Actor, ServiceContext
from pro_server.errors import Conflict, NotFound, TooManyRequests, Unauthorized
from pro_server.extensions import limiter
from pro_server.messaging import push
from pro_server.participant_web import access, ics, services
from pro_server.participant_web import session as web_session
from pro_server.participant_web.schemas import (
    AssessmentSchema,
    ChannelsSchema,
    DraftOutSchema,
    DraftSchema,
    HomeSchema,
    LangArgsSchema,
    NotificationsSchema,
    PushSubscribeSchema,
    PushUnsubscribeSchema,
    SessionOpenSchema,
    SessionSchema,
    SubmissionOutSchema,
    SubmissionSchema,
)
from pro_server.participants import services as participants
from pro_server.participants.links import LinkHolder
from pro_server.participants.models import Participant
from pro_server.responses.services import submit, submitted_before
from pro_server.web import context, current_request, settings, unit_of_work

DRAFT_ENDPOINT = "participant.DraftView"
SUBMISSION_ENDPOINT = "participant.SubmissionView"


def _authenticate() -> None:
    """Whether the participant's session stands, before anything sent is read. A draft
    save checks it with the assessment and drafts it saves to (`current_survey`), a
    submission with the assessment and drafts it submits (`current_submission`)."""
    req = current_request()
    endpoint, view_args = req.endpoint, req.view_args
    if endpoint == DRAFT_ENDPOINT and view_args:
        web_session.current_survey(view_args["assessment_id"])
    elif endpoint == SUBMISSION_ENDPOINT and view_args:
        web_session.current_submission(view_args["assessment_id"])
    else:
        web_session.current_participant()


PARTICIPANT = Access("participant", _authenticate, (("participantSession",),),
                     cookie=True).with_open("ParticipantSession")
blp = ApiBlueprint("participant", __name__, url_prefix="/api/v1/p",
                   description="The participant's own surveys and visits (participant session)",
                   access=PARTICIPANT)

MESSAGES = {
    "link_expired": "This link has expired or is no longer valid",
    "second_factor_required": "Enter your second factor",
    "second_factor_wrong": "That does not match what your study team recorded",
    "second_factor_locked": "Too many wrong answers; try again later",
    "second_factor_not_set": "Your study team has not set up your sign-in yet",
}


def _attempt_limit() -> str:
    return settings().login_rate_limit


def _counted(_response: Response) -> bool:
    return bool(g.get("participant_failed_attempt"))


def _actor(p: Participant | access.ParticipantRef) -> Actor:
    return access.participant_actor(p)


def _session(p: Participant | LinkHolder) -> services.SessionRead:
    return services.SessionRead(p, csrf_token=generate_csrf())


@blp.route("/session")
class ParticipantSession(MethodView):
    decorators: ClassVar[list[Callable[..., Any]]] = [
        limiter.limit(_attempt_limit, methods=["POST"], deduct_when=_counted)]

    @blp.arguments(SessionOpenSchema)
    @blp.response(200, SessionSchema)
    @blp.alt_response(401, description="errors.state: link_expired, second_factor_required "
                      "(errors.kind: birth_year or pin; errors.language), second_factor_wrong, "
                      "second_factor_not_set")
    @blp.alt_response(429, description="Too many failed attempts from this address, or "
                      "errors.state second_factor_locked")
    def post(self, body):
        """Open a participant session from a link's token (and second factor, if the study asks).

        Ends any staff session in this browser. Failed attempts are rate-limited."""
        with unit_of_work(Actor(type="anonymous", label="participant link")) as ctx:
            outcome = access.open_session(ctx, body["token"], body.get("second_factor"))
        if outcome.state is not None:
            g.participant_failed_attempt = outcome.failed_attempt
            errors = {"state": outcome.state, "kind": outcome.kind, "language": outcome.language}
            error = TooManyRequests if outcome.state == "second_factor_locked" else Unauthorized
            raise error(MESSAGES[outcome.state], {k: v for k, v in errors.items() if v})
        participant, link_id = outcome.participant, outcome.link_id
        assert participant is not None  # an opened session has both
        assert link_id is not None
        web_session.start(participant.id, link_id)
        return _session(participant)

    @blp.response(200, SessionSchema)
    @blp.alt_response(401, description="errors.state: no_session or link_expired")
    def get(self):
        """The signed-in participant (the page calls this when it opens without a token)."""
        return _session(web_session.current_participant())

    @blp.response(204)
    def delete(self):
        """End the participant session in this browser."""
        web_session.end()


@blp.route("/home")
class Home(MethodView):
    @blp.response(200, HomeSchema)
    def get(self):
        """What is due and until when, upcoming surveys and visits, and what was completed."""
        p = web_session.current_participant()
        return services.home(context(_actor(p)), p)


@blp.route("/assessments/<int:assessment_id>")
class AssessmentById(MethodView):
    @blp.arguments(LangArgsSchema, location="query")
    @blp.response(200, AssessmentSchema)
    def get(self, args, assessment_id):
        """One of the participant's surveys: its state, and while open its questions in
        `lang` (default: the participant's language), the answers saved and where to resume.
        Another participant's survey is 404."""
        p = web_session.current_participant()
        ctx = context(_actor(p))
        a = services.own_assessment(ctx, p, assessment_id)
        return services.survey(ctx, p, a, args.get("lang", p.language))


@blp.route("/assessments/<int:assessment_id>/draft")
class DraftView(MethodView):
    @blp.arguments(DraftSchema)
    @blp.response(200, DraftOutSchema)
    @blp.alt_response(409, description="The survey is not open (errors.state)")
    @blp.alt_response(422, description="An answer is out of range or names an unknown item")
    def patch(self, body, assessment_id):
        """Save answers to one instrument as the participant goes (each keeps its timestamp);
        the first save starts the survey. Only inside the window (or the grace period of a
        survey already started)."""
        survey = web_session.current_survey(assessment_id)
        a = survey.assessment
        if a is None:
            raise NotFound("Survey not found")
        with unit_of_work(_actor(survey.participant)) as ctx:
            return services.save_answers(ctx, a, body["instrument"], body.get("answers") or {},
                                         body["language"], body.get("screen"),
                                         body.get("page"), body.get("pages"),
                                         drafts=survey.drafts)


@blp.route("/assessments/<int:assessment_id>/submission")
class SubmissionView(MethodView):
    @blp.arguments(SubmissionSchema)
    @blp.response(201, SubmissionOutSchema)
    @blp.alt_response(200, schema=SubmissionOutSchema,
                      description="A resend of a submission already stored (same key)")
    @blp.alt_response(409, description="Closed, not open yet, or already completed "
                      "(errors.state)")
    @blp.alt_response(422, description="Answers missing, out of range or unknown")
    def post(self, body, assessment_id):
        """Submit the survey once: the answers given here over those saved. Resending with
        the same idempotency key returns the stored submission and stores nothing new."""
        standing = web_session.current_submission(assessment_id)
        p, a = standing.participant, standing.assessment
        if a is None:
            raise NotFound("Survey not found")
        key = body["idempotency_key"]
        try:
            with unit_of_work(_actor(p)) as ctx:
                stored, created = submit(ctx, a, key, body["answers"], body["language"],
                                         drafted=standing.drafted)
        except Conflict:
            # A resend of a submission stored first (a concurrent one may have won the
            # race), or a key of another survey's (`submit` looks a key up only then).
            ctx = context(_actor(p))
            a = services.own_assessment(ctx, p, assessment_id)
            found = submitted_before(ctx, a, key)
            if found is None:
                raise
            stored, created = found, False
        return services.SubmissionRead(stored, standing.timezone), 201 if created else 200


@blp.route("/visits/<int:visit_id>/calendar.ics")
class VisitCalendar(MethodView):
    @blp.arguments(LangArgsSchema, location="query")
    @blp.response(200, content_type="text/calendar",
                  description="An iCalendar file with the visit in the participant's time zone")
    def get(self, args, visit_id):
        """Add one of the participant's upcoming visits to a calendar."""
        p = web_session.current_participant()
        ctx = context(_actor(p))
        visit = services.own_visit(ctx, p, visit_id)
        body = ics.visit_calendar(visit, p, lang=args.get("lang", p.language),
                                  public_base_url=ctx.settings.public_base_url, stamp=ctx.now())
        day = visit.starts_at.date().isoformat()
        return Response(body, mimetype="text/calendar", headers={
            "Content-Disposition": f'attachment; filename="study-visit-{day}.ics"',
            "Cache-Control": "no-store"})


def _notifications(ctx: ServiceContext, p: Participant) -> services.NotificationsRead:
    on = push.enabled(ctx.settings)
    return services.NotificationsRead(
        p, available=on, public_key=ctx.settings.vapid_public_key if on else None,
        devices=len(push.subscriptions(ctx, p)))


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.response(200, NotificationsSchema)
    def get(self):
        """Whether push notifications can be turned on, the key the browser subscribes
        with, the participant's reminder channels and how many devices have them on."""
        p = web_session.current_participant()
        return _notifications(context(_actor(p)), p)


@blp.route("/notifications/subscription")
class PushSubscriptionView(MethodView):
    @blp.arguments(PushSubscribeSchema)
    @blp.response(200, NotificationsSchema)
    def put(self, body):
        """Turn notifications on for this device (the browser's push subscription, stored
        encrypted); the same device again replaces its earlier subscription."""
        p = web_session.current_participant()
        with unit_of_work(_actor(p)) as ctx:
            push.subscribe(ctx, p, body)
            return _notifications(ctx, p)

    @blp.arguments(PushUnsubscribeSchema)
    @blp.response(200, NotificationsSchema)
    def delete(self, body):
        """Turn notifications off for this device."""
        p = web_session.current_participant()
        with unit_of_work(_actor(p)) as ctx:
            push.remove_by_endpoint(ctx, p, body["endpoint"])
            return _notifications(ctx, p)


@blp.route("/notifications/channels")
class ChannelsView(MethodView):
    @blp.arguments(ChannelsSchema)
    @blp.response(200, NotificationsSchema)
    def put(self, body):
        """Choose how reminders come, in order (e.g. push, then SMS); audited."""
        p = web_session.current_participant()
        with unit_of_work(_actor(p)) as ctx:
            p = ctx.session.merge(p)
            participants.update(ctx, p, {"reminder_channels": body["reminder_channels"]})
            return _notifications(ctx, p)
