"""Recording why a participant's survey was missed (acknowledges it on the attention list)."""

from flask.views import MethodView
from sqlalchemy import select

from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.errors import NotFound
from pro_server.participants.lookup import load_participant
from pro_server.schedule.assessments import grace
from pro_server.schedule.missed import reason_label, record_missed_reason
from pro_server.schedule.models import Assessment
from pro_server.schedule.schemas import MissedReasonOutSchema, MissedReasonSchema
from pro_server.staff.signed_in import current_staff, staff_actor
from pro_server.web import db_session, unit_of_work

blp = ApiBlueprint("missed_reasons", __name__, url_prefix="/api/v1",
                   description="Why a survey was missed", access=STAFF)


@blp.route("/participants/<int:participant_id>/assessments/<code>/missed-reason")
class MissedReason(MethodView):
    @blp.alt_response(409, description="The survey is not missed")
    @blp.arguments(MissedReasonSchema)
    @blp.response(200, MissedReasonOutSchema)
    def put(self, body, participant_id, code):
        """Record why survey `code` was missed (fixed reasons; 'other' with text). It leaves
        the attention list, shows on the grid and timeline and goes to the EDC (audited)."""
        user = current_staff()
        p = load_participant(user, participant_id, write=True)
        a = db_session().scalar(select(Assessment).where(
            Assessment.participant_id == p.id, Assessment.code == code))
        if a is None:
            raise NotFound("Assessment not found")
        with unit_of_work(staff_actor(user)) as ctx:
            record_missed_reason(ctx, a, body["reason"], body.get("text"), grace(ctx))
        return {"code": a.code, "missed_reason": a.missed_reason,
                "missed_reason_text": a.missed_reason_text,
                "missed_reason_label": reason_label(a.missed_reason, a.missed_reason_text),
                "missed_reason_at": a.missed_reason_at}
