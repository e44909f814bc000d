"""Demo data so a newcomer sees something real: the first trial, two sites, staff, participants.

The study and its sites come from the example study folder, through `pro study apply`'s
service, like a real study.

All phone numbers are fictional (the 555-01xx range); every change goes through the
services, so the demo also fills the audit trail. Features add their own demo data with a
`load_demo(ctx, study)` function in their `feature.py` (infusions, answers, messages...).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from pro_server.context import Actor, ServiceContext
from pro_server.features import feature_modules
from pro_server.instruments.definitions import EXAMPLE_STUDIES_DIR
from pro_server.participants import services as participants
from pro_server.participants.models import Participant, ParticipantStatus
from pro_server.staff.models import Role
from pro_server.staff.services import create_staff_user
from pro_server.studies.models import Site, Study
from pro_server.study_folders.apply import apply_study_folder
from pro_server.study_folders.folders import load_study_folder

# The first trial's example study folder: study, sites, languages and protocol versions.
DEMO_STUDY_DIR = EXAMPLE_STUDIES_DIR / "res001-dmpm-02"

STAFF = [
    ("admin@example.org", "Ada Admin", Role.admin, []),
    ("coordinator.gnv@example.org", "Gina Coordinator", Role.coordinator, ["GNV"]),
    ("coordinator.mia@example.org", "Mateo Coordinator", Role.coordinator, ["MIA"]),
    ("investigator@example.org", "Ines Investigator", Role.investigator, ["GNV", "MIA"]),
    ("monitor@example.org", "Max Monitor", Role.monitor, ["GNV", "MIA"]),
]
# (subject key, site, language, status, days since enrolment)
PARTICIPANTS = [
    ("GNV-001", "GNV", "en", ParticipantStatus.enrolled, 200),
    ("GNV-002", "GNV", "es", ParticipantStatus.enrolled, 120),
    ("GNV-003", "GNV", "en", ParticipantStatus.enrolled, 40),
    ("GNV-004", "GNV", "en", ParticipantStatus.enrolled, 10),
    ("GNV-005", "GNV", "es", ParticipantStatus.screening, 0),
    ("GNV-006", "GNV", "en", ParticipantStatus.withdrawn, 90),
    ("MIA-001", "MIA", "es", ParticipantStatus.enrolled, 180),
    ("MIA-002", "MIA", "en", ParticipantStatus.enrolled, 95),
    ("MIA-003", "MIA", "es", ParticipantStatus.enrolled, 35),
    ("MIA-004", "MIA", "en", ParticipantStatus.enrolled, 6),
    ("MIA-005", "MIA", "es", ParticipantStatus.completed, 760),
    ("MIA-006", "MIA", "en", ParticipantStatus.screening, 0),
]


@dataclass(frozen=True)
class DemoCredentials:
    email: str
    role: str
    password: str


def load_demo(ctx: ServiceContext, *, enrol: bool = True) -> list[DemoCredentials]:
    """The study, its sites and staff; with `enrol`, the participants too (enrolled today
    with enrolment dates in the past, no history: what tests start from)."""
    study = apply_study_folder(ctx, load_study_folder(DEMO_STUDY_DIR),
                               "Demo: the example study folder of the first trial").study
    sites = {site.code: site for site in study.sites}
    credentials = []
    for email, name, role, site_codes in STAFF:
        password = secrets.token_urlsafe(12)
        create_staff_user(ctx, email=email, name=name, password=password, role=role,
                          sites=[sites[c] for c in site_codes])
        credentials.append(DemoCredentials(email, role.value, password))
    if enrol:
        for n, row in enumerate(PARTICIPANTS, start=1):
            enrolled_on = (ctx.now() - timedelta(days=row[4])).date()
            enrol_demo_participant(ctx, study, sites[row[1]], n, row, enrolled_on)
        ctx.session.flush()
    for module in feature_modules():
        if hasattr(module, "load_demo"):
            module.load_demo(ctx, study)
    return credentials


def enrol_demo_participant(ctx: ServiceContext, study: Study, site: Site, n: int,
                           row: tuple, enrolled_on: date) -> Participant:  # type: ignore[type-arg]
    key, _site_code, lang, status, _days_ago = row
    screening = status is ParticipantStatus.screening
    p = participants.enrol(ctx, study, site, {
        "subject_key": key,
        "status": ParticipantStatus.screening if screening else ParticipantStatus.enrolled,
        "language": lang,
        "timezone": site.timezone,
        "phone": f"+1{site.contact_phone[2:5]}55501{n + 10:02d}",
        "email": None,
        "sms_consent": {"given": True, "source": "demo: consent form signed at site visit"},
        "enrolled_on": None if screening else enrolled_on,
    })
    if status is ParticipantStatus.withdrawn:
        participants.withdraw(ctx, p, "Demo: moved out of state")
    elif status is ParticipantStatus.completed:
        participants.update(ctx, p, {"status": ParticipantStatus.completed,
                                     "reason": "Demo: completed 25 months of follow-up"})
    return p


DEMO_ACTOR = Actor.system("demo")
