"""Responses have no routes of their own: participants submit through participant_web,
staff read them through the dashboard, the EDC pulls them through edc. They follow the audit
chain: each version takes its sealed event's seq (responses.sealing)."""


def register(app, api) -> None:
    from pro_server.audit.events import SEALED
    from pro_server.responses.sealing import stamp_versions

    app.extensions["pro"]["events"].subscribe(SEALED, "responses", stamp_versions)
