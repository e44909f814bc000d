def register(app, api) -> None:
    from pro_server.instruments.routes import blp

    api.register_blueprint(blp)
