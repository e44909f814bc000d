"""Studies: the `pro study` commands (validate, preview, apply a study folder)."""


def register(app, api) -> None:  # type: ignore[no-untyped-def]
    from pro_server.cli import pro_cli
    from pro_server.studies.cli import study_cli

    if study_cli.name not in pro_cli.commands:
        pro_cli.add_command(study_cli)
