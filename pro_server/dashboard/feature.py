def register(app, api) -> None:
    from pro_server.dashboard import (
        admin_routes,
        audit_routes,
        language_routes,
        participant_routes,
        report_routes,
        routes,
    )
    from pro_server.dashboard.pages import bp

    api.register_blueprint(routes.blp)
    api.register_blueprint(participant_routes.blp)
    api.register_blueprint(admin_routes.blp)
    api.register_blueprint(report_routes.blp)
    api.register_blueprint(audit_routes.blp)
    api.register_blueprint(language_routes.blp)
    app.register_blueprint(bp)
