def register(app, api) -> None:
    from pro_server.participants.routes import blp

    api.register_blueprint(blp)
