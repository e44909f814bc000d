"""REDCap DDP web services (see `ddp.py`). REDCap calls the URLs its administrator
configures and cannot send an Authorization header, so the EDC client's token is in the URL
(`?token=pro_edc_...`, the "secret in the URL" the DDP specification recommends, with an IP
allow-list at the proxy). Under /webhooks/: server-to-server calls, no session, no CSRF.
"""

from __future__ import annotations

import json

from flask import Response, request
from flask_smorest import Blueprint
from sqlalchemy import select

from pro_server.edc import ddp
from pro_server.edc.auth import authenticate
from pro_server.edc.exports import catalogue_for
from pro_server.edc.models import EdcClient
from pro_server.edc.records import current_query, high_water, stream
from pro_server.edc.routes import _audit
from pro_server.errors import DomainError, Forbidden, NotFound
from pro_server.participants.models import Participant
from pro_server.studies.models import Study
from pro_server.web import db_session

ddp_blp = Blueprint("redcap_ddp", __name__, url_prefix="/webhooks/redcap-ddp/studies",
                    description="REDCap Dynamic Data Pull web services (token in the URL)")
JSON = "application/json"


def _client(study_code: str) -> tuple[EdcClient, Study]:
    session = db_session()
    client = authenticate(session, f"Bearer {request.args.get('token', '')}")
    study = session.scalar(select(Study).where(Study.code == study_code))
    if study is None or study.id != client.study_id:
        raise NotFound(f"Study {study_code} not found")
    return client, study


def _reads(client: EdcClient) -> tuple[bool, bool]:
    items, scores = client.has("responses"), client.has("scores")
    if not (items or scores):
        raise Forbidden("This client needs the scores or responses scope")
    return items, scores


@ddp_blp.route("/<study_code>/metadata", methods=["POST"])
def metadata(study_code: str) -> Response:
    """DDP metadata web service: every source field (form POST: user, project_id, redcap_url)."""
    client, study = _client(study_code)
    items, scores = _reads(client)
    _audit(client, "redcap-ddp/metadata", redcap_user=request.form.get("user", ""),
           redcap_project=request.form.get("project_id", ""))
    fields = ddp.metadata(catalogue_for(study), items=items, scores=scores)
    return Response(_dumps(fields), mimetype=JSON)


@ddp_blp.route("/<study_code>/data", methods=["POST"])
def data(study_code: str) -> Response:
    """DDP data web service: the requested fields of one subject (JSON POST)."""
    client, study = _client(study_code)
    items, scores = _reads(client)
    try:
        record_id, wanted = ddp.parse_request(request.get_json(silent=True))
    except ddp.DdpRequestError as exc:
        raise DomainError(f"Invalid DDP request: {exc}") from exc
    body = request.get_json()
    session = db_session()
    upto = high_water(session, study.id)
    _audit(client, "redcap-ddp/data", redcap_user=body.get("user", ""),
           redcap_project=body.get("project_id", ""), subject=record_id, as_of_seq=upto)
    rows = stream(session, current_query(study.id, upto)
                  .where(Participant.subject_key == record_id))
    values = list(ddp.data(catalogue_for(study), record_id, wanted, rows, items=items,
                           scores=scores))
    return Response(_dumps(values), mimetype=JSON)


@ddp_blp.route("/<study_code>/user-access", methods=["POST"])
def user_access(study_code: str) -> Response:
    """DDP user access web service: "1" when this client may read scored data, else "0"."""
    client, _ = _client(study_code)
    allowed = client.has("scores") or client.has("responses")
    _audit(client, "redcap-ddp/user-access", redcap_user=request.form.get("user", ""),
           allowed=allowed)
    return Response("1" if allowed else "0", mimetype="text/plain")


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
