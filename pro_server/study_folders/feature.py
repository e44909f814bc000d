"""Studies: the `pro study` commands (validate, preview, apply a study folder), and in
production a refusal to start on a study definition changed under collected data."""

from __future__ import annotations

from pro_server.study_folders.cli import study_cli

COMMANDS = (study_cli,)


def register(app, api) -> None:  # type: ignore[no-untyped-def]
    if app.extensions["pro"]["settings"].is_production:
        refuse_unloadable_studies()
        refuse_changed_definitions(app.extensions["pro"]["engine"])


def refuse_unloadable_studies() -> None:
    """ConfigError (one line at start) when the study folders on PRO_STUDIES_PATH do not
    load, rather than an error on the first request that needs a protocol."""
    from pro_server.config import ConfigError
    from pro_server.instruments.definitions import DefinitionError
    from pro_server.instruments.definitions import default_registry as instruments
    from pro_server.protocol.definitions import ProtocolDefinitionError
    from pro_server.protocol.definitions import default_registry as protocols
    from pro_server.study_folders.folders import StudyFolderError

    try:
        protocols()
        instruments()
    except (StudyFolderError, ProtocolDefinitionError, DefinitionError, OSError) as exc:
        raise ConfigError(f"the studies on PRO_STUDIES_PATH do not load ({exc}); check each"
                          " folder with `pro study validate DIR`") from None


def refuse_changed_definitions(engine) -> None:  # type: ignore[no-untyped-def]
    """ConfigError (one line at start) when a protocol version or instrument that data was
    collected under was edited in place on PRO_STUDIES_PATH."""
    from sqlalchemy import inspect
    from sqlalchemy.orm import Session

    from pro_server.config import ConfigError
    from pro_server.study_folders.apply import changed_under_collected_data

    if not inspect(engine).has_table("study_definition_file"):
        return  # not migrated yet: `pro migrate` must still run
    with Session(engine) as session:
        changed = changed_under_collected_data(session)
    if changed:
        raise ConfigError(
            "; ".join(changed) + ". Restore the applied files (a change is published as a"
            " new protocol version, with `pro study apply`)")
