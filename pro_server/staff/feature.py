def register(app, api) -> None:
    from pro_server.cli import pro_cli
    from pro_server.staff.cli import admin_cli
    from pro_server.staff.routes import blp

    api.register_blueprint(blp)
    if admin_cli.name not in pro_cli.commands:
        pro_cli.add_command(admin_cli)
