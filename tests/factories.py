"""Test data arranged through the real services, one way each: enrol a participant through
the service (`enrol_participant`) or over the API as a coordinator's client
(`enrol_over_api`; `new_participant` is the full body, `post_participant` posts any body)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from pro_server.context import ServiceContext
from pro_server.participants import services as participants
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.studies.models import Site, Study

NEW_YORK = "America/New_York"


def enrol_participant(ctx: ServiceContext, key: str, *, study: Study | None = None,
                      site_code: str = "GNV", enrolled_on: date | None = None,
                      language: str = "en", timezone: str = NEW_YORK,
                      phone: str | None = None, sms_consent: bool | None = None,
                      consent_source: str | None = None,
                      reminder_time: str | None = None,
                      reminder_channels: list[str] | None = None) -> Participant:
    """Enrols `key` at `site_code` of `study` (default: the first study) through
    participants.enrol, as a coordinator would. Left as None, `enrolled_on` is today in the
    participant's zone, `reminder_time` the protocol's, `reminder_channels` the default,
    and SMS consent is not recorded."""
    study = study or ctx.session.scalar(select(Study))
    site = ctx.session.scalar(select(Site).where(Site.study_id == study.id,
                                                 Site.code == site_code))
    consent = None if sms_consent is None else {"given": sms_consent, "source": consent_source}
    return participants.enrol(ctx, study, site, {
        "subject_key": key, "status": ParticipantStatus.enrolled, "language": language,
        "timezone": timezone, "phone": phone, "email": None, "sms_consent": consent,
        "reminder_time": reminder_time, "enrolled_on": enrolled_on,
        "reminder_channels": reminder_channels})


def new_participant(**overrides: Any) -> dict[str, Any]:
    """The body of POST /api/v1/participants for GNV-101 at GNV, with SMS consent; a
    coordinator's form, so the HTTP tests see what the API really answers."""
    body: dict[str, Any] = {
        "subject_key": "GNV-101",
        "site_code": "GNV",
        "language": "en",
        "timezone": NEW_YORK,
        "phone": "+13525550177",
        "email": "pat.doe@example.com",
        "sms_consent": {"given": True, "source": "ICF v3 signed at screening visit"},
    }
    body.update(overrides)
    return body


def post_participant(client, body: Any = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    """POST /api/v1/participants as `client`, with `body` as given (good or bad)."""
    return client.post("/api/v1/participants", json=body, **kwargs)


def enrol_over_api(client, key: str, *, timezone: str = NEW_YORK,  # type: ignore[no-untyped-def]
                   enrolled_on: str = "2026-02-20", site_code: str = "GNV",
                   language: str = "en") -> int:
    """Enrols `key` (no phone, no email) over the API as the signed-in `client`; its id."""
    response = post_participant(client, {
        "subject_key": key, "site_code": site_code, "language": language,
        "timezone": timezone, "enrolled_on": enrolled_on})
    assert response.status_code == 201, response.json
    return response.json["id"]
