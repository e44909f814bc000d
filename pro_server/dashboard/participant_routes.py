"""One participant on the dashboard: timeline, score trends, answers with their history."""

from flask.views import MethodView

from pro_server.access import policy
from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.changes.services import may_decide
from pro_server.dashboard.answers import response_versions
from pro_server.dashboard.schemas import ResponsesSchema, TimelineSchema, TrendsSchema
from pro_server.dashboard.timeline import timeline
from pro_server.dashboard.trends import trends
from pro_server.participants.lookup import load_participant
from pro_server.staff.signed_in import current_staff, staff_actor
from pro_server.web import context, db_session

blp = ApiBlueprint("dashboard_participant", __name__, url_prefix="/api/v1/participants",
                   description="A participant's timeline, score trends and answers (read-only)",
                   access=STAFF)


@blp.route("/<int:participant_id>/timeline")
class Timeline(MethodView):
    @blp.response(200, TimelineSchema)
    def get(self, participant_id):
        """Infusions, survey windows, visits, messages with delivery status, changes, in order."""
        user = current_staff()
        p = load_participant(user, participant_id)
        ctx = context(staff_actor(user))
        return {"participant_id": p.id, "timezone": p.timezone, "as_of": ctx.now(),
                "access": {"write": policy.can_write_site(user, p.site_id),
                           "approve": may_decide(user, p.site_id)},
                "events": timeline(ctx, p)}


@blp.route("/<int:participant_id>/trends")
class Trends(MethodView):
    @blp.response(200, TrendsSchema)
    def get(self, participant_id):
        """Pain, patient global activity, HAQ-DI, RAND-36 scales, PROMIS T-scores over time."""
        user = current_staff()
        return trends(db_session(), load_participant(user, participant_id))


@blp.route("/<int:participant_id>/responses")
class Responses(MethodView):
    @blp.response(200, ResponsesSchema)
    def get(self, participant_id):
        """Every response version with answers and scores; older versions are kept."""
        user = current_staff()
        return response_versions(db_session(), load_participant(user, participant_id))
