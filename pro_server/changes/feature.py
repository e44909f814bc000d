def register(app, api) -> None:
    from pro_server.changes.routes import blp

    api.register_blueprint(blp)
