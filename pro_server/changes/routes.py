"""Data-change requests: coordinators ask, investigators of the site approve or reject."""

from collections.abc import Callable

from flask.views import MethodView
from sqlalchemy import select

from pro_server.access import policy
from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.changes import services
from pro_server.changes.models import ChangeRequest
from pro_server.changes.schemas import (
    ChangeListArgsSchema,
    ChangeRequestCreateSchema,
    ChangeRequestSchema,
    DecisionSchema,
    RejectSchema,
)
from pro_server.changes.views import change_view
from pro_server.errors import NotFound
from pro_server.responses.models import Response
from pro_server.staff.account_routes import require_signature
from pro_server.staff.models import StaffUser
from pro_server.staff.security import Meaning
from pro_server.staff.signed_in import current_staff, staff_actor
from pro_server.studies.models import Site
from pro_server.web import db_session, unit_of_work

blp = ApiBlueprint("changes", __name__, url_prefix="/api/v1/change-requests",
                   description="Requests to change a participant's answer, and their decisions",
                   access=STAFF)


def _dump(user: StaffUser, change: ChangeRequest) -> dict:
    can_decide = (change.status == "pending" and change.requested_by_id != user.id
                  and services.may_decide(user, change.site_id))
    return {**change_view(change), "can_decide": can_decide}


def _load(user: StaffUser, change_id: int) -> ChangeRequest:
    change = db_session().get(ChangeRequest, change_id)
    if change is None:
        raise NotFound("Change request not found")
    policy.check_site(user, change.site_id, what="Change request")
    return change


@blp.route("")
class ChangeRequests(MethodView):
    @blp.arguments(ChangeListArgsSchema, location="query")
    @blp.response(200, ChangeRequestSchema(many=True))
    def get(self, args):
        """Change requests at the caller's sites, newest first (filters: status, participant)."""
        user = current_staff()
        query = select(ChangeRequest).where(
            ChangeRequest.site_id.in_(policy.readable_site_ids(user)))
        if "status" in args:
            query = query.where(ChangeRequest.status == args["status"])
        if "participant_id" in args:
            query = query.where(ChangeRequest.participant_id == args["participant_id"])
        if "site" in args:
            query = query.join(Site, Site.id == ChangeRequest.site_id).where(
                Site.code == args["site"])
        rows = db_session().scalars(query.order_by(ChangeRequest.id.desc()).limit(500))
        return [_dump(user, c) for c in rows]

    @blp.alt_response(409, description="The response has a newer version, or a request for this "
                      "answer is pending")
    @blp.alt_response(404, description="No such participant or response, or not of the caller's "
                      "sites")
    @blp.arguments(ChangeRequestCreateSchema)
    @blp.response(201, ChangeRequestSchema)
    def post(self, body):
        """Ask for one answer to be changed (new value, reason, source); waits for approval."""
        user = current_staff()
        response = db_session().get(Response, body.pop("response_id"))
        if response is None:
            raise NotFound("Response not found")
        policy.check_site(user, response.site_id, write=True, what="Response")
        with unit_of_work(staff_actor(user)) as ctx:
            change = services.request_change(ctx, user, response, **body)
        return _dump(user, change)


@blp.route("/<int:change_id>")
class ChangeRequestById(MethodView):
    @blp.response(200, ChangeRequestSchema)
    def get(self, change_id):
        """One change request."""
        user = current_staff()
        return _dump(user, _load(user, change_id))


@blp.route("/<int:change_id>/approve")
class Approve(MethodView):
    @blp.alt_response(409, description="The answer changed since the request, or it is already "
                      "decided")
    @blp.arguments(DecisionSchema)
    @blp.response(200, ChangeRequestSchema)
    def post(self, body, change_id):
        """Investigator of the site: apply the change as a new response version, signed
        ("I approve this data change": password, and code when set up)."""
        return _decide(change_id, services.approve, body.get("reason"), body["signature"],
                       Meaning.approve_change)


@blp.route("/<int:change_id>/reject")
class Reject(MethodView):
    @blp.alt_response(409, description="The request is already decided")
    @blp.arguments(RejectSchema)
    @blp.response(200, ChangeRequestSchema)
    def post(self, body, change_id):
        """Investigator of the site: refuse the change (reason required), signed
        ("I reject this data change")."""
        return _decide(change_id, services.reject, body["reason"], body["signature"],
                       Meaning.reject_change)


Decision = Callable[..., object]


def _decide(change_id: int, decide: Decision, reason: str | None, signature: dict | None,
            meaning: Meaning) -> dict:
    """An investigator of the change's site approves or rejects it, signing electronically."""
    user = current_staff()
    change = _load(user, change_id)
    policy.check_approver(user, change.site_id)
    signed = require_signature(user, signature, meaning)
    with unit_of_work(staff_actor(user)) as ctx:
        decide(ctx, user, change, reason, signature=signed)
    return _dump(user, change)
