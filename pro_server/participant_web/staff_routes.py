"""Staff endpoints for participants' links and second factors, and a study's web settings."""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView

from pro_server.access import policy
from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.errors import Conflict, InvalidInput
from pro_server.participant_web import second_factor
from pro_server.participant_web.schemas import (
    LinkIssueSchema,
    LinkOutSchema,
    RevokeOutSchema,
    RevokeSchema,
    SecondFactorOutSchema,
    SecondFactorSchema,
    StudyWebSettingsSchema,
)
from pro_server.participants.links import issue_link, revoke_links
from pro_server.participants.lookup import load_participant
from pro_server.participants.models import ParticipantStatus
from pro_server.staff.signed_in import current_staff, staff_actor
from pro_server.studies.services import get_study
from pro_server.web import context, db_session, unit_of_work

blp = ApiBlueprint("participant_links", __name__, url_prefix="/api/v1",
                   description="Participants' links and second factor (staff)", access=STAFF)


@blp.route("/participants/<int:participant_id>/link")
class Link(MethodView):
    @blp.alt_response(409, description="Links are for enrolled participants only")
    @blp.arguments(LinkIssueSchema)
    @blp.response(201, LinkOutSchema)
    def post(self, body, participant_id):
        """Issue a new link for the participant; the URL is returned this once (audited).

        With revoke_others, every earlier link stops working (a reason is required)."""
        user = current_staff()
        p = load_participant(user, participant_id, write=True)
        if p.status is not ParticipantStatus.enrolled:
            raise Conflict(f"Links are for enrolled participants, not {p.status.value}")
        if body["revoke_others"] and not body.get("reason"):
            raise InvalidInput.field("reason", "Say why the earlier links are revoked")
        with unit_of_work(staff_actor(user)) as ctx:
            revoked = revoke_links(ctx, p, body["reason"]) if body["revoke_others"] else 0
            url = issue_link(ctx, p, audited=True)
        expires_at = ctx.now() + timedelta(days=ctx.settings.participant_link_ttl_days)
        return {"url": url, "links_revoked": revoked, "expires_at": expires_at}


@blp.route("/participants/<int:participant_id>/link/revoke")
class RevokeLinks(MethodView):
    @blp.arguments(RevokeSchema)
    @blp.response(200, RevokeOutSchema)
    def post(self, body, participant_id):
        """End every link of the participant now (and the sessions they opened); audited."""
        user = current_staff()
        p = load_participant(user, participant_id, write=True)
        with unit_of_work(staff_actor(user)) as ctx:
            return {"links_revoked": revoke_links(ctx, p, body["reason"])}


@blp.route("/participants/<int:participant_id>/second-factor")
class SecondFactor(MethodView):
    @blp.response(200, SecondFactorOutSchema)
    def get(self, participant_id):
        """Which second factor the participant has (never its value) and what the study asks."""
        user = current_staff()
        p = load_participant(user, participant_id)
        ctx = context(staff_actor(user))
        secret = second_factor.secret_of(ctx, p)
        return {"kind": secret.kind if secret else None,
                "study_requires": second_factor.study_setting(ctx, p.study_id)}

    @blp.arguments(SecondFactorSchema)
    @blp.response(200, SecondFactorOutSchema)
    def put(self, body, participant_id):
        """Set the participant's birth year or PIN (stored hashed; audited without the value)."""
        user = current_staff()
        p = load_participant(user, participant_id, write=True)
        with unit_of_work(staff_actor(user)) as ctx:
            second_factor.set_secret(ctx, p, body["kind"], body["value"])
            required = second_factor.study_setting(ctx, p.study_id)
        return {"kind": body["kind"], "study_requires": required}


@blp.route("/studies/<study_code>/participant-web")
class StudyWebSettings(MethodView):
    @blp.response(200, StudyWebSettingsSchema)
    def get(self, study_code):
        """The study's participant-page settings."""
        user = current_staff()
        study = get_study(db_session(), study_code)
        ctx = context(staff_actor(user))
        return {"second_factor": second_factor.study_setting(ctx, study.id)}

    @blp.arguments(StudyWebSettingsSchema)
    @blp.response(200, StudyWebSettingsSchema)
    def put(self, body, study_code):
        """Require a second factor (birth_year or pin) on every participant link, or none.
        Admins only; audited."""
        user = current_staff()
        policy.require(user, policy.Capability.administer)
        study = get_study(db_session(), study_code)
        with unit_of_work(staff_actor(user)) as ctx:
            return {"second_factor": second_factor.set_study_setting(
                ctx, study.id, body["second_factor"])}
