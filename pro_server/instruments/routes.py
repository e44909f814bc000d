"""Instrument definitions and stateless scoring, for staff and EDC clients."""

from flask.views import MethodView

from pro_server.api_blueprint import STAFF_OR_CLIENT, ApiBlueprint
from pro_server.errors import InvalidInput, NotFound
from pro_server.instruments.answers import validate_answers
from pro_server.instruments.definitions import (
    UnknownInstrumentError,
    UnsupportedLanguageError,
    default_registry,
)
from pro_server.instruments.schemas import (
    DefinitionArgsSchema,
    InstrumentSummarySchema,
    ScoreRequestSchema,
    ScoreResultSchema,
)
from pro_server.instruments.scoring import score
from pro_server.web import current_actor

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
