from __future__ import annotations

import pytest
from sqlalchemy import select

from pro_server.participants.models import Participant


@pytest.fixture
def ids(app, demo):
    """Participant ids of the demo by subject key."""
    with app.extensions["pro"]["session_factory"]() as session:
        return dict(session.execute(select(Participant.subject_key, Participant.id)).all())


def new_participant(**overrides):
    body = {
        "subject_key": "GNV-101",
        "site_code": "GNV",
        "language": "en",
        "timezone": "America/New_York",
        "phone": "+13525550177",
        "email": "pat.doe@example.com",
        "sms_consent": {"given": True, "source": "ICF v3 signed at screening visit"},
    }
    body.update(overrides)
    return body
