"""The service's features, in one explicit list. Each may have a `feature.py` module with:

- `register(app, api)`: blueprints and hooks;
- `JOBS`: periodic jobs (see pro_server.jobs);
- `COMMANDS`: click commands or groups for the `pro` command group (see pro_server.cli);
and a `models.py` whose tables Alembic and the tests must know.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from types import ModuleType

FEATURES = (
    "audit",
    "studies",
    "staff",
    "participants",
    "instruments",
    "schedule",
    "responses",
    "messaging",
    "participant_web",
    "changes",
    "study_folders",
    "dashboard",
    "edc",
)


def _modules(name: str) -> Iterator[ModuleType]:
    for feature in FEATURES:
        module = f"pro_server.{feature}.{name}"
        if importlib.util.find_spec(f"pro_server.{feature}") and importlib.util.find_spec(module):
            yield importlib.import_module(module)


def feature_modules() -> list[ModuleType]:
    return list(_modules("feature"))


def import_all_models() -> None:
    for _ in _modules("models"):
        pass
