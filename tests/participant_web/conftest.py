from __future__ import annotations

import pytest

from tests.participant_web.support import ParticipantClient, token_for


@pytest.fixture
def signed_in(app, demo, ctx_factory):
    """`signed_in("GNV-004")` gives a client with that participant's session open."""

    def make(subject_key: str) -> ParticipantClient:
        client = ParticipantClient(app.test_client())
        response = client.open_session(token_for(ctx_factory(), subject_key))
        assert response.status_code == 200, response.json
        return client

    return make
