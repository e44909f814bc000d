def register(app, api) -> None:
    from pro_server.staff.routes import blp

    api.register_blueprint(blp)
