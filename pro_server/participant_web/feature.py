"""Participant pages and their API; staff endpoints for links and second factors."""

from pro_server.participant_web.cli import participant_link_command

COMMANDS = (participant_link_command,)


def register(app, api) -> None:
    from pro_server.participant_web.pages import bp as pages
    from pro_server.participant_web.routes import blp as participant_api
    from pro_server.participant_web.staff_routes import blp as staff_api

    api.register_blueprint(participant_api)
    api.register_blueprint(staff_api)
    app.register_blueprint(pages)
