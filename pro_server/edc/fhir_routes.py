"""FHIR R4 REST read API under /api/v1/edc/studies/{study}/fhir/ (thin: fhir_store reads,
fhir builds). Authenticated and scoped exactly like the other EDC pulls, audited the same way;
every answer is application/fhir+json, every error an OperationOutcome."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlencode

from flask import Response, request
from werkzeug.exceptions import HTTPException

from pro_server.api_blueprint import EDC_CLIENT, ApiBlueprint
from pro_server.edc import fhir
from pro_server.edc.fhir_api import (
    FHIR_JSON,
    PageCodec,
    SearchError,
    capability_statement,
    only,
    operation_outcome,
    parse_search,
)
from pro_server.edc.fhir_store import KINDS, FhirStudy
from pro_server.edc.models import EdcClient
from pro_server.edc.records import high_water
from pro_server.edc.routes import (
    ANY,
    DATA,
    _after,
    _audit,
    _codec,
    _export,
    _fhir_base,
    _pull,
)
from pro_server.errors import DomainError, Forbidden, NotFound
from pro_server.web import clock, db_session, request_id, settings, streamed_response

log = logging.getLogger(__name__)
fhir_blp = ApiBlueprint("edc_fhir", __name__, access=EDC_CLIENT, url_prefix="/api/v1/edc/studies",
                     description="FHIR R4 read API of one study (Authorization: Bearer)")
PREFIX = "/<study_code>/fhir"
_KIND = "<any(QuestionnaireResponse, Observation):kind>"


def _fhir(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=FHIR_JSON)


@fhir_blp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    return _fhir(operation_outcome(exc.status, exc.message, exc.errors), exc.status)


@fhir_blp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    return _fhir(operation_outcome(status, exc.description or exc.name), status)


@fhir_blp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error in FHIR request %s", request_id())
    return _fhir(operation_outcome(500, f"Internal error; request id {request_id()}"), 500)


def _args(*allowed: str) -> dict[str, list[str]]:
    args = request.args.to_dict(flat=False)
    errors = only(args, allowed)
    if errors:
        raise SearchError.of(errors)
    return args


def _study(study_code: str, *scopes: str) -> tuple[EdcClient, FhirStudy]:
    client, study = _pull(study_code, *scopes)
    export = _export(client, study)
    return client, export.fhir(_fhir_base(study))


def _open(study_code: str, scopes: tuple[str, ...], what: str, kind: str | None = None,
          **scope: Any) -> FhirStudy:
    """A plain read: no parameters but _format, the client's study and scopes, audited."""
    _args()
    client, store = _study(study_code, *scopes)
    if kind == "Observation" and not client.has("scores"):
        raise Forbidden("Observations (scores) need the scores scope")
    _audit(client, what, **scope)
    return store


def _resource(resource: dict[str, Any]) -> Response:
    """One resource with its version as a weak ETag and its lastUpdated as Last-Modified;
    If-None-Match / If-Modified-Since give 304."""
    response = _fhir(resource)
    meta = resource.get("meta", {})
    if "versionId" in meta:
        response.set_etag(meta["versionId"], weak=True)
    if "lastUpdated" in meta:
        response.last_modified = datetime.fromisoformat(meta["lastUpdated"])
    response.make_conditional(request)  # in place: a 304 when the client's copy is current
    return response


@fhir_blp.route(f"{PREFIX}/metadata")
def metadata(study_code: str) -> Response:
    """CapabilityStatement: exactly the interactions and search parameters served."""
    _args()
    client, study = _pull(study_code, *ANY)
    _audit(client, "fhir/metadata")
    try:
        software = version("pro-server")
    except PackageNotFoundError:
        software = "unknown"
    return _fhir(capability_statement(_fhir_base(study), clock().now(), software))


@fhir_blp.route(f"{PREFIX}/Questionnaire")
def questionnaire_search(study_code: str) -> Response:
    """searchset Bundle of one Questionnaire per instrument of the study."""
    store = _open(study_code, ANY, "fhir/Questionnaire")
    url = f"{store.base_url}/Questionnaire"
    return _fhir(fhir.searchset(store.questionnaires(), store.base_url, clock().now(), url))


@fhir_blp.route(f"{PREFIX}/Questionnaire/<rid>")
def questionnaire_read(study_code: str, rid: str) -> Response:
    """One Questionnaire (an instrument, its current version)."""
    store = _open(study_code, ANY, "fhir/Questionnaire/read", id=rid)
    return _resource(store.questionnaire(rid))


def _query(name: str, description: str) -> dict[str, Any]:
    return {"in": "query", "name": name, "schema": {"type": "string"},
            "description": description}


@fhir_blp.route(f"{PREFIX}/QuestionnaireResponse")
@fhir_blp.doc(parameters=[
    _query("subject", "Patient/<subject key>"),
    _query("_lastUpdated", "gt|ge|lt|le|eq + date or dateTime; repeat for a range"),
    _query("_count", "1-1000, default 50"),
    _query("_revinclude", "Observation:derived-from (needs the scores scope)"),
    _query("_page", "opaque; from the Bundle's next link")])
def response_search(study_code: str) -> Response:
    """searchset Bundle of current QuestionnaireResponses: `subject=Patient/<key>`,
    `_lastUpdated=gt<instant>` (repeatable), `_count`, `_revinclude=Observation:derived-from`;
    follow `link[relation=next]` for the next page."""
    search = parse_search(request.args.to_dict(flat=False))
    client, store = _study(study_code, *DATA)
    if search.revinclude and not client.has("scores"):
        raise Forbidden("_revinclude of Observations (scores) needs the scores scope")
    codec = PageCodec(settings().secret_key)
    if search.page:
        upto, after = codec.decode(search.page, store.study.id)
    else:
        upto, after = high_water(db_session(), store.study.id), 0
    _audit(client, "fhir/QuestionnaireResponse/search", as_of_seq=upto, since_seq=after,
           subject=search.subject)
    matches, included, position = store.search(search, upto, after)
    url = f"{store.base_url}/QuestionnaireResponse"
    self_url = f"{url}?{urlencode(list(search.params) + _page(search.page))}"
    next_url = None
    if position is not None:
        token = codec.encode(store.study.id, upto, position)
        next_url = f"{url}?{urlencode([*search.params, ('_page', token)])}"
    return _fhir(fhir.searchset(matches, store.base_url, clock().now(), self_url, next_url,
                                included=included))


def _page(token: str | None) -> list[tuple[str, str]]:
    return [("_page", token)] if token else []


@fhir_blp.route(f"{PREFIX}/{_KIND}/<rid>")
def read(study_code: str, kind: str, rid: str) -> Response:
    """The current version of a QuestionnaireResponse or Observation."""
    store = _open(study_code, DATA, f"fhir/{kind}/read", kind, id=rid)
    return _resource(store.read(kind, rid))


@fhir_blp.route(f"{PREFIX}/{_KIND}/<rid>/_history")
def history(study_code: str, kind: str, rid: str) -> Response:
    """history Bundle of every version, newest first (FHIR's order)."""
    store = _open(study_code, DATA, f"fhir/{kind}/history", kind, id=rid)
    return _fhir(fhir.history_bundle(store.history(kind, rid), store.base_url, clock().now(),
                                     f"{store.base_url}/{kind}/{rid}/_history"))


@fhir_blp.route(f"{PREFIX}/{_KIND}/<rid>/_history/<vid>")
def vread(study_code: str, kind: str, rid: str, vid: str) -> Response:
    """One version of a QuestionnaireResponse or Observation."""
    store = _open(study_code, DATA, f"fhir/{kind}/vread", kind, id=rid, version=vid)
    return _resource(store.vread(kind, rid, vid))


@fhir_blp.route(f"{PREFIX}/Patient/<rid>")
def patient(study_code: str, rid: str) -> Response:
    """A subject, pseudonymous: its subject key and nothing else."""
    store = _open(study_code, DATA, "fhir/Patient/read", id=rid)
    return _resource(store.patient(rid))


@fhir_blp.route(f"{PREFIX}/_history")
@fhir_blp.doc(parameters=[_query("since", "opaque cursor (X-Next-Cursor)")])
def export(study_code: str) -> Response:
    """Incremental export: every QuestionnaireResponse and Observation version committed
    since the opaque `since` cursor, in commit order (oldest first, so applying the entries
    in order leaves the current versions), as a history Bundle; `X-Next-Cursor` and the
    `next` link continue from here."""
    args = _args("since")
    client, study = _pull(study_code, *DATA)
    since = args.get("since")
    after = _after(study, since[-1] if since else None)
    upto = high_water(db_session(), study.id)
    _audit(client, "fhir/_history", since_seq=after, until_seq=upto)
    cursor = _codec().encode(study.id, upto)
    base = _fhir_base(study)
    next_url = f"{base}/_history?{urlencode({'since': cursor})}"
    chunks = _export(client, study).fhir_history(base, after, upto, next_url)
    return streamed_response(chunks, FHIR_JSON, headers={"X-Next-Cursor": cursor})


@fhir_blp.route(f"{PREFIX}/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unsupported(study_code: str, rest: str) -> Response:
    """Anything else under fhir/: an OperationOutcome saying what is served (405 for writes:
    this server is read-only)."""
    _pull(study_code, *ANY)
    if request.method != "GET":
        response = _fhir(operation_outcome(405, "This FHIR server is read-only"), 405)
        response.headers["Allow"] = "GET, HEAD"
        return response
    supported = ", ".join(["metadata", "Questionnaire", "Patient", "_history", *KINDS])
    raise NotFound(f"{rest} is not served here; see metadata ({supported})")
