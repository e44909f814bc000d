"""Instrument definitions, stateless scoring, and a study's language approvals."""

from flask.views import MethodView

from pro_server.access import policy
from pro_server.api_blueprint import STAFF, STAFF_OR_CLIENT, ApiBlueprint
from pro_server.errors import InvalidInput, NotFound
from pro_server.instruments import languages
from pro_server.instruments.answers import validate_answers
from pro_server.instruments.definitions import (
    UnknownInstrumentError,
    UnsupportedLanguageError,
    default_registry,
)
from pro_server.instruments.schemas import (
    DefinitionArgsSchema,
    InstrumentSummarySchema,
    LanguageApprovalSchema,
    LanguageStatusSchema,
    ScoreRequestSchema,
    ScoreResultSchema,
)
from pro_server.instruments.scoring import score
from pro_server.studies.services import get_study
from pro_server.validation import LANGUAGES
from pro_server.web import (
    context,
    current_actor,
    current_staff,
    db_session,
    staff_actor,
    unit_of_work,
)

blp = ApiBlueprint("instruments", __name__, url_prefix="/api/v1",
                   description="Instruments as data and their scoring", access=STAFF_OR_CLIENT)


def _definition(code: str, version: str | None = None):  # type: ignore[no-untyped-def]
    try:
        return default_registry().get(code, version)
    except UnknownInstrumentError as exc:
        raise NotFound(f"Instrument {code} {version or ''} not found".strip()) from exc


@blp.route("/instruments")
class Instruments(MethodView):
    @blp.response(200, InstrumentSummarySchema(many=True))
    def get(self):
        """Every instrument: code, version, title, languages (validated or not) and scores."""
        current_actor()
        return [
            {"code": d.code, "version": d.version, "title": d.title["en"],
             "languages": {k: dict(v) for k, v in d.languages.items()},
             "score_keys": list(d.score_keys)}
            for d in default_registry().all()
        ]


@blp.route("/instruments/<code>")
class InstrumentByCode(MethodView):
    @blp.arguments(DefinitionArgsSchema, location="query")
    @blp.response(200)
    def get(self, args, code):
        """The full definition in one language (`?lang=es`), items in official order."""
        current_actor()
        definition = _definition(code, args.get("version"))
        try:
            return definition.to_public_dict(args["lang"])
        except UnsupportedLanguageError as exc:
            raise InvalidInput.field("lang", str(exc)) from exc


@blp.route("/instruments/<code>/score")
class InstrumentScore(MethodView):
    @blp.arguments(ScoreRequestSchema)
    @blp.response(200, ScoreResultSchema)
    def post(self, body, code):
        """Score answers without storing anything: every score with its value or reason."""
        current_actor()
        definition = _definition(code, body.get("version"))
        errors = validate_answers(definition, body["answers"], complete=False)
        if errors:
            raise InvalidInput(f"Invalid answers for {code}", {"json": {"answers": errors}})
        return score(definition, body["answers"]).as_dict()


@blp.route("/studies/<study_code>/languages")
class StudyLanguages(MethodView):
    @blp.doc(security=STAFF.security("get"))  # staff only: no EDC client
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

    @blp.doc(security=STAFF.security("post"))
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
