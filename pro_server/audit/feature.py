def register(app, api) -> None:
    from pro_server.audit import routes

    api.register_blueprint(routes.blp)
