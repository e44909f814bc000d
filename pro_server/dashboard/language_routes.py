"""A study's languages: which instruments are not validated in each, and the admin's audited
approval to collect data in one anyway."""

from flask.views import MethodView

from pro_server.access import policy
from pro_server.api_blueprint import STAFF, ApiBlueprint
from pro_server.instruments.schemas import LanguageApprovalSchema, LanguageStatusSchema
from pro_server.staff.signed_in import current_staff, staff_actor
from pro_server.studies import languages
from pro_server.studies.services import get_study
from pro_server.validation import LANGUAGES
from pro_server.web import context, db_session, unit_of_work

blp = ApiBlueprint("study_languages", __name__, url_prefix="/api/v1",
                   description="A study's languages and their approvals (staff)", access=STAFF)


@blp.route("/studies/<study_code>/languages")
class StudyLanguages(MethodView):
    @blp.response(200, LanguageStatusSchema(many=True))
    def get(self, study_code):
        """Each language: instruments not validated in it, and the study's approval if any."""
        current_staff()
        study = get_study(db_session(), study_code)
        ctx = context(staff_actor(current_staff()))
        rows = []
        for language in LANGUAGES:
            found = languages.approval(ctx, study, language)
            rows.append({
                "language": language,
                "unvalidated_instruments": languages.unvalidated(study, language),
                "approved": found is not None,
                "approved_by": found.approved_by if found else None,
                "approved_at": found.approved_at if found else None,
                "reason": found.reason if found else None,
            })
        return rows

    @blp.alt_response(409, description="The language is already approved for the study")
    @blp.arguments(LanguageApprovalSchema)
    @blp.response(201, LanguageStatusSchema)
    def post(self, body, study_code):
        """Admin override: allow data collection in a language not validated (audited)."""
        user = current_staff()
        policy.require(user, policy.Capability.administer)
        study = get_study(db_session(), study_code)
        with unit_of_work(staff_actor(user)) as ctx:
            row = languages.approve_language(ctx, study, body["language"], body["reason"])
        return {"language": row.language, "approved": True, "approved_by": row.approved_by,
                "approved_at": row.approved_at, "reason": row.reason,
                "unvalidated_instruments": languages.unvalidated(study, row.language)}
