"""Fixtures for the instrument tests: the real definitions and their raw YAML documents."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pro_server.instruments.definitions import (
    QUESTIONNAIRES_DIR,
    InstrumentDefinition,
    InstrumentRegistry,
    load_registry,
)


@pytest.fixture(scope="session")
def registry() -> InstrumentRegistry:
    return load_registry()


@pytest.fixture(scope="session")
def haq(registry: InstrumentRegistry) -> InstrumentDefinition:
    return registry.get("haq_di", "1.0")


@pytest.fixture(scope="session")
def rand36(registry: InstrumentRegistry) -> InstrumentDefinition:
    return registry.get("rand36", "1.0")


@pytest.fixture(scope="session")
def promis(registry: InstrumentRegistry) -> InstrumentDefinition:
    return registry.get("promis_gh", "1.2")


@pytest.fixture(scope="session")
def pain_nrs(registry: InstrumentRegistry) -> InstrumentDefinition:
    return registry.get("pain_nrs", "1.0")


@pytest.fixture(scope="session")
def ptga(registry: InstrumentRegistry) -> InstrumentDefinition:
    return registry.get("ptga_vas", "1.0")


@pytest.fixture(scope="session")
def _raw_documents() -> dict[str, Any]:
    return {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in QUESTIONNAIRES_DIR.glob("*.yaml")
    }


@pytest.fixture
def raw_document(_raw_documents: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
    """A fresh, mutable copy of a definition file's parsed YAML, by file stem."""

    def get(stem: str) -> dict[str, Any]:
        return copy.deepcopy(_raw_documents[stem])

    return get


@pytest.fixture
def questionnaire_file() -> Callable[[str], Path]:
    def get(stem: str) -> Path:
        return QUESTIONNAIRES_DIR / f"{stem}.yaml"

    return get
