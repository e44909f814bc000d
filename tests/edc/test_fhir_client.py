"""Issue 15 acceptance: a FHIR client that nobody here wrote (fhirclient, the SMART on FHIR
Python client, with its strict R4 models) talks to the API over real HTTP: it reads a
participant's responses through search and the Bundle's next links, follows a correction to
_history, and ends with exactly one current version per response."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from datetime import timedelta

import pytest
from fhirclient.models.bundle import Bundle
from fhirclient.models.observation import Observation
from fhirclient.models.questionnaireresponse import QuestionnaireResponse
from fhirclient.server import FHIRServer
from werkzeug.serving import make_server

from pro_server.participants.models import Participant
from tests.edc import support


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    """The server's socket, bound to a port the system picks and listening before the app
    exists (its links must name the port): two test processes cannot pick the same one, as
    they could when each tried a fixed range first ("Address already in use")."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


@pytest.fixture
def port(listening: socket.socket) -> int:
    return listening.getsockname()[1]


@pytest.fixture
def settings(settings, port):
    """Links in the Bundles point at the server the client really talks to."""
    return replace(settings, public_base_url=f"http://127.0.0.1:{port}")


@pytest.fixture
def served(app, port, listening) -> Iterator[str]:
    server = make_server("127.0.0.1", port, app, threaded=True, fd=listening.fileno())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/api/v1/edc/studies/RES001-DMPM-02/fhir"
    server.shutdown()
    thread.join()


def _client(base: str, token: str) -> FHIRServer:
    server = FHIRServer(None, base_uri=base)
    server.session.headers["Authorization"] = f"Bearer {token}"
    return server


def test_a_fhir_client_reads_a_participant_and_follows_a_correction(edc, served):
    server = _client(served, edc.token)
    capability = server.capabilityStatement  # parsed by fhirclient's strict models
    assert capability.fhirVersion == "4.0.1"
    assert server.auth is None or not server.auth.can_sign_headers()

    search = QuestionnaireResponse.where({"subject": "Patient/EDC-G01", "_count": "2"})
    pages = list(search.perform_iter(server))
    assert len(pages) > 2  # really paged, through the next links
    responses = [e.resource for page in pages for e in page.entry or []]
    assert all(isinstance(r, QuestionnaireResponse) for r in responses)
    ids = [r.id for r in responses]
    assert len(ids) == len(set(ids)) == 9  # one current version per response
    assert {r.subject.reference for r in responses} == {"Patient/EDC-G01"}

    amended = [r for r in responses if r.status == "amended"]
    assert [r.id for r in amended] == [f"qr-{edc.corrected.replaces_id}"]
    corrected = amended[0]
    history = Bundle.read_from(f"QuestionnaireResponse/{corrected.id}/_history", server)
    versions = [e.resource for e in history.entry]
    assert [(v.meta.versionId, v.status) for v in versions] == [("2", "amended"),
                                                                ("1", "completed")]
    assert {v.id for v in versions} == {corrected.id}
    first = QuestionnaireResponse.read_from(
        f"QuestionnaireResponse/{corrected.id}/_history/1", server)
    dress = {v.meta.versionId: next(i for i in v.item if i.linkId == "dress")
             for v in (first, corrected)}
    assert dress["1"].answer[0].valueCoding.code != dress["2"].answer[0].valueCoding.code
    assert QuestionnaireResponse.read(corrected.id, server).as_json() == corrected.as_json()

    score = Observation.read(f"obs-{edc.corrected.replaces_id}-haq-di", server)
    assert (score.meta.versionId, score.status) == ("2", "amended")
    assert score.derivedFrom[0].reference == (
        f"QuestionnaireResponse/{corrected.id}/_history/2")


def test_a_fhir_client_syncs_changes_with_last_updated(edc, served, ctx_factory, clock):
    """An incremental consumer: everything once, then only what changed, by _lastUpdated."""
    server = _client(served, edc.token)
    held = {r.id: r for r in QuestionnaireResponse.where({"_count": "10"})
            .perform_resources_iter(server)}
    assert len(held) == 27
    since = max(r.meta.lastUpdated.datetime for r in held.values())
    clock.advance(timedelta(minutes=10))
    ctx = ctx_factory()
    person = ctx.session.query(Participant).filter_by(subject_key="EDC-M01").one()
    support.correct(ctx, support.current(ctx, person, "BASELINE", "pain_nrs"), "pain_nrs", 0)
    ctx.session.commit()
    changed = list(QuestionnaireResponse.where(
        {"_lastUpdated": f"gt{since.isoformat()}", "_count": "10"})
        .perform_resources_iter(server))
    assert [(r.status, r.meta.versionId) for r in changed] == [("amended", "2")]
    assert changed[0].id in held
    held.update({r.id: r for r in changed})
    assert len(held) == 27
