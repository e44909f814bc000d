"""The EDC API: pulls authenticated by client bearer tokens, and client admin for staff."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from sqlalchemy import select

from pro_server.access import policy
from pro_server.api_blueprint import EDC_CLIENT, STAFF, ApiBlueprint
from pro_server.audit.sealing import seal_pending
from pro_server.context import Actor
from pro_server.db import retry_when_sqlite_locked
from pro_server.edc import services
from pro_server.edc.auth import authenticate
from pro_server.edc.exports import Export
from pro_server.edc.models import EdcClient
from pro_server.edc.records import CursorCodec, InvalidCursor, high_water
from pro_server.edc.schemas import (
    EdcClientCreateSchema,
    EdcClientSchema,
    EdcClientWithTokenSchema,
    EdcOdmClinicalArgsSchema,
    EdcPageArgsSchema,
    EdcRevokeSchema,
)
from pro_server.errors import DomainError, Forbidden, NotFound, Unauthorized
from pro_server.schedule.assessments import grace
from pro_server.staff.signed_in import current_staff, staff_actor
from pro_server.studies.models import Study
from pro_server.studies.services import get_study
from pro_server.web import clock, context, db_session, streamed_response, unit_of_work

blp = ApiBlueprint("edc", __name__, url_prefix="/api/v1/edc/studies",
                   description="Scored PRO data for EDC clients (Authorization: Bearer)",
                   access=EDC_CLIENT)
admin_blp = ApiBlueprint("edc_clients", __name__, url_prefix="/api/v1/edc/clients",
                         description="EDC clients (admin staff)", access=STAFF)
CSV = "text/csv"  # Flask adds "; charset=utf-8" to text types


def bearer_actor(token: str) -> Actor | None:
    """The Actor of an active EDC client's token, for endpoints open to any API client (the
    instruments API); None for anything else. Added with ``web.add_bearer_authenticator``."""
    try:
        client = authenticate(db_session(), f"Bearer {token}")
    except Unauthorized:
        return None
    return services.edc_actor(client)


def seal_before_read() -> None:
    """Seal the audit trail before a pull reads, so it sees every response version committed
    before it (a version is exported once its event is sealed: docs/audit-sealing.md)."""
    pro = current_app.extensions["pro"]
    seal_pending(pro["session_factory"], pro["events"])


def _codec() -> CursorCodec:
    return CursorCodec(current_app.config["SECRET_KEY"])


def _pull(study_code: str, *scopes: str) -> tuple[EdcClient, Study]:
    """The calling client and its study: 401 bad token, 404 another study, 403 no scope."""
    session = db_session()
    client = authenticate(session, request.headers.get("Authorization"))
    study = session.scalar(select(Study).where(Study.code == study_code))
    if study is None or study.id != client.study_id:
        raise NotFound(f"Study {study_code} not found")
    if not any(client.has(s) for s in scopes):
        raise Forbidden(f"This client needs one of the scopes: {', '.join(scopes)}")
    return client, study


def _after(study: Study, since: str | None) -> int:
    """The cursor's seq; 400 for a cursor not issued here, or ahead of the study's data."""
    try:
        return _codec().decode(since, study.id, high_water(db_session(), study.id))
    except InvalidCursor as exc:
        raise DomainError(f"Invalid cursor: {exc}") from exc


def _audit(client: EdcClient, what: str, **scope: Any) -> None:
    """Record the pull (and the client's last use) in its own short write transaction.

    Everything before it in the request only read. On SQLite a read transaction cannot be
    upgraded to a write once another connection has committed ("database is locked" at
    once, without waiting), so the write is retried in a fresh transaction.
    """
    for attempt in retry_when_sqlite_locked(db_session()):
        with attempt, unit_of_work(services.edc_actor(client)) as ctx:
            client.last_used_at = ctx.now()
            services.audit_pull(ctx, client, what, **scope)


def _export(client: EdcClient, study: Study, as_of: int | None = None) -> Export:
    settings = current_app.extensions["pro"]["settings"]
    return Export(db_session(), study, clock().now(), items=client.has("responses"),
                  scores=client.has("scores"), as_of=as_of,
                  grace=grace(context(services.edc_actor(client))),
                  sdtmig=settings.sdtmig_version)


def _fhir_base(study: Study) -> str:
    base = current_app.extensions["pro"]["settings"].public_base_url.rstrip("/")
    return f"{base}/api/v1/edc/studies/{study.code}/fhir"


@blp.route("/<study_code>/records")
@blp.arguments(EdcPageArgsSchema, location="query")
@blp.alt_response(200, content_type="application/json",
                  description="A page of response versions and next_cursor")
@blp.alt_response(400, description="The cursor (since) is not one this API gave")
def records(args: dict[str, Any], study_code: str) -> Response:
    """Response versions in commit order, a page at a time; follow `next_cursor`."""
    client, study = _pull(study_code, "scores", "responses")
    after = _after(study, args["since"])
    export = _export(client, study)
    page, last, more = export.page_json(after, args["limit"])
    _audit(client, "records", since_seq=after, until_seq=last, count=len(page))
    head = {"study": study.code, "next_cursor": _codec().encode(study.id, last),
            "has_more": more, "count": len(page)}

    def body() -> Iterable[bytes]:
        yield json.dumps(head)[:-1].encode() + b', "records": ['
        for n, record in enumerate(page):
            yield (b"," if n else b"") + record
        yield b"]}"

    return streamed_response(body(), "application/json")


@blp.route("/<study_code>/odm/metadata")
@blp.alt_response(200, content_type="application/xml", description="CDISC ODM 1.3.2 metadata")
def odm_metadata(study_code: str) -> Response:
    """CDISC ODM 1.3.2 Study/MetaDataVersion: events, forms, items, code lists, methods."""
    client, study = _pull(study_code, "scores", "responses", "adherence")
    _audit(client, "odm/metadata")
    return Response(_export(client, study).odm_metadata(), mimetype="application/xml")


@blp.route("/<study_code>/odm/clinical")
@blp.arguments(EdcOdmClinicalArgsSchema, location="query")
@blp.alt_response(200, content_type="application/xml", description="CDISC ODM 1.3.2 clinical data")
@blp.alt_response(400, description="The cursor (since) is not one this API gave")
def odm_clinical(args: dict[str, Any], study_code: str) -> Response:
    """ODM ClinicalData: Transactional since a cursor (X-Next-Cursor), or `snapshot=1`."""
    client, study = _pull(study_code, "scores", "responses")
    snapshot = args["snapshot"]
    after = 0 if snapshot else _after(study, args["since"])
    upto = high_water(db_session(), study.id)
    _audit(client, "odm/clinical", snapshot=snapshot, since_seq=after, until_seq=upto)
    export = _export(client, study)
    prior = None if snapshot else _prior_file(study, args["since"])
    chunks = export.odm_clinical(after, upto, snapshot=snapshot, prior_file_oid=prior)
    cursor = _codec().encode(study.id, upto, export.odm_file_oid(after, upto, snapshot=snapshot))
    return streamed_response(chunks, "application/xml", f"{study.code}-clinical.xml",
                     {"X-Next-Cursor": cursor})


def _prior_file(study: Study, since: str | None) -> str | None:
    try:
        return _codec().prior_file(since, study.id)
    except InvalidCursor as exc:
        raise DomainError(f"Invalid cursor: {exc}") from exc


def _csv_view(study_code: str, scope: tuple[str, ...], what: str, filename: str,
              build: str, *args: Any) -> Response:
    client, study = _pull(study_code, *scope)
    as_of = high_water(db_session(), study.id)
    _audit(client, what, as_of_seq=as_of)
    chunks = getattr(_export(client, study, as_of), build)(*args)
    mimetype = "application/octet-stream" if filename.endswith(".xpt") else CSV
    return streamed_response(chunks, mimetype, f"{study.code}-{filename}")


DATA = ("scores", "responses")
ANY = ("scores", "responses", "adherence")


@blp.route("/<study_code>/redcap/records.csv")
@blp.alt_response(200, content_type="text/csv", description="REDCap records")
def redcap_records(study_code: str) -> Response:
    """REDCap flat import file (record_id, redcap_event_name, one column per field)."""
    return _csv_view(study_code, DATA, "redcap/records", "redcap-records.csv", "redcap_records")


@blp.route("/<study_code>/redcap/data-dictionary.csv")
@blp.alt_response(200, content_type="text/csv", description="REDCap data dictionary")
def redcap_dictionary(study_code: str) -> Response:
    """REDCap data dictionary matching records.csv."""
    return _csv_view(study_code, ANY, "redcap/data-dictionary", "redcap-data-dictionary.csv",
                     "redcap_dictionary")


@blp.route("/<study_code>/redcap/dags.csv")
@blp.alt_response(200, content_type="text/csv", description="REDCap data access groups")
def redcap_dags(study_code: str) -> Response:
    """REDCap data access groups: one per site (import before records.csv)."""
    return _csv_view(study_code, ANY, "redcap/dags", "redcap-dags.csv", "redcap_dags")


@blp.route("/<study_code>/redcap/events.csv")
@blp.alt_response(200, content_type="text/csv", description="REDCap events")
def redcap_events(study_code: str) -> Response:
    """REDCap events (one per assessment)."""
    return _csv_view(study_code, ANY, "redcap/events", "redcap-events.csv", "redcap_events")


@blp.route("/<study_code>/redcap/instrument-event-mapping.csv")
@blp.alt_response(200, content_type="text/csv", description="REDCap instrument-event mapping")
def redcap_mapping(study_code: str) -> Response:
    """REDCap instrument-event mapping."""
    return _csv_view(study_code, ANY, "redcap/instrument-event-mapping",
                     "redcap-instrument-event-mapping.csv", "redcap_mapping")


SDTM_SCOPES = {"qs": DATA, "ex": ANY, "ds": ANY}


@blp.route("/<study_code>/sdtm/<any(qs, ex, ds):domain>.<any(csv, xpt):fmt>")
@blp.alt_response(200, content_type="application/octet-stream",
                  description="SDTM QS, EX or DS as CSV (text/csv) or SAS XPORT v5")
def sdtm_dataset(study_code: str, domain: str, fmt: str) -> Response:
    """SDTM QS (current data, missed and cancelled assessments NOT DONE), EX (infusions,
    masked) or DS (enrolment, withdrawal), as CSV or SAS XPORT version 5."""
    return _csv_view(study_code, SDTM_SCOPES[domain], f"sdtm/{domain}.{fmt}",
                     f"{domain}.{fmt}", f"sdtm_{fmt}", domain)


@blp.route("/<study_code>/sdtm/define.<any(xml, html):fmt>")
@blp.alt_response(200, content_type="application/xml",
                  description="Define-XML 2.1 (define.xml) or its HTML view (define.html)")
def sdtm_define(study_code: str, fmt: str) -> Response:
    """Define-XML 2.1 of the SDTM datasets (QS, EX, DS), or its readable HTML view."""
    client, study = _pull(study_code, *DATA)
    as_of = high_water(db_session(), study.id)
    _audit(client, f"sdtm/define.{fmt}", as_of_seq=as_of)
    export = _export(client, study, as_of)
    if fmt == "xml":
        return Response(export.define_xml(), mimetype="application/xml")
    return Response(export.define_html(), mimetype="text/html")


@blp.route("/<study_code>/participation")
@blp.alt_response(200, content_type="application/json",
                  description="Participation: enrolment, withdrawal, infusions")
def participation(study_code: str) -> Response:
    """Every participant: enrolment, withdrawal, and each infusion (planned date, given
    date and time, not-given reason); never the product or sequence."""
    client, study = _pull(study_code, *ANY)
    _audit(client, "participation")
    return streamed_response(_export(client, study).participation_json(), "application/json")


@blp.route("/<study_code>/adherence.csv")
@blp.alt_response(200, content_type="text/csv",
                  description="Adherence per participant and assessment")
def adherence_csv(study_code: str) -> Response:
    """One row per assessment window: status, lateness, reminders sent and delivered."""
    client, study = _pull(study_code, "adherence")
    _audit(client, "adherence")
    chunks = _export(client, study).adherence_csv(grace(context(services.edc_actor(client))))
    return streamed_response(chunks, CSV, f"{study.code}-adherence.csv")


# --- client administration (staff session, CSRF) ---------------------------------------------


def _admin():
    user = current_staff()
    policy.require(user, policy.Capability.administer)
    return user


@admin_blp.route("")
class Clients(MethodView):
    @admin_blp.response(200, EdcClientSchema(many=True))
    def get(self):
        """Every EDC client (never their secrets)."""
        user = _admin()
        return services.list_clients(context(staff_actor(user)))

    @admin_blp.alt_response(404, description="No such study")
    @admin_blp.arguments(EdcClientCreateSchema)
    @admin_blp.response(201, EdcClientWithTokenSchema)
    def post(self, body):
        """Create a client for one study; the token is in this answer only."""
        user = _admin()
        study = get_study(db_session(), body["study_code"])
        with unit_of_work(staff_actor(user)) as ctx:
            client, token = services.create_client(ctx, study, body["name"], body["scopes"])
        return services.IssuedClient(client, token)


@admin_blp.route("/<int:client_id>/rotate")
class Rotate(MethodView):
    @admin_blp.alt_response(409, description="A revoked client cannot be rotated")
    @admin_blp.response(200, EdcClientWithTokenSchema)
    def post(self, client_id):
        """A new token for the client; the old one stops working at once."""
        user = _admin()
        with unit_of_work(staff_actor(user)) as ctx:
            client = services.get_client(ctx, client_id)
            token = services.rotate_client(ctx, client)
        return services.IssuedClient(client, token)


@admin_blp.route("/<int:client_id>/revoke")
class Revoke(MethodView):
    @admin_blp.arguments(EdcRevokeSchema)
    @admin_blp.response(200, EdcClientSchema)
    def post(self, body, client_id):
        """Revoke a client (reason required); its token gets 401 from now on."""
        user = _admin()
        with unit_of_work(staff_actor(user)) as ctx:
            client = services.get_client(ctx, client_id)
            services.revoke_client(ctx, client, body["reason"])
        return client
