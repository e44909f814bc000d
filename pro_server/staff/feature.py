def register(app, api) -> None:
    from pro_server.cli import pro_cli
    from pro_server.staff.account_routes import admin_blp, enforce_restriction
    from pro_server.staff.account_routes import blp as account_blp
    from pro_server.staff.cli import admin_cli
    from pro_server.staff.routes import blp

    api.register_blueprint(blp)
    api.register_blueprint(account_blp)
    api.register_blueprint(admin_blp)
    app.before_request(enforce_restriction)
    if admin_cli.name not in pro_cli.commands:
        pro_cli.add_command(admin_cli)
