"""Schedules: a participant's calendar, infusions, virtual visits, the study calendar,
and protocol amendments."""

from datetime import UTC, datetime, time, timedelta

from flask.views import MethodView
from sqlalchemy import and_, or_, select

from pro_server.access import policy
from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.errors import NotFound
from pro_server.local_time import utc_to_local
from pro_server.participants.lookup import load_participant
from pro_server.participants.models import Participant
from pro_server.schedule import amendments, infusions, visits
from pro_server.schedule.assessments import grace
from pro_server.schedule.models import Assessment, Visit
from pro_server.schedule.schemas import (
    AmendmentResultSchema,
    AmendmentSchema,
    CalendarArgsSchema,
    CalendarEventSchema,
    InfusionSchema,
    ReasonSchema,
    ScheduleSchema,
    VisitCreateSchema,
    VisitOutSchema,
    VisitRescheduleSchema,
)
from pro_server.schedule.views import schedule_view, visit_view
from pro_server.staff.account_routes import require_signature
from pro_server.staff.security import Meaning
from pro_server.staff.signed_in import current_staff, staff_actor
from pro_server.studies.models import Site
from pro_server.studies.services import get_study
from pro_server.web import context, db_session, unit_of_work

blp = ApiBlueprint("schedule", __name__, url_prefix="/api/v1",
                   description="Protocol schedules, infusions, visits, amendments", access=STAFF)


def _visits(p: Participant) -> list[Visit]:
    return list(db_session().scalars(
        select(Visit).where(Visit.participant_id == p.id).order_by(Visit.starts_at)))


def _schedule(user, p: Participant) -> dict:
    return schedule_view(context(staff_actor(user)), p, _visits(p))


def _visit(p: Participant, visit_id: int) -> Visit:
    visit = db_session().get(Visit, visit_id)
    if visit is None or visit.participant_id != p.id:
        raise NotFound("Visit not found")
    return visit


@blp.route("/participants/<int:participant_id>/schedule")
class ParticipantSchedule(MethodView):
    @blp.response(200, ScheduleSchema)
    def get(self, participant_id):
        """Every assessment with its window in local time and UTC, infusions and visits."""
        user = current_staff()
        return _schedule(user, load_participant(user, participant_id))


@blp.route("/participants/<int:participant_id>/infusions/<int:number>")
class InfusionByNumber(MethodView):
    @blp.alt_response(409, description="The infusion cannot be recorded so in the participant's "
                      "state")
    @blp.arguments(InfusionSchema)
    @blp.response(200, ScheduleSchema)
    def put(self, body, participant_id, number):
        """Record infusion `number` as planned, given or not given (a change needs a reason)."""
        user = current_staff()
        p = load_participant(user, participant_id, write=True)
        with unit_of_work(staff_actor(user)) as ctx:
            infusions.record_infusion(ctx, p, number, **body)
        return _schedule(user, p)


@blp.route("/participants/<int:participant_id>/visits")
class Visits(MethodView):
    @blp.alt_response(409, description="Visits are scheduled for enrolled participants only")
    @blp.arguments(VisitCreateSchema)
    @blp.response(201, VisitOutSchema)
    def post(self, body, participant_id):
        """Schedule a virtual visit at a local date and time."""
        user = current_staff()
        p = load_participant(user, participant_id, write=True)
        with unit_of_work(staff_actor(user)) as ctx:
            visit = visits.schedule_visit(ctx, p, **body)
        return visit_view(visit)


@blp.route("/participants/<int:participant_id>/visits/<int:visit_id>")
class VisitById(MethodView):
    @blp.alt_response(409, description="A completed or cancelled visit cannot be rescheduled")
    @blp.arguments(VisitRescheduleSchema)
    @blp.response(200, VisitOutSchema)
    def patch(self, body, participant_id, visit_id):
        """Reschedule a visit (reason required); its old reminders are cancelled."""
        user = current_staff()
        p = load_participant(user, participant_id, write=True)
        visit = _visit(p, visit_id)
        with unit_of_work(staff_actor(user)) as ctx:
            visits.reschedule_visit(ctx, visit, **body)
        return visit_view(visit)


@blp.route("/participants/<int:participant_id>/visits/<int:visit_id>/cancel")
class VisitCancel(MethodView):
    @blp.alt_response(409, description="The visit is already completed or cancelled")
    @blp.arguments(ReasonSchema)
    @blp.response(200, VisitOutSchema)
    def post(self, body, participant_id, visit_id):
        """Cancel a visit (reason required); the participant gets one notice."""
        user = current_staff()
        p = load_participant(user, participant_id, write=True)
        visit = _visit(p, visit_id)
        with unit_of_work(staff_actor(user)) as ctx:
            visits.cancel_visit(ctx, visit, reason=body["reason"])
        return visit_view(visit)


@blp.route("/calendar")
class Calendar(MethodView):
    @blp.arguments(CalendarArgsSchema, location="query")
    @blp.response(200, CalendarEventSchema(many=True))
    def get(self, args):
        """Windows opening and closing, and visits, in a date range, for the caller's sites."""
        user = current_staff()
        session = db_session()
        site_ids = policy.readable_site_ids(user)
        if "site" in args:
            site_ids = {s for s in site_ids if session.get(Site, s).code == args["site"]}
        # The range is read generously in UTC; each event is then kept by its local date.
        lo = datetime.combine(args["start"], time(0), tzinfo=UTC) - timedelta(days=1)
        hi = datetime.combine(args["end"], time(0), tzinfo=UTC) + timedelta(days=2)
        ctx = context(staff_actor(user))
        events = []
        rows = session.scalars(select(Assessment).where(
            Assessment.site_id.in_(site_ids),
            or_(and_(Assessment.window_start >= lo, Assessment.window_start < hi),
                and_(Assessment.window_end >= lo, Assessment.window_end < hi))))
        for a in rows:
            status = a.status_at(ctx.now(), grace(ctx))
            for kind, at in (("window_opens", a.window_start), ("window_closes", a.window_end)):
                events.append(_event(kind, at, a.participant, a.code, status))
        for v in session.scalars(select(Visit).where(
                Visit.site_id.in_(site_ids), Visit.starts_at >= lo, Visit.starts_at < hi)):
            events.append(_event("visit", v.starts_at, v.participant, None, v.status))
        return sorted(
            (e for e in events if args["start"] <= e["local_date"] <= args["end"]),
            key=lambda e: (e["at_utc"], e["subject_key"]))


def _event(kind, at, p: Participant, code, status) -> dict:
    local = utc_to_local(at, p.timezone)
    return {"kind": kind, "at_utc": at, "at_local": local.isoformat(), "local_date": local.date(),
            "subject_key": p.subject_key, "participant_id": p.id, "site_code": p.site.code,
            "code": code, "status": status}


@blp.route("/studies/<study_code>/protocol")
class StudyProtocol(MethodView):
    @blp.arguments(AmendmentSchema)
    @blp.response(200, AmendmentResultSchema)
    def post(self, body, study_code):
        """Admin: move the study (or the listed participants) to another protocol version,
        signed electronically (password, and code when set up)."""
        user = current_staff()
        policy.require(user, policy.Capability.administer)
        study = get_study(db_session(), study_code)
        signed = require_signature(user, body["signature"], Meaning.apply_amendment)
        with unit_of_work(staff_actor(user)) as ctx:
            result = amendments.apply_signed_amendment(
                ctx, study, body["version"], body["reason"], body.get("subject_keys"), signed)
        return {"version": body["version"], "participants": result}
