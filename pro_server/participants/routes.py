"""Participant management for staff: enrol, list, read, update, withdraw."""

from flask.views import MethodView
from sqlalchemy import func, select

from pro_server.access import policy
from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.errors import InvalidInput
from pro_server.participants import services
from pro_server.participants.lookup import load_participant
from pro_server.participants.models import Participant
from pro_server.participants.schemas import (
    EnrolSchema,
    ListArgsSchema,
    ParticipantSchema,
    TimeZonesSchema,
    UpdateSchema,
    WithdrawSchema,
)
from pro_server.staff.models import StaffUser
from pro_server.staff.signed_in import current_staff, staff_actor
from pro_server.studies.models import Site
from pro_server.studies.services import get_study, site_by_code
from pro_server.validation import timezone_names
from pro_server.web import db_session, unit_of_work

blp = ApiBlueprint(
    "participants", __name__, url_prefix="/api/v1/participants",
    description="Participants, scoped to the caller's sites", access=STAFF)


def dump(user: StaffUser, p: Participant) -> dict:
    return services.public_view(p, show_contact=policy.can_write_site(user, p.site_id))


@blp.route("")
class Participants(MethodView):
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, ParticipantSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Participants of the sites the caller may read (filters: site, status)."""
        user = current_staff()
        site_ids = policy.readable_site_ids(user)
        query = select(Participant).where(Participant.site_id.in_(site_ids))
        if "study" in args:
            query = query.where(Participant.study_id == get_study(db_session(), args["study"]).id)
        if "site" in args:
            query = query.join(Participant.site).where(Site.code == args["site"])
        if "status" in args:
            query = query.where(Participant.status == args["status"])
        session = db_session()
        pagination_parameters.item_count = session.scalar(
            select(func.count()).select_from(query.subquery())
        )
        rows = session.scalars(
            query.order_by(Participant.subject_key)
            .offset(pagination_parameters.first_item)
            .limit(pagination_parameters.page_size)
        )
        return [dump(user, p) for p in rows]

    @blp.alt_response(409, description="The subject key is already used in the study")
    @blp.arguments(EnrolSchema)
    @blp.response(201, ParticipantSchema)
    def post(self, body):
        """Enrol a participant at one of the caller's sites."""
        user = current_staff()
        policy.require(user, policy.Capability.write_participants)
        session = db_session()
        study = get_study(session, body.pop("study_code", None))
        site = site_by_code(session, study, body.pop("site_code"))
        if not policy.can_write_site(user, site.id):
            raise InvalidInput.field("site_code", f"Unknown site {site.code!r} in {study.code}")
        with unit_of_work(staff_actor(user)) as ctx:
            p = services.enrol(ctx, study, site, body)
        return dump(user, p)


@blp.route("/timezones")
class TimeZones(MethodView):
    @blp.response(200, TimeZonesSchema)
    def get(self):
        """The time zones a participant may have (this server's IANA zoneinfo), for pickers."""
        current_staff()
        return {"timezones": timezone_names()}


@blp.route("/<int:participant_id>")
class ParticipantById(MethodView):
    @blp.response(200, ParticipantSchema)
    def get(self, participant_id):
        """One participant."""
        user = current_staff()
        return dump(user, load_participant(user, participant_id))

    @blp.alt_response(409, description="A withdrawn participant cannot be changed")
    @blp.arguments(UpdateSchema)
    @blp.response(200, ParticipantSchema)
    def patch(self, body, participant_id):
        """Change contact data, language, time zone, reminder time, consent or status."""
        user = current_staff()
        p = load_participant(user, participant_id, write=True)
        with unit_of_work(staff_actor(user)) as ctx:
            services.update(ctx, p, body)
        return dump(user, p)


@blp.route("/<int:participant_id>/withdraw")
class Withdraw(MethodView):
    @blp.alt_response(409, description="The participant is already withdrawn")
    @blp.arguments(WithdrawSchema)
    @blp.response(200, ParticipantSchema)
    def post(self, body, participant_id):
        """Withdraw a participant (reason required); stops their surveys and messages."""
        user = current_staff()
        p = load_participant(user, participant_id, write=True)
        with unit_of_work(staff_actor(user)) as ctx:
            services.withdraw(ctx, p, body["reason"])
        return dump(user, p)
