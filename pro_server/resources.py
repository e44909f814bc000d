"""Where the files the service reads at run time are found: the one place that knows.

The instruments (`questionnaires/`), the Alembic scripts (`migrations/`), the pages
(`static/`), the example studies (`studies/`) and the protocol files live in the checkout's
top-level folders; packaging maps them into the package (`pro_server.questionnaires`,
`pro_server.migrations`, `pro_server.static`, `pro_server.example_studies`, each a folder with
an `__init__.py`; see setup.py), so a wheel carries them and
an editable install finds them in place. Everything is looked up through
`importlib.resources`, never relative to a source file.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path


class ResourceMissingError(LookupError):
    """The installation lacks a resource folder (a broken or partial install)."""


def _folder(package: str) -> Path:
    try:
        found: Traversable = files(package)
    except ModuleNotFoundError as exc:
        raise ResourceMissingError(f"{package} is not installed with pro-server") from exc
    if not isinstance(found, Path):  # Alembic and send_from_directory need real folders
        raise ResourceMissingError(f"{package} is not a folder on disk: {found!r}")
    return found


def questionnaires_dir() -> Path:
    """The instrument definitions (one YAML file per instrument version) and their schema."""
    return _folder("pro_server.questionnaires")


def migrations_dir() -> Path:
    """Alembic's script location (env.py, versions/)."""
    return _folder("pro_server.migrations")


def static_dir(*parts: str) -> Path:
    """The pages: `static_dir("participant")`, `static_dir("dashboard")`."""
    return _folder("pro_server.static").joinpath(*parts)


def example_studies_dir() -> Path:
    """The example study folders (one per study: study.yaml, protocol/), the default of
    PRO_STUDIES_PATH and what `pro study apply` reads on a fresh install."""
    return _folder("pro_server.example_studies")


def protocol_definitions_dir() -> Path:
    """The protocol versions shipped with the package and their JSON schema."""
    return _folder("pro_server.protocol") / "definitions"
