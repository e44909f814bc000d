from pro_server.staff.cli import admin_cli

COMMANDS = (admin_cli,)


def register(app, api) -> None:
    from pro_server.staff.account_routes import admin_blp, enforce_restriction
    from pro_server.staff.account_routes import blp as account_blp
    from pro_server.staff.routes import blp
    from pro_server.staff.signed_in import session_actor
    from pro_server.web import set_session_authenticator

    api.register_blueprint(blp)
    api.register_blueprint(account_blp)
    api.register_blueprint(admin_blp)
    app.before_request(enforce_restriction)
    set_session_authenticator(app, session_actor)
