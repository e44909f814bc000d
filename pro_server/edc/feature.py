"""EDC exports: the bearer-authenticated pull API, client admin, and `pro edc-client`."""

from pro_server.edc.cli import edc_client_cli

COMMANDS = (edc_client_cli,)


def register(app, api) -> None:
    from pro_server.edc.ddp_routes import ddp_blp
    from pro_server.edc.fhir_routes import fhir_blp
    from pro_server.edc.routes import admin_blp, bearer_actor, blp, seal_before_read
    from pro_server.extensions import csrf
    from pro_server.web import add_bearer_authenticator, current_request

    csrf.exempt(blp)
    pulls = {blp.name, fhir_blp.name, ddp_blp.name}

    @app.before_request
    def _seal_before_a_pull() -> None:  # before anything in the request reads
        if current_request().blueprint in pulls:
            seal_before_read()

    api.register_blueprint(blp)
    api.register_blueprint(admin_blp)
    # FHIR describes itself (CapabilityStatement at fhir/metadata, OperationOutcome errors)
    # and REDCap's DDP calls follow REDCap's own specification, like Twilio's webhooks:
    # neither belongs in the OpenAPI document, whose error shape they do not use.
    app.register_blueprint(fhir_blp)
    app.register_blueprint(ddp_blp)
    add_bearer_authenticator(app, bearer_actor)
