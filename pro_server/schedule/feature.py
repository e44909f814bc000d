from pro_server.schedule.jobs import record_window_transitions

JOBS = (("window-transitions", record_window_transitions, 60),)


def register(app, api) -> None:
    from pro_server.schedule import hooks, missed_routes
    from pro_server.schedule.routes import blp

    hooks.subscribe(app.extensions["pro"]["events"])
    api.register_blueprint(blp)
    api.register_blueprint(missed_routes.blp)
